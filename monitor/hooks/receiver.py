"""The webhook receiver: `GET/POST /hooks/meta` and `GET/POST /hooks/youtube`.

Meant to sit behind the university's TLS reverse proxy (`webhooks.listen`, default 127.0.0.1:8081).
Every delivery is checked in this order, and refused at the first failure (counted in
`socialmon_webhook_requests_total{endpoint,outcome}`, never reaching the store):

1. size: a `Content-Length` is required (411) and at most 1 MB (413, the body is not read);
2. signature on the raw body, constant-time: missing 401, malformed or wrong 403;
3. content type: Meta `application/json`, WebSub `application/atom+xml` (415);
4. replay: a body accepted before (within two days) is refused (409);
5. the payload is parsed (400 if it is not what the platform sends) and only names accounts:
   each known account becomes a hint (`HintSink.hint`); nothing in it is stored.

Handshakes: Meta's `hub.mode=subscribe&hub.verify_token=...&hub.challenge=...` is answered with
the challenge when the verify token matches (403 otherwise); a WebSub hub's verification of intent
is answered with the challenge only for the topic socialmon asked for on that account (404
otherwise, as the spec says), and its `hub.lease_seconds` is recorded.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from defusedxml import ElementTree
from prometheus_client import CollectorRegistry, Counter

from monitor.config import Config
from monitor.hooks import verify
from monitor.hooks.subscriptions import topic_for, websub_secret
from monitor.localhttp import serve_in_thread, stop_serving
from monitor.logs import get_logger

log = get_logger(component="hooks")

MAX_BODY = 1024 * 1024
REPLAY_WINDOW = timedelta(days=2)
MAX_SEEN = 500_000
META_FIELDS = {"page": {"feed"}, "instagram": {"comments", "mentions", "live_comments"}}
ATOM = "{http://www.w3.org/2005/Atom}"
YT = "{http://www.youtube.com/xml/schemas/2015}"
TOMBSTONE = "{http://purl.org/atompub/tombstones/1.0}deleted-entry"
WEBSUB_TYPES = {"application/atom+xml", "application/xml", "text/xml"}


class HintSink(Protocol):
    def hint(self, account_id: str, platform: str) -> str: ...


class HookMetrics:
    def __init__(self, registry: CollectorRegistry):
        self.requests = Counter(
            "socialmon_webhook_requests",
            "Webhook requests by endpoint and outcome (accepted, verified, refused_*)",
            ["endpoint", "outcome"],
            registry=registry,
        )
        self.hints = Counter(
            "socialmon_webhook_hints",
            "Hints by platform and what became of them (polled, coalesced, deferred)",
            ["platform", "outcome"],
            registry=registry,
        )


@dataclass
class Answer:
    status: int
    outcome: str
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    close: bool = False


class SeenDeliveries:
    """Digests of accepted deliveries (memory, persisted by the delivery log); thread-safe."""

    def __init__(self, clock: Callable[[], datetime]):
        self.clock = clock
        self._seen: OrderedDict[str, datetime] = OrderedDict()
        self._new: list[tuple[str, datetime]] = []
        self._lock = threading.Lock()

    def load(self, rows: list[tuple[str, datetime]]) -> None:
        with self._lock:
            for digest, at in sorted(rows, key=lambda r: r[1]):
                self._seen[digest] = at

    def first_time(self, digest: str) -> bool:
        """Record `digest`; False when it was seen within the replay window."""
        now = self.clock()
        with self._lock:
            while self._seen:
                _oldest, at = next(iter(self._seen.items()))
                if now - at <= REPLAY_WINDOW and len(self._seen) < MAX_SEEN:
                    break
                self._seen.popitem(last=False)
            if digest in self._seen:
                return False
            self._seen[digest] = now
            self._new.append((digest, now))
            return True

    def take_new(self) -> list[tuple[str, datetime]]:
        with self._lock:
            new, self._new = self._new, []
            return new


class HookApp:
    """The request logic, independent of the HTTP server (tests and the bench call it directly)."""

    def __init__(
        self,
        config: Config,
        hints: HintSink,
        metrics: HookMetrics,
        seen: SeenDeliveries,
        *,
        on_delivery: Callable[[str], None] = lambda _account: None,
        on_verified: Callable[[str, str, int | None], bool] = lambda _a, _t, _l: True,
    ):
        assert config.webhooks is not None
        self.settings = config.webhooks
        self.hints = hints
        self.metrics = metrics
        self.seen = seen
        self.on_delivery = on_delivery
        self.on_verified = on_verified  # (account, mode, lease seconds) -> is this a subscription we want
        enabled = [a for a in config.accounts if a.enabled and a.native_id]
        self.meta_accounts = {
            ("page" if a.platform == "facebook" else "instagram", a.native_id): (a.id, a.platform)
            for a in enabled
            if a.platform in {"facebook", "instagram"}
        }
        self.channels = {a.id: a.native_id or "" for a in enabled if a.platform == "youtube"}

    # --- entry --------------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: dict[str, str], read: Callable[[int], bytes]
    ) -> Answer:
        split = urlsplit(target)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        path = split.path.rstrip("/")
        if path == "/hooks/meta" and self.settings.meta is not None:
            endpoint = "meta"
        elif path == "/hooks/youtube" and self.settings.youtube is not None:
            endpoint = "youtube"
        else:
            return self._count("other", Answer(404, "not_found", b"not found\n"))
        if method == "GET":
            answer = self._meta_handshake(query) if endpoint == "meta" else self._websub_verify(query)
        elif method == "POST":
            answer = self._delivery(endpoint, query, headers, read)
        else:
            answer = Answer(405, "method_not_allowed", b"GET or POST\n")
        return self._count(endpoint, answer)

    def _count(self, endpoint: str, answer: Answer) -> Answer:
        self.metrics.requests.labels(endpoint, answer.outcome).inc()
        return answer

    # --- handshakes ---------------------------------------------------------------------------

    def _meta_handshake(self, query: dict[str, str]) -> Answer:
        assert self.settings.meta is not None
        expected = self.settings.meta.verify_token.get_secret_value()
        challenge = verify.safe_challenge(query.get("hub.challenge"))
        if (
            query.get("hub.mode") != "subscribe"
            or challenge is None
            or not verify.same_secret(query.get("hub.verify_token"), expected)
        ):
            log.warning("refused a Meta verification request (wrong verify token or mode)")
            return Answer(403, "refused_token", b"forbidden\n")
        return Answer(200, "verified", challenge.encode())

    def _websub_verify(self, query: dict[str, str]) -> Answer:
        account_id = query.get("account", "")
        mode = query.get("hub.mode", "")
        channel = self.channels.get(account_id)
        wanted = channel is not None and query.get("hub.topic") == topic_for(channel)
        if mode == "denied" and wanted:
            self.on_verified(account_id, "denied", None)
            return Answer(200, "denied", b"")
        challenge = verify.safe_challenge(query.get("hub.challenge"))
        if not wanted or mode not in {"subscribe", "unsubscribe"} or challenge is None:
            return Answer(404, "refused_topic", b"not found\n")
        lease = query.get("hub.lease_seconds", "")
        seconds = int(lease) if lease.isdigit() else None
        if not self.on_verified(account_id, mode, seconds):
            return Answer(404, "refused_topic", b"not found\n")
        return Answer(200, "verified", challenge.encode())

    # --- deliveries ---------------------------------------------------------------------------

    def _delivery(
        self, endpoint: str, query: dict[str, str], headers: dict[str, str], read: Callable[[int], bytes]
    ) -> Answer:
        length_text = headers.get("content-length")
        if "chunked" in headers.get("transfer-encoding", "").lower() or not (length_text or "").isdigit():
            return Answer(411, "refused_length", b"Content-Length required\n", close=True)
        length = int(length_text or 0)
        if length > MAX_BODY:
            return Answer(413, "refused_size", b"body larger than 1 MB\n", close=True)
        body = read(length)
        if len(body) != length:
            return Answer(400, "bad_payload", b"body shorter than Content-Length\n", close=True)
        if endpoint == "meta":
            return self._meta_delivery(headers, body)
        return self._websub_delivery(query, headers, body)

    def _signed(
        self, header: str | None, secret: str, body: bytes, allowed: tuple[str, ...]
    ) -> Answer | None:
        problem = verify.check_signature(header, secret, body, allowed)
        if problem == "missing":
            return Answer(401, "refused_unsigned", b"signature required\n")
        if problem:
            return Answer(403, "refused_signature", b"bad signature\n")
        return None

    def _fresh(self, body: bytes) -> Answer | None:
        if not self.seen.first_time(verify.body_digest(body)):
            log.warning("refused a replayed webhook delivery")
            return Answer(409, "refused_replay", b"already received\n")
        return None

    def _meta_delivery(self, headers: dict[str, str], body: bytes) -> Answer:
        assert self.settings.meta is not None
        refused = self._signed(
            headers.get("x-hub-signature-256"),
            self.settings.meta.app_secret.get_secret_value(),
            body,
            ("sha256",),
        )
        if refused:
            log.warning("refused a Meta delivery", reason=refused.outcome)
            return refused
        if _media_type(headers) != "application/json":
            return Answer(415, "refused_content_type", b"application/json expected\n")
        if refused := self._fresh(body):
            return refused
        try:
            named = meta_accounts_named(json.loads(body))
        except (ValueError, TypeError, AttributeError):
            return Answer(400, "bad_payload", b"not a Graph webhook payload\n")
        self._hint_all([self.meta_accounts[key] for key in named if key in self.meta_accounts])
        return Answer(200, "accepted", b"ok\n")

    def _websub_delivery(self, query: dict[str, str], headers: dict[str, str], body: bytes) -> Answer:
        assert self.settings.youtube is not None
        account_id = query.get("account", "")
        channel = self.channels.get(account_id)
        if channel is None:
            return Answer(404, "not_found", b"no such subscription\n")
        secret = websub_secret(self.settings.youtube.secret.get_secret_value(), topic_for(channel))
        refused = self._signed(headers.get("x-hub-signature"), secret, body, tuple(verify.WEBSUB_METHODS))
        if refused:
            log.warning("refused a WebSub delivery", reason=refused.outcome, account=account_id)
            return refused
        if _media_type(headers) not in WEBSUB_TYPES:
            return Answer(415, "refused_content_type", b"application/atom+xml expected\n")
        if refused := self._fresh(body):
            return refused
        try:
            channels = atom_channels(body)
        except ElementTree.ParseError:
            return Answer(400, "bad_payload", b"not an Atom feed\n")
        except Exception:  # defusedxml refuses entities and DTDs with its own exceptions
            return Answer(400, "bad_payload", b"not an Atom feed\n")
        if channel in channels or not channels:  # a tombstone may name only the video
            self._hint_all([(account_id, "youtube")])
        return Answer(200, "accepted", b"ok\n")

    def _hint_all(self, accounts: list[tuple[str, str]]) -> None:
        for account_id, platform in dict.fromkeys(accounts):
            self.on_delivery(account_id)
            outcome = self.hints.hint(account_id, platform)
            self.metrics.hints.labels(platform, outcome).inc()


def _media_type(headers: dict[str, str]) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def meta_accounts_named(payload: Any) -> set[tuple[str, str]]:
    """(object, entry id) pairs of a Graph webhook payload whose changes concern us.

    Shape (Graph webhooks; Instagram examples also put `field`/`value` on the entry itself):
    {"object": "page"|"instagram", "entry": [{"id": ..., "time": ..., "changes": [{"field", "value"}]}]}
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise ValueError("no entry list")
    kind = payload.get("object")
    fields = META_FIELDS.get(str(kind), set())
    named: set[tuple[str, str]] = set()
    for entry in payload["entry"]:
        if not isinstance(entry, dict):
            raise ValueError("entry is not an object")
        changes = entry.get("changes")
        changed = (
            [c.get("field") for c in changes if isinstance(c, dict)] if isinstance(changes, list) else []
        )
        if "field" in entry:
            changed.append(entry.get("field"))
        if fields.intersection(str(f) for f in changed):
            named.add((str(kind), str(entry.get("id", ""))))
    return named


