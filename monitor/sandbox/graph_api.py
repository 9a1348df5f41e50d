"""Meta Graph API (Facebook Pages and Instagram) as the sandbox answers it.

Nodes: Page, IG user, Page post, comment, conversation, message, scheduled post, IG media,
IG comment. Like the real API it returns only the fields asked for (`fields=`, with nested
edges such as `comments.limit(50){id,from,message,comments{...}}`), refuses fields that do not
exist on a node ("(#100) Tried accessing nonexisting field"), pages with cursors
(`paging.cursors.after` and an absolute `paging.next` URL back to the sandbox), filters Page
posts and IG media by `since` / `until`, answers `?ids=` and batch requests, and sends the
`x-app-usage` / `x-business-use-case-usage` headers. Errors are Graph error objects
(`{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`).

Credentials (monitor/sandbox/oauth.py): `GET /debug_token?input_token=` answers a Page token, an IG
account's token or a scenario `system_users` token (type, scopes, granular_scopes, expires_at from
the account's `token_expires`, data_access_expires_at; `is_valid: false` once expired or unknown);
a system user's `/me/accounts` lists its Pages (with `instagram_business_account`); a Page's
`access_token` field is its Page token; an account's `scopes` refuse the edges they lack
(`conversations` without pages_messaging, `scheduled_posts` without pages_manage_posts).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from monitor.sandbox.http import Request, Response, cap, decode_token, encode_token, page, parse_time_param
from monitor.sandbox.oauth import META_SCOPES
from monitor.sandbox.scenario import Failure, SAccount, SMessage, SPost, SScheduled, World

# Edges a token may be refused for lack of a permission (the scenario's `scopes`).
EDGE_PERMISSIONS = {
    "conversations": ("pages_messaging",),
    "scheduled_posts": ("pages_manage_posts",),
    "comments": ("pages_read_user_content",),
}

OLDEST_LIVE_VERSION = (20, 0)  # older versions are answered as this one, as Meta does
MAX_BATCH = 50
_VERSION = re.compile(r"^v(\d{1,2})\.(\d)$")

# Real fields of each node type (what the Graph reference lists); asking for anything else is an
# error, as on the real API. Fields the sandbox has no value for are left out, as Graph does.
KNOWN_FIELDS: dict[str, set[str]] = {
    "page": {
        "id",
        "name",
        "username",
        "about",
        "description",
        "link",
        "website",
        "picture",
        "fan_count",
        "followers_count",
        "category",
        "category_list",
        "hours",
        "emails",
        "phone",
        "cover",
        "verification_status",
        "instagram_business_account",
        "is_published",
        "general_info",
        "single_line_address",
        "published_posts",
        "posts",
        "feed",
        "scheduled_posts",
        "conversations",
        "videos",
        "video_reels",
        "access_token",
        "mission",
        "company_overview",
        "location",
    },
    "ig_user": {
        "id",
        "ig_id",
        "username",
        "name",
        "biography",
        "profile_picture_url",
        "website",
        "media_count",
        "followers_count",
        "follows_count",
        "media",
        "stories",
        "tags",
        "conversations",
        "shopping_product_tag_eligibility",
    },
    "post": {
        "id",
        "message",
        "created_time",
        "updated_time",
        "permalink_url",
        "status_type",
        "attachments",
        "from",
        "is_published",
        "full_picture",
        "story",
        "shares",
        "comments",
        "reactions",
        "likes",
        "message_tags",
        "is_hidden",
        "privacy",
        "icon",
        "parent_id",
        "scheduled_publish_time",
        "is_expired",
        "properties",
        "admin_creator",
        "call_to_action",
        "insights",
        "sharedposts",
    },
    "comment": {
        "id",
        "message",
        "created_time",
        "from",
        "parent",
        "comment_count",
        "permalink_url",
        "like_count",
        "can_comment",
        "can_like",
        "can_hide",
        "can_remove",
        "is_hidden",
        "attachment",
        "message_tags",
        "comments",
        "admin_creator",
        "object",
        "user_likes",
        "reactions",
        "likes",
        "private_reply_conversation",
    },
    "conversation": {
        "id",
        "updated_time",
        "link",
        "message_count",
        "snippet",
        "unread_count",
        "participants",
        "messages",
        "senders",
        "can_reply",
        "is_subscribed",
        "name",
        "former_participants",
        "scoped_thread_key",
    },
    "message": {
        "id",
        "message",
        "created_time",
        "from",
        "to",
        "attachments",
        "tags",
        "sticker",
        "shares",
        "is_unsupported",
    },
    "scheduled": {
        "id",
        "message",
        "created_time",
        "scheduled_publish_time",
        "is_published",
        "permalink_url",
        "from",
        "attachments",
        "full_picture",
        "status_type",
        "updated_time",
        "story",
    },
    "ig_media": {
        "id",
        "caption",
        "media_type",
        "media_product_type",
        "permalink",
        "timestamp",
        "username",
        "comments_count",
        "like_count",
        "media_url",
        "thumbnail_url",
        "owner",
        "shortcode",
        "is_comment_enabled",
        "children",
        "comments",
        "insights",
        "ig_id",
        "is_shared_to_feed",
        "alt_text",
    },
    "ig_comment": {
        "id",
        "text",
        "timestamp",
        "username",
        "from",
        "like_count",
        "hidden",
        "parent_id",
        "media",
        "replies",
        "user",
        "legacy_instagram_comment_id",
    },
}
DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "page": ("name", "id"),
    "ig_user": ("id",),
    "post": ("created_time", "message", "story", "id"),
    "comment": ("created_time", "from", "message", "id"),
    "conversation": ("id", "updated_time", "link"),
    "message": ("id", "created_time"),
    "scheduled": ("created_time", "message", "id"),
    "ig_media": ("id",),
    "ig_comment": ("id", "text", "timestamp"),
}
EDGE_FIELDS = {
    "published_posts",
    "posts",
    "feed",
    "scheduled_posts",
    "conversations",
    "comments",
    "messages",
    "media",
    "replies",
    "videos",
    "video_reels",
    "stories",
    "tags",
    "children",
    "reactions",
    "likes",
    "sharedposts",
    "insights",
}


class GraphError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        code: int,
        subcode: int | None = None,
        type_: str = "OAuthException",
        transient: bool | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.code, self.subcode, self.type, self.transient = (
            status,
            message,
            code,
            subcode,
            type_,
            transient,
        )

    def response(self) -> Response:
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.transient is not None:
            error["is_transient"] = self.transient
        error["fbtrace_id"] = "A" + hashlib.sha1(self.message.encode()).hexdigest()[:20]
        return Response(self.status, {"error": error})


# Graph's own name of each node kind, as its errors spell it.
NODE_TYPES = {
    "page": "Page",
    "ig_user": "IGUser",
    "post": "PagePost",
    "comment": "Comment",
    "conversation": "UnifiedThread",
    "message": "Message",
    "scheduled": "PagePost",
    "ig_media": "IGMedia",
    "ig_comment": "IGComment",
}


def nonexisting_field(name: str, node_kind: str) -> GraphError:
    """Graph's answer to a field or edge the node does not have."""
    return GraphError(
        400, f"(#100) Tried accessing nonexisting field ({name}) on node type ({NODE_TYPES[node_kind]})", 100
    )


