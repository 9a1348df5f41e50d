"""The sandbox HTTP server: X API v2, Graph API and YouTube Data API v3 on one loopback port.

Routing by path: `/2/...` is X, `/youtube/v3/...` is YouTube, `/_admin/...` drives the sandbox,
anything else is the Graph API (`/v25.0/{id}`, `/{id}/{edge}`, batch `POST /`). Each platform
client points its `base_url` here and keeps its normal HTTP code.

Failure modes (per account, from the scenario or `POST /_admin/failure`) answer in the
platform's own form:

- rate_limited: X 429 with `x-rate-limit-reset`; Graph 400, code 80001, with the
  `x-business-use-case-usage` header (`estimated_time_to_regain_access`); YouTube 403 `quotaExceeded`.
- auth_expired: X 401 problem; Graph 400, code 190 / subcode 463 ("Session has expired");
  YouTube 401 `authError` (400 `keyInvalid` when the request used an API key).
- permission_missing: X 403 problem; Graph 403, code 10; YouTube 403 `forbidden`.
- server_error: X 500 problem; Graph 500, code 1, `is_transient`; YouTube 500 `backendError`.
- truncated: 200 with the first half of the JSON body (all platforms).

Admin endpoints (JSON in, JSON out; the server listens on loopback only):

    GET  /_admin/state                     accounts with native ids, counts, failure modes
    GET  /_admin/requests?since=N          the request log (method, path, account, status)
    POST /_admin/posts      {account, text, at?, ref?, media?, video?, kind?, links?, title?}
    POST /_admin/messages   {account, channel, text, author?, post?, parent?, at?, reply?}
    POST /_admin/replies    {account, message, text, at?}
    POST /_admin/hidden     {account, message, hidden}   the moderators hide (or show) a comment
    POST /_admin/profile    {account, name?, handle?, bio?, description?, avatar?, website?}
    POST /_admin/scheduled  {account, text, at}
    POST /_admin/failure    {account, mode | null, times?, retry_after?, only?, status?}
    GET  /_admin/webhooks                  push subscriptions and the deliveries sent
    POST /_admin/webhooks   {callback, app_secret, verify_token}   (Meta's App Dashboard step)

Push (monitor/sandbox/hooks.py): `POST /{page-id|me}/subscribed_apps` and the WebSub hub at
`POST /pubsubhubbub/subscribe`; new posts and comments are then delivered, signed.
    POST /_admin/oauth      {account, revoke?, expire?}   X OAuth 2.0 grants (monitor/sandbox/oauth.py)
"""

from __future__ import annotations

import json
from collections import deque
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from monitor.clock import utcnow
from monitor.localhttp import LocalServer
from monitor.sandbox.graph_api import GraphApi, GraphError
from monitor.sandbox.hooks import SandboxHooks
from monitor.sandbox.http import Request, Response
from monitor.sandbox.scenario import SAccount, ScenarioError, World, parse_failure, parse_hidden
from monitor.sandbox.x_api import XApi
from monitor.sandbox.youtube_api import YouTubeApi

MAX_BODY = 1024 * 1024
LOG_SIZE = 5000