def atom_channels(body: bytes) -> set[str]:
    """Channel ids named by a YouTube WebSub Atom notification (`yt:channelId` of each entry)."""
    root = ElementTree.fromstring(body, forbid_dtd=True)
    if root.tag != f"{ATOM}feed":
        raise ElementTree.ParseError("not an Atom feed")
    channels = {(e.text or "").strip() for e in root.iter(f"{YT}channelId")}
    return {c for c in channels if c}


class HookServer:
    """Serves a HookApp on `webhooks.listen` (HTTP/1.1 keep-alive, a thread per connection)."""

    def __init__(self, app: HookApp, host: str, port: int):
        self.app = app
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(app))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def start(self) -> HookServer:
        self._thread = serve_in_thread(self._httpd, "socialmon-hooks")  # a stop costs 0.05 s, not 0.5 s
        log.info("webhook receiver listening", port=self.port)
        return self

    def stop(self) -> None:
        stop_serving(self._httpd, self._thread)


def _handler_for(app: HookApp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "socialmon-hooks"
        timeout = 30  # a client that stops sending is dropped, not waited for
        # Headers and body leave in two writes: without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK hold each answer ~40 ms (measured: 88 deliveries/s instead of >1,000).
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def log_message(self, format: str, *args: Any) -> None:  # metrics and our own lines say it
            return

        def _serve(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                answer = app.handle(self.command, self.path, headers, self.rfile.read)
            except Exception as exc:  # a bug must not leave the hub waiting
                log.error("webhook request failed", error=type(exc).__name__)
                answer = Answer(500, "error", b"error\n", close=True)
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            if answer.close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(answer.body)

    return Handler