# ---------------------------------------------------------------------------------------------
# Field specs: "id,message,comments.limit(10){id,from{name}},attachments{media_type}"


@dataclass
class FieldSpec:
    name: str
    modifiers: dict[str, str]
    children: list[FieldSpec] | None


def parse_fields(text: str) -> list[FieldSpec]:
    specs, rest = _parse_list(text.replace(" ", ""), 0)
    if rest != len(text.replace(" ", "")):
        raise GraphError(
            400,
            f'Syntax error "Expected end of string instead of "{text[rest : rest + 1]}"." at character {rest}: {text}',  # noqa: E501 (the platform's own words)
            2500,
            type_="OAuthException",
        )
    return specs


def _parse_list(text: str, i: int) -> tuple[list[FieldSpec], int]:
    specs: list[FieldSpec] = []
    while i < len(text) and text[i] != "}":
        match = re.match(r"[A-Za-z_][A-Za-z0-9_]*", text[i:])
        if not match:
            raise GraphError(400, f'Syntax error "Expected field name" at character {i}: {text}', 2500)
        name = match.group()
        i += len(name)
        modifiers: dict[str, str] = {}
        while i < len(text) and text[i] == ".":
            mod = re.match(r"\.([A-Za-z_]+)\(([^)]*)\)", text[i:])
            if not mod:
                raise GraphError(400, f'Syntax error "Expected modifier" at character {i}: {text}', 2500)
            modifiers[mod.group(1)] = mod.group(2)
            i += len(mod.group())
        children = None
        if i < len(text) and text[i] == "{":
            children, i = _parse_list(text, i + 1)
            if i >= len(text) or text[i] != "}":
                raise GraphError(400, f'Syntax error "Expected }}" at character {i}: {text}', 2500)
            i += 1
        specs.append(FieldSpec(name, modifiers, children))
        if i < len(text) and text[i] == ",":
            i += 1
    return specs, i


# ---------------------------------------------------------------------------------------------
# Nodes


@dataclass
class Node:
    kind: str
    account: SAccount
    obj: Any  # SAccount | SPost | SMessage | (SMessage, reply) | SScheduled | Conversation
    id: str


@dataclass
class Conversation:
    id: str
    author_id: str
    author_name: str
    messages: list[tuple[str, datetime, str, bool]]  # (id, at, text, from_account)