class SandboxServer:
    """Serve a scenario on loopback; `start()` returns once the port is bound."""

    def __init__(self, world: World, host: str = "127.0.0.1", port: int = 0):
        if host not in {"127.0.0.1", "localhost", "::1"} and not host.startswith("127."):
            raise ValueError("the sandbox listens on loopback only")
        self.world = world
        self.x = XApi(world)
        self.graph = GraphApi(world, dispatch=self.dispatch)
        self.youtube = YouTubeApi(world)
        self.hooks = SandboxHooks()
        self.log: deque[dict[str, Any]] = deque(maxlen=LOG_SIZE)
        self._count = 0
        self._local = LocalServer(_handler_for(self), host=host, port=port, name="socialmon-sandbox")

    @property
    def port(self) -> int:
        return self._local.port

    @property
    def url(self) -> str:
        return self._local.url

    def start(self) -> SandboxServer:
        self._local.start()
        return self

    def serve_forever(self) -> None:
        self._local.httpd.serve_forever()

    def stop(self) -> None:
        self.hooks.close()
        self._local.stop()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    # -- dispatch -------------------------------------------------------------------------

    def platform_of(self, request: Request) -> Any:
        if request.path.startswith("/2/"):
            return self.x
        if request.path.startswith("/youtube/"):
            return self.youtube
        return self.graph

    def dispatch(self, request: Request) -> Response:
        """Answer one platform request, applying the account's failure mode first."""
        if request.path.startswith("/_admin/"):
            return self.admin(request)
        if request.path.startswith("/pubsubhubbub/"):
            status, text = self.hooks.hub_request(request.body, request.now)
            return Response(status, text.encode(), {"content-type": "text/plain; charset=utf-8"})
        if request.method == "POST" and request.path.rstrip("/").endswith("/subscribed_apps"):
            return self._subscribed_apps(request)
        if request.path in {"/2/oauth2/token", "/i/oauth2/authorize"}:
            return self.oauth(request)
        api = self.platform_of(request)
        with self.world.lock:
            account = api.account_for(request)
            failure = account.failure if account else None
            if failure and failure.matches(request.path) and failure.mode != "truncated":
                self._spend(account, failure)
                response: Response = api.failure(failure, request)
                response.account = account
                return response
        response = api.handle(request)
        response.account = response.account or account
        if failure and failure.mode == "truncated" and failure.matches(request.path):
            with self.world.lock:
                self._spend(account, failure)
            body = response.encoded()
            response.body = body[: max(len(body) // 2, 1)]
        return response

    def _subscribed_apps(self, request: Request) -> Response:
        """Install the app on a Page (or the token's own account, `/me`), as Graph does."""
        _version, parts = self.graph.split(request)
        token = self.graph._token(request)
        with self.world.lock:
            if parts and parts[0] == "me":
                account = self.world.by_token(token)
            else:
                node = self.graph.find(parts[0]) if parts else None
                account = node.account if node else None
            if account is None or not token or account.token != token:
                return GraphError(400, "(#200) Permissions error", 200).response()
        form = dict(parse_qsl(request.body.decode("utf-8", "replace")))
        fields = request.query.get("subscribed_fields") or form.get("subscribed_fields", "")
        if not fields:
            return GraphError(400, "(#100) The parameter subscribed_fields is required", 100).response()
        response = Response(200, self.hooks.install(account, fields))
        response.account = account
        return response

    def oauth(self, request: Request) -> Response:
        """X's OAuth 2.0 endpoints (monitor/sandbox/oauth.py)."""
        with self.world.lock:
            if request.path == "/2/oauth2/token" and request.method == "POST":
                status, body = self.world.oauth.token(request.body, request.now)
                return Response(status, body)
            if request.path == "/i/oauth2/authorize" and request.method == "GET":
                handle = request.query.get("as", "")
                account = (
                    self.world.by_handle("x", handle)
                    if handle
                    else next((a for a in self.world.accounts.values() if a.platform == "x"), None)
                )
                if account is None:
                    return Response(400, {"error": "invalid_request", "error_description": "no such account"})
                status, answer = self.world.oauth.authorize(account.key, request.query)
                if status != 302:
                    return Response(status, answer)
                return Response(302, b"", {"location": answer["location"]}, account)
        return Response(405, {"error": "method not allowed"})

    @staticmethod
    def _spend(account: SAccount | None, failure: Any) -> None:
        if account is not None and failure.times is not None:
            failure.times -= 1
            if failure.times <= 0:
                account.failure = None

    def record(self, request: Request, response: Response) -> None:
        with self.world.lock:
            self._count += 1
            self.log.append(
                {
                    "n": self._count,
                    "at": request.now.isoformat(),
                    "method": request.method,
                    "path": request.path,
                    "query": {
                        k: v
                        for k, v in request.query.items()
                        if k not in {"access_token", "key", "input_token"}
                    },
                    "account": response.account.key if response.account else None,
                    "status": response.status,
                }
            )

    # -- admin ----------------------------------------------------------------------------

    def admin(self, request: Request) -> Response:
        action = request.path.removeprefix("/_admin/").strip("/")
        try:
            if request.method == "GET" and action == "state":
                return Response(200, self.state())
            if request.method == "GET" and action == "webhooks":
                return Response(200, self.hooks.state())
            if request.method == "GET" and action == "requests":
                since = request.int_param("since", 0)
                with self.world.lock:
                    return Response(200, {"requests": [r for r in self.log if r["n"] > since]})
            if request.method != "POST":
                return Response(404, {"error": f"no admin endpoint {request.method} /_admin/{action}"})
            spec = json.loads(request.body or b"{}")
            if not isinstance(spec, dict):
                raise ScenarioError("the body must be a JSON object")
            if action == "webhooks":  # outside the world lock: it calls the callback
                return Response(
                    200,
                    self.hooks.configure_meta(
                        str(spec.get("callback", "")),
                        str(spec.get("app_secret", "")),
                        str(spec.get("verify_token", "")),
                    ),
                )
            with self.world.lock:
                return self._admin_change(action, spec, request.now)
        except (ScenarioError, ValueError) as exc:
            return Response(400, {"error": str(exc)})

    def _admin_change(self, action: str, spec: dict[str, Any], now: datetime) -> Response:
        world = self.world
        account = world.account(str(spec.get("account", "")))
        fields = {k: v for k, v in spec.items() if k != "account"}
        if action == "posts":
            post = world.add_post(account, fields, "post", now)
            self.hooks.on_post(account, post, now)
            return Response(201, {"id": post.id, "ref": post.ref, "at": post.at.isoformat()})
        if action == "messages":
            message = world.add_message(account, fields, "message", now)
            self.hooks.on_message(account, message, now)
            return Response(201, {"id": message.id, "ref": message.ref, "at": message.at.isoformat()})
        if action == "replies":
            target = account.message(world.find_ref(account, str(fields.pop("message", ""))))
            if target is None:
                raise ScenarioError("replies: `message` names no inbound message")
            reply = world.add_reply(account, target, fields, "reply", now)
            return Response(201, {"id": reply.id, "at": reply.at.isoformat()})
        if action == "hidden":
            target = account.message(world.find_ref(account, str(fields.get("message", ""))))
            if target is None:
                raise ScenarioError("hidden: `message` names no inbound message")
            target.hidden = parse_hidden(account, target.channel, fields.get("hidden"), "hidden.hidden")
            return Response(200, {"id": target.id, "hidden": target.hidden})
        if action == "profile":
            world.change_profile(account, fields, "profile")
            return Response(200, {"account": account.key})
        if action == "scheduled":
            item = world.add_scheduled(account, fields, "scheduled", now)
            return Response(201, {"id": item.id, "at": item.at.isoformat()})
        if action == "oauth":
            if fields.get("revoke"):
                world.oauth.revoke(account.key)
            if fields.get("expire"):
                world.oauth.expire(account.key, now)
            return Response(200, {"account": account.key, "refreshes": world.oauth.refreshes})
        if action == "failure":
            account.failure = None if not fields.get("mode") else parse_failure(fields, "failure")
            return Response(200, {"account": account.key, "mode": fields.get("mode")})
        return Response(404, {"error": f"no admin endpoint POST /_admin/{action}"})

    def state(self) -> dict[str, Any]:
        with self.world.lock:
            return {
                "scenario": self.world.name,
                "loaded_at": self.world.loaded_at.isoformat(),
                "accounts": [
                    {
                        "key": a.key,
                        "platform": a.platform,
                        "native_id": a.native_id,
                        "handle": a.handle,
                        "name": a.name,
                        "posts": len(a.posts),
                        "inbox": len(a.inbox),
                        "scheduled": len(a.scheduled),
                        "failure": a.failure.mode if a.failure else None,
                    }
                    for a in self.world.accounts.values()
                ],
            }


def _handler_for(server: SandboxServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "socialmon-sandbox"

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the request log keeps it
            return

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(Response(413, {"error": "request body too large"}))
                return
            body = self.rfile.read(length) if length else b""
            split = urlsplit(self.path)
            request = Request(
                method=self.command,
                path=split.path or "/",
                query=dict(parse_qsl(split.query, keep_blank_values=True)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                base_url=f"http://{self.headers.get('Host') or server.url.removeprefix('http://')}",
                now=utcnow(),
            )
            try:
                response = server.dispatch(request)
            except Exception as exc:  # a sandbox bug must show as a 500, not a hung client
                response = Response(500, {"error": f"sandbox error: {type(exc).__name__}: {exc}"})
            server.record(request, response)
            self._send(response)

        def _send(self, response: Response) -> None:
            body = response.encoded()
            self.send_response(response.status)
            headers = {"content-type": "application/json; charset=UTF-8", **response.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