class GraphApi:
    def __init__(self, world: World, dispatch: Callable[[Request], Response] | None = None):
        self.world = world
        self.dispatch = dispatch  # the server's full handler, for batch items

    # -- entry ----------------------------------------------------------------------------

    def split(self, request: Request) -> tuple[str | None, list[str]]:
        parts = [p for p in request.path.split("/") if p]
        version = None
        if parts and _VERSION.match(parts[0]):
            version = parts.pop(0)
        return version, parts

    def account_for(self, request: Request) -> SAccount | None:
        _, parts = self.split(request)
        if not parts:
            return None
        with self.world.lock:
            node = self.find(parts[0])
        return node.account if node else None

    def handle(self, request: Request) -> Response:
        version, parts = self.split(request)
        headers = {"facebook-api-version": self._served_version(version)}
        try:
            if not self._token(request):
                raise GraphError(
                    400,
                    "An active access token must be used to query information about the current user.",
                    2500,
                )
            with self.world.lock:
                self.world.publish_due(request.now)
                if request.method == "POST" and not parts:
                    return self._batch(request, headers)
                if request.method != "GET":
                    raise GraphError(400, f"Unsupported {request.method.lower()} request.", 100)
                body, account = self._get(request, version, parts)
        except GraphError as exc:
            response = exc.response()
            response.headers.update(headers)
            return response
        headers.update(self._usage_headers(account))
        return Response(200, body, headers, account)

    def failure(self, failure: Failure, request: Request) -> Response:
        account = self.account_for(request)
        if failure.mode == "auth_expired":
            when = request.now.strftime("%A, %d-%b-%y %H:%M:%S UTC")
            error = GraphError(
                400,
                f"Error validating access token: Session has expired on {when}. The current time is {when}.",
                190,
                463,
            )
            response = error.response()
            response.headers["www-authenticate"] = (
                'OAuth "Facebook Platform" "invalid_token" "Error validating access token: Session has expired"'  # noqa: E501 (the platform's own words)
            )
        elif failure.mode == "rate_limited":
            response = GraphError(
                400,
                "(#80001) There have been too many calls to this Page account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",  # noqa: E501 (the platform's own words)
                80001,
                2446079,
            ).response()
            if account:
                minutes = max(1, round(failure.retry_after / 60))
                usage = {
                    account.native_id: [
                        {
                            "type": "pages",
                            "call_count": 100,
                            "total_cputime": 40,
                            "total_time": 60,
                            "estimated_time_to_regain_access": minutes,
                        }
                    ]
                }
                response.headers["x-business-use-case-usage"] = json.dumps(usage, separators=(",", ":"))
        elif failure.mode == "permission_missing":
            response = GraphError(
                403,
                "(#10) This endpoint requires the 'pages_read_engagement' permission or the 'Page Public Content Access' feature.",  # noqa: E501 (the platform's own words)
                10,
            ).response()
        else:
            response = GraphError(500, "An unknown error has occurred.", 1, 99, transient=True).response()
        if failure.status:
            response.status = failure.status
        return response

    @staticmethod
    def _token(request: Request) -> str:
        """The token from the query, an Authorization header, or a form body (facebook-sdk POSTs)."""
        token = request.query.get("access_token") or request.bearer()
        if not token and request.method == "POST" and request.body:
            token = dict(parse_qsl(request.body.decode("utf-8", "replace"))).get("access_token", "")
        return token

    @staticmethod
    def _served_version(version: str | None) -> str:
        match = _VERSION.match(version or "")
        if not match:
            return "v{}.{}".format(*OLDEST_LIVE_VERSION)
        asked = (int(match[1]), int(match[2]))
        return version if asked >= OLDEST_LIVE_VERSION else "v{}.{}".format(*OLDEST_LIVE_VERSION)  # type: ignore[return-value]

    def _usage_headers(self, account: SAccount | None) -> dict[str, str]:
        headers = {"x-app-usage": '{"call_count":1,"total_cputime":1,"total_time":1}'}
        if account is not None:
            usage = {
                account.native_id: [
                    {
                        "type": "pages" if account.platform == "facebook" else "instagram",
                        "call_count": 1,
                        "total_cputime": 1,
                        "total_time": 1,
                        "estimated_time_to_regain_access": 0,
                    }
                ]
            }
            headers["x-business-use-case-usage"] = json.dumps(usage, separators=(",", ":"))
        return headers

    def _get(self, request: Request, version: str | None, parts: list[str]) -> tuple[Any, SAccount | None]:
        fields = parse_fields(request.query["fields"]) if request.query.get("fields") else None
        if not parts:
            ids = [i for i in request.query.get("ids", "").split(",") if i]
            if not ids:
                raise GraphError(
                    400,
                    "Unsupported get request. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
                    100,
                )
            out, account = {}, None
            for object_id in ids:
                node = self._require(object_id)
                account = node.account
                out[object_id] = self.project(node, fields, request, version)
            return out, account
        if parts[0] == "debug_token":
            return {"data": self.token_facts(request.query.get("input_token", ""), request.now)}, None
        system_user = self.world.system_user(self._token(request))
        if parts == ["me", "accounts"] and system_user is not None:
            pages = [self.world.account(key) for key in system_user.pages]
            listed = [self.project(self._require(p.native_id), fields, request, version) for p in pages]
            return {"data": listed, "paging": {"cursors": {"before": "MAA", "after": "MAA"}}}, None
        if len(parts) == 2 and parts[1] in EDGE_PERMISSIONS:
            self._require_permission(request, parts[0], parts[1])
        if parts[0] == "me":  # the Page or IG user the token belongs to
            owner = self.world.by_token(self._token(request))
            if owner is None or owner.platform not in {"facebook", "instagram"}:
                raise GraphError(
                    400,
                    "An active access token must be used to query information about the current user.",
                    2500,
                )
            parts = [owner.native_id, *parts[1:]]
        node = self._require(parts[0])
        if len(parts) == 1:
            return self.project(node, fields, request, version), node.account
        if len(parts) > 2:
            raise GraphError(400, f"Unknown path components: /{'/'.join(parts[1:])}", 2500)
        edge = parts[1]
        return self.edge_page(
            node, edge, request.query, fields, request, version, top_level=True
        ), node.account

    def token_facts(self, token: str, now: datetime) -> dict[str, Any]:
        """`debug_token`'s data for a Page token, an IG account's token or a system-user token."""
        system_user = self.world.system_user(token)
        owner = self.world.by_token(token)
        if system_user is not None:
            kind, scopes, expires = "SYSTEM_USER", system_user.scopes, system_user.expires
            targets = [self.world.account(k).native_id for k in system_user.pages]
        elif owner is not None and owner.platform in META_SCOPES:
            kind, expires = ("PAGE" if owner.platform == "facebook" else "USER"), owner.token_expires
            scopes = owner.scopes if owner.scopes is not None else META_SCOPES[owner.platform]
            targets = [owner.native_id]
        else:
            return {
                "is_valid": False,
                "scopes": [],
                "error": {"code": 190, "message": "Invalid OAuth access token - Cannot parse access token"},
            }
        valid = expires is None or expires > now
        data: dict[str, Any] = {
            "app_id": "100000000000001",
            "type": kind,
            "application": "socialmon sandbox",
            "data_access_expires_at": int((now + timedelta(days=90)).timestamp()),
            "expires_at": int(expires.timestamp()) if expires else 0,
            "is_valid": valid,
            "issued_at": int((now - timedelta(days=1)).timestamp()),
            "scopes": scopes,
            "granular_scopes": [
                {"scope": s, "target_ids": self._targets(system_user, s, targets)}
                for s in scopes
                if s.startswith(("pages_", "instagram_"))
            ],
            "user_id": "100000000000002",
        }
        if owner is not None and owner.platform == "facebook":
            data["profile_id"] = owner.native_id
        if not valid:
            data["error"] = {
                "code": 190,
                "message": "Error validating access token: Session has expired",
                "subcode": 463,
            }
        return data

    def _targets(self, system_user: Any, scope: str, default: list[str]) -> list[str]:
        """The ids a scope is granted for (a system user's `granular` in the scenario narrows it)."""
        if system_user is None or not system_user.granular or scope not in system_user.granular:
            return default
        return [self.world.account(key).native_id for key in system_user.granular[scope]]

    def _require_permission(self, request: Request, object_id: str, edge: str) -> None:
        """A token without the edge's permission is refused, as Graph refuses it."""
        token = self._token(request)
        system_user = self.world.system_user(token)
        owner = self.world.by_token(token)
        if system_user is not None:
            scopes: list[str] | None = system_user.scopes
        else:
            node = self.find(object_id)
            account = owner or (node.account if node else None)
            scopes = account.scopes if account is not None else None
        if scopes is None:
            return
        missing = [p for p in EDGE_PERMISSIONS[edge] if p not in scopes]
        if missing:
            raise GraphError(403, f"(#10) This endpoint requires the '{missing[0]}' permission.", 10)

    def _require(self, object_id: str) -> Node:
        node = self.find(object_id)
        if node is None:
            raise GraphError(
                400,
                f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",  # noqa: E501 (the platform's own words)
                100,
                33,
                type_="GraphMethodException",
            )
        return node

    # -- batch ----------------------------------------------------------------------------

    def _batch(self, request: Request, headers: dict[str, str]) -> Response:
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        form.update({k: v for k, v in request.query.items() if k not in form})
        try:
            items = json.loads(form.get("batch", ""))
        except json.JSONDecodeError:
            raise GraphError(
                400, "(#100) The parameter batch is required and must be a JSON array", 100
            ) from None
        if not isinstance(items, list) or not items:
            raise GraphError(400, "(#100) The parameter batch is required and must be a JSON array", 100)
        if len(items) > MAX_BATCH:
            raise GraphError(
                400, f"(#100) Too many requests in batch message. Maximum batch size is {MAX_BATCH}", 100
            )
        token = form.get("access_token") or request.bearer()
        results = []
        for item in items:
            if not isinstance(item, dict) or "relative_url" not in item:
                raise GraphError(400, "(#100) Each batch request needs a relative_url", 100)
            split = urlsplit("/" + str(item["relative_url"]).lstrip("/"))
            query = dict(parse_qsl(split.query, keep_blank_values=True))
            query.setdefault("access_token", token)
            sub = Request(
                method=str(item.get("method", "GET")).upper(),
                path=split.path,
                query=query,
                headers={},
                body=b"",
                base_url=request.base_url,
                now=request.now,
            )
            answer = self.dispatch(sub) if self.dispatch else self.handle(sub)
            results.append(
                {
                    "code": answer.status,
                    "headers": [{"name": "Content-Type", "value": "text/javascript; charset=UTF-8"}]
                    + [{"name": k, "value": v} for k, v in answer.headers.items()],
                    "body": answer.encoded().decode("utf-8", "replace"),
                }
            )
        return Response(200, results, headers)

    # -- finding nodes --------------------------------------------------------------------

    def find(self, object_id: str) -> Node | None:
        for account in self.world.accounts.values():
            if account.platform not in {"facebook", "instagram"}:
                continue
            if account.native_id == object_id or (
                account.platform == "facebook" and account.handle == object_id
            ):
                return Node(
                    "page" if account.platform == "facebook" else "ig_user", account, account, object_id
                )
            for post in account.posts:
                if post.id == object_id:
                    return Node(
                        "post" if account.platform == "facebook" else "ig_media", account, post, object_id
                    )
            for item in account.scheduled:
                if item.id == object_id:
                    return Node("scheduled", account, item, object_id)
            for message in account.inbox:
                if message.channel == "dm":
                    continue
                if message.id == object_id:
                    return Node(
                        "comment" if account.platform == "facebook" else "ig_comment",
                        account,
                        message,
                        object_id,
                    )
                if message.reply and message.reply.id == object_id:
                    kind = "comment" if account.platform == "facebook" else "ig_comment"
                    return Node(kind, account, ("reply", message), object_id)
            for conversation in self.conversations(account):
                if conversation.id == object_id:
                    return Node("conversation", account, conversation, object_id)
                for mid, at, text, mine in conversation.messages:
                    if mid == object_id:
                        return Node("message", account, (conversation, mid, at, text, mine), object_id)
        return None

    def conversations(self, account: SAccount) -> list[Conversation]:
        threads: dict[str, Conversation] = {}
        for message in account.inbox:
            if message.channel != "dm":
                continue
            digest = hashlib.sha256(f"{account.native_id}/{message.author_id}".encode()).hexdigest()
            cid = (
                ("t_" + str(int(digest[:14], 16)))
                if account.platform == "facebook"
                else ("aWdfZAG06" + digest[:24])
            )
            thread = threads.setdefault(cid, Conversation(cid, message.author_id, message.author_name, []))
            thread.messages.append((message.id, message.at, message.text, False))
            if message.reply:
                thread.messages.append((message.reply.id, message.reply.at, message.reply.text, True))
        for thread in threads.values():
            thread.messages.sort(key=lambda m: m[1], reverse=True)  # newest first, as Graph returns them
        return sorted(threads.values(), key=lambda t: t.messages[0][1], reverse=True)

    # -- edges ----------------------------------------------------------------------------

    def edge_items(self, node: Node, edge: str, params: dict[str, str], now: datetime) -> list[Node]:
        account = node.account
        allowed = {
            "page": {
                "published_posts",
                "posts",
                "feed",
                "scheduled_posts",
                "conversations",
                "videos",
                "video_reels",
            },
            "ig_user": {"media", "conversations", "stories", "tags"},
            "post": {"comments", "reactions", "likes", "sharedposts"},
            "comment": {"comments", "reactions", "likes"},
            "conversation": {"messages"},
            "ig_media": {"comments", "children"},
            "ig_comment": {"replies"},
        }.get(node.kind, set())
        if edge not in allowed:
            raise nonexisting_field(edge, node.kind)
        if node.kind in {"page", "ig_user"} and edge in {
            "published_posts",
            "posts",
            "feed",
            "media",
            "videos",
            "video_reels",
        }:
            posts = [p for p in account.posts if p.at <= now]
            if edge in {"videos", "video_reels"}:
                posts = [p for p in posts if p.video]
            since = _time_param(params, "since")
            until = _time_param(params, "until")
            posts = [p for p in posts if (not since or p.at >= since) and (not until or p.at <= until)]
            kind = "post" if account.platform == "facebook" else "ig_media"
            return [Node(kind, account, p, p.id) for p in posts]
        if edge == "scheduled_posts":
            return [
                Node("scheduled", account, s, s.id)
                for s in sorted(account.scheduled, key=lambda s: s.at)
                if s.at > now
            ]
        if edge == "conversations":
            target = account
            if node.kind == "page" and params.get("platform") == "instagram":
                linked = [
                    a
                    for a in self.world.accounts.values()
                    if a.platform == "instagram" and a.linked_page == account.key
                ]
                if not linked:
                    return []
                target = linked[0]
            elif node.kind == "page" and params.get("platform") not in (None, "", "messenger"):
                raise GraphError(400, "(#100) param platform must be one of {MESSENGER, INSTAGRAM}", 100)
            return [Node("conversation", target, c, c.id) for c in self.conversations(target)]
        if edge == "messages":
            conversation: Conversation = node.obj
            return [Node("message", account, (conversation, *m), m[0]) for m in conversation.messages]
        if edge in {"comments", "replies"}:
            return self._comments(node, params)
        return []  # reactions, likes, children, stories, tags: none in the sandbox

    def _comments(self, node: Node, params: dict[str, str]) -> list[Node]:
        account = node.account
        kind = "comment" if account.platform == "facebook" else "ig_comment"
        order = params.get("order", "chronological")
        if order not in {"chronological", "reverse_chronological", "ranked"}:
            raise GraphError(
                400, "(#100) param order must be one of {CHRONOLOGICAL, REVERSE_CHRONOLOGICAL, RANKED}", 100
            )
        comments: list[tuple[datetime, Node]] = []
        if node.kind in {"post", "ig_media"}:
            post: SPost = node.obj
            stream = params.get("filter") == "stream" and account.platform == "facebook"
            for message in account.inbox:
                if message.channel == "dm" or message.on != post.id:
                    continue
                top_level = message.channel == "comment" or (
                    message.channel == "mention" and not message.parent
                )
                if top_level or stream:
                    comments.append((message.at, Node(kind, account, message, message.id)))
                if stream and message.reply:
                    comments.append(
                        (message.reply.at, Node(kind, account, ("reply", message), message.reply.id))
                    )
        elif node.kind in {"comment", "ig_comment"} and not isinstance(node.obj, tuple):
            top: SMessage = node.obj
            if top.channel in {"comment", "mention"}:
                for message in account.inbox:
                    if message is top or (message.channel == "reply" and message.parent == top.id):
                        if message is not top:
                            comments.append((message.at, Node(kind, account, message, message.id)))
                        if message.reply:
                            comments.append(
                                (message.reply.at, Node(kind, account, ("reply", message), message.reply.id))
                            )
        comments.sort(key=lambda c: c[0], reverse=order == "reverse_chronological")
        return [n for _, n in comments]

    def edge_page(
        self,
        node: Node,
        edge: str,
        params: dict[str, str],
        fields: list[FieldSpec] | None,
        request: Request,
        version: str | None,
        top_level: bool = False,
        modifiers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        modifiers = modifiers or {}
        merged = {**params, **modifiers} if not top_level else params
        items = self.edge_items(node, edge, merged, request.now)
        try:
            limit = int(merged.get("limit", 25))
        except ValueError:
            raise GraphError(400, "(#100) Param limit must be a number", 100) from None
        if limit < 1:
            raise GraphError(400, "(#100) Param limit must be a positive number", 100)
        limit = cap(min(limit, 100), self.world.page_size_cap)
        offset = 0
        if merged.get("after"):
            try:
                offset = decode_token(merged["after"])
            except ValueError:
                raise GraphError(400, "(#100) The after cursor is invalid", 100) from None
        chunk, following = page(items, offset, limit)
        body: dict[str, Any] = {"data": [self.project(n, fields, request, version) for n in chunk]}
        if items:
            paging: dict[str, Any] = {
                "cursors": {
                    "before": encode_token(offset, "b"),
                    "after": encode_token(offset + max(len(chunk) - 1, 0) + 1, "a"),
                }
            }
            if following is not None:
                query = {
                    k: v for k, v in (params if top_level else {}).items() if k not in {"after", "before"}
                }
                if not top_level:  # a nested edge's next page: Meta spells out its modifiers
                    query["access_token"] = self._token(request)
                    query.update({k: v for k, v in modifiers.items() if k != "limit"})
                    query["limit"] = str(limit)
                    if fields is not None:
                        query["fields"] = _unparse(fields)
                query["after"] = encode_token(following, "a")
                path = f"/{version}/{node.id}/{edge}" if version else f"/{node.id}/{edge}"
                paging["next"] = request.url(path, query)
            body["paging"] = paging
        summary = merged.get("summary", "")
        if summary in {"1", "true", "total_count"} and edge in {"comments", "replies"}:
            body["summary"] = {
                "order": merged.get("order", "chronological"),
                "total_count": len(items),
                "can_comment": True,
            }
        return body

    # -- projection -----------------------------------------------------------------------

    def project(
        self, node: Node, fields: list[FieldSpec] | None, request: Request, version: str | None
    ) -> dict[str, Any]:
        known = KNOWN_FIELDS[node.kind]
        specs = fields if fields is not None else [FieldSpec(n, {}, None) for n in DEFAULT_FIELDS[node.kind]]
        values = self.values(node, request)
        out: dict[str, Any] = {}
        for spec in specs:
            if spec.name not in known:
                raise nonexisting_field(spec.name, node.kind)
            if spec.name in EDGE_FIELDS and spec.name not in values:
                edge = self.edge_page(
                    node, spec.name, {}, spec.children, request, version, modifiers=spec.modifiers
                )
                if edge["data"] or spec.modifiers.get("summary"):
                    out[spec.name] = edge
                continue
            if spec.name not in values or values[spec.name] in (None, ""):
                continue
            children = spec.children
            if spec.name == "instagram_business_account" and children is None:
                children = [FieldSpec("id", {}, None)]  # a linked node: its id unless fields are asked
            out[spec.name] = _sub(values[spec.name], children)
        if "id" not in out and fields is not None:
            out["id"] = node.id  # Graph always includes the id
        return out

    def values(self, node: Node, request: Request) -> dict[str, Any]:
        account = node.account
        if node.kind == "page":
            return {
                "id": account.native_id,
                "name": account.name,
                "username": account.handle,
                "about": account.bio,
                "description": account.description,
                "link": f"https://www.facebook.com/{account.handle}",
                "website": account.website,
                "picture": {
                    "data": {"height": 50, "width": 50, "is_silhouette": False, "url": account.avatar}
                },
                "fan_count": 1000,
                "followers_count": 1100,
                "category": "College & university",
                "category_list": [{"id": "2602", "name": "College & university"}],
                "is_published": True,
                "instagram_business_account": self._linked_ig(account),
                "access_token": account.token,
            }
        if node.kind == "ig_user":
            return {
                "id": account.native_id,
                "ig_id": int(account.native_id[-10:]),
                "username": account.handle,
                "name": account.name,
                "biography": account.bio,
                "profile_picture_url": account.avatar,
                "website": account.website,
                "media_count": len(account.posts),
                "followers_count": 900,
                "follows_count": 120,
            }
        if node.kind in {"post", "ig_media"}:
            return self._post_values(node.kind, account, node.obj)
        if node.kind == "scheduled":
            item: SScheduled = node.obj
            return {
                "id": item.id,
                "message": item.text,
                "created_time": graph_time(item.created),
                "scheduled_publish_time": int(item.at.timestamp()),
                "is_published": False,
                "from": {"name": account.name, "id": account.native_id},
            }
        if node.kind in {"comment", "ig_comment"}:
            return self._comment_values(node)
        if node.kind == "conversation":
            conversation: Conversation = node.obj
            newest = conversation.messages[0]
            return {
                "id": conversation.id,
                "updated_time": graph_time(newest[1]),
                "link": f"/{account.native_id}/inbox/{conversation.id.removeprefix('t_')}/",
                "message_count": len(conversation.messages),
                "snippet": newest[2][:100],
                "unread_count": 0 if newest[3] else 1,
                "can_reply": True,
                "participants": {
                    "data": [
                        self._person(account, conversation.author_id, conversation.author_name),
                        self._me(account),
                    ]
                },
                "senders": {
                    "data": [
                        self._person(account, conversation.author_id, conversation.author_name),
                        self._me(account),
                    ]
                },
            }
        if node.kind == "message":
            conversation, mid, at, text, mine = node.obj
            person = self._person(account, conversation.author_id, conversation.author_name)
            sender, recipient = (self._me(account), person) if mine else (person, self._me(account))
            return {
                "id": mid,
                "message": text,
                "created_time": graph_time(at),
                "from": sender,
                "to": {"data": [recipient]},
            }
        return {"id": node.id}

    def _post_values(self, kind: str, account: SAccount, post: SPost) -> dict[str, Any]:
        if kind == "ig_media":
            video = post.video is not None
            return {
                "id": post.id,
                "caption": post.text,
                "timestamp": graph_time(post.at),
                "username": account.handle,
                "media_type": "VIDEO" if video else ("CAROUSEL_ALBUM" if len(post.media) > 1 else "IMAGE"),
                "media_product_type": "REELS" if video else "FEED",
                "permalink": f"https://www.instagram.com/p/{_shortcode(post.id)}/",
                "shortcode": _shortcode(post.id),
                "comments_count": sum(1 for m in account.inbox if m.on == post.id and m.channel != "reply"),
                "like_count": 3,
                "media_url": f"https://sandbox.invalid/media/{post.id}.jpg",
                "owner": {"id": account.native_id},
                "is_comment_enabled": True,
            }
        page_number = post.id.split("_")[-1]
        values: dict[str, Any] = {
            "id": post.id,
            "message": post.text,
            "created_time": graph_time(post.at),
            "updated_time": graph_time(post.at),
            "permalink_url": f"https://www.facebook.com/{account.native_id}/posts/{page_number}/",
            "from": {"name": account.name, "id": account.native_id},
            "is_published": True,
            "is_hidden": False,
            "status_type": "shared_story"
            if post.kind == "share"
            else (
                "added_video"
                if post.video
                else ("added_photos" if post.image or post.media else "mobile_status_update")
            ),
            "privacy": {"value": "EVERYONE", "description": "Public"},
        }
        attachments = []
        for index, name in enumerate(post.media or ([post.id] if post.video or post.image else [])):
            target = str(int(hashlib.sha256(name.encode()).hexdigest()[:15], 16))
            media_type = "video" if post.video else "photo"
            attachments.append(
                {
                    "media_type": media_type,
                    "type": "video_inline" if post.video else "photo",
                    "target": {
                        "id": target,
                        "url": f"https://www.facebook.com/{account.handle}/{media_type}s/{target}/",
                    },
                    "url": f"https://www.facebook.com/{account.handle}/{media_type}s/{target}/",
                    "media": {
                        "image": {
                            "height": 720,
                            "width": 720,
                            "src": f"https://sandbox.invalid/media/{target}-{index}.jpg",
                        }
                    },
                }
            )
        for link in post.links:
            attachments.append(
                {
                    "media_type": "link",
                    "type": "share",
                    "url": link,
                    "unshimmed_url": link,
                    "target": {"url": link},
                }
            )
        if attachments:
            values["attachments"] = {"data": attachments}
        return values

    def _comment_values(self, node: Node) -> dict[str, Any]:
        account = node.account
        facebook = account.platform == "facebook"
        if isinstance(node.obj, tuple):  # the account's reply to `message`
            message: SMessage = node.obj[1]
            assert message.reply is not None
            thread = (
                message.id if message.channel in {"comment", "mention"} else (message.parent or message.id)
            )
            at, text, rid = message.reply.at, message.reply.text, message.reply.id
            author = (
                {"name": account.name, "id": account.native_id}
                if facebook
                else {"id": account.native_id, "username": account.handle}
            )
            parent_id, on = thread, message.on
            username = account.handle
            hidden = False
        else:
            message = node.obj
            at, text, rid = message.at, message.text, message.id
            author = (
                {"name": message.author_name, "id": message.author_id}
                if facebook
                else {"id": message.author_id, "username": _username(message.author_name)}
            )
            parent_id = message.parent if message.channel == "reply" else ""
            on = message.on
            username = _username(message.author_name)
            hidden = message.hidden
        if facebook:
            post_number = on.split("_")[-1]
            children = 0 if parent_id else len([n for n in self._comments(node, {}) if n])
            values = {
                "id": rid,
                "message": text,
                "created_time": graph_time(at),
                "from": author,
                "comment_count": children,
                "like_count": 0,
                "can_comment": not parent_id,
                "can_like": True,
                "can_hide": True,
                "can_remove": True,
                "is_hidden": hidden,
                "permalink_url": _comment_permalink(account.native_id, post_number, rid, parent_id),
                "object": {"id": on},
            }
            if parent_id:
                parent_node = self.find(parent_id)
                parent_at = (
                    parent_node.obj.at if parent_node and not isinstance(parent_node.obj, tuple) else at
                )
                values["parent"] = {
                    "created_time": graph_time(parent_at),
                    "message": parent_node.obj.text
                    if parent_node and not isinstance(parent_node.obj, tuple)
                    else "",
                    "id": parent_id,
                }
            return values
        values = {
            "id": rid,
            "text": text,
            "timestamp": graph_time(at),
            "username": username,
            "from": author,
            "like_count": 0,
            "hidden": hidden,
            "media": {"id": on, "media_product_type": "FEED"},
        }
        if parent_id:
            values["parent_id"] = parent_id
        if author.get("id") == account.native_id:
            values["user"] = {"id": account.native_id}
        return values

    def _linked_ig(self, page_account: SAccount) -> dict[str, str] | None:
        for account in self.world.accounts.values():
            if account.platform == "instagram" and account.linked_page == page_account.key:
                return {"id": account.native_id, "username": account.handle, "name": account.name}
        return None

    def _person(self, account: SAccount, person_id: str, name: str) -> dict[str, str]:
        if account.platform == "instagram":
            return {"username": _username(name), "id": person_id}
        return {"name": name, "email": f"{person_id}@facebook.com", "id": person_id}

    def _me(self, account: SAccount) -> dict[str, str]:
        if account.platform == "instagram":
            return {"username": account.handle, "id": account.native_id}
        return {"name": account.name, "email": f"{account.native_id}@facebook.com", "id": account.native_id}


# ---------------------------------------------------------------------------------------------
# Helpers


def _comment_permalink(page_id: str, post_number: str, comment_id: str, parent_id: str) -> str:
    thread = (parent_id or comment_id).split("_")[-1]
    url = f"https://www.facebook.com/{page_id}/posts/{post_number}/?comment_id={thread}"
    return url + (f"&reply_comment_id={comment_id.split('_')[-1]}" if parent_id else "")


def graph_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _time_param(params: dict[str, str], name: str) -> datetime | None:
    raw = params.get(name)
    if not raw:
        return None
    try:
        return parse_time_param(raw)
    except ValueError:
        raise GraphError(
            400, f"(#100) The parameter {name} must be a unix timestamp or a strtotime string", 100
        ) from None


def _sub(value: Any, children: list[FieldSpec] | None) -> Any:
    """Apply a nested field list to a plain value (from{id,name}, attachments{media_type})."""
    if children is None:
        return value
    names = {c.name: c for c in children}
    if isinstance(value, list):
        return [_sub(v, children) for v in value]
    if isinstance(value, dict):
        if "data" in value and isinstance(value["data"], list | dict):
            return {**value, "data": _sub(value["data"], children)}
        return {k: _sub(v, names[k].children) for k, v in value.items() if k in names}
    return value


def _unparse(specs: list[FieldSpec]) -> str:
    parts = []
    for spec in specs:
        text = spec.name + "".join(f".{k}({v})" for k, v in spec.modifiers.items())
        if spec.children is not None:
            text += "{" + _unparse(spec.children) + "}"
        parts.append(text)
    return ",".join(parts)


def _username(name: str) -> str:
    return re.sub(r"[^a-z0-9_.]", "", name.lower().replace(" ", "_")) or "user"


def _shortcode(native_id: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    number, out = int(native_id), ""
    while number:
        number, rest = divmod(number, 64)
        out = alphabet[rest] + out
    return out[-11:]
