"""X API v2 as the sandbox answers it: users, user tweets, mentions, DM events, tweet lookup.

Shapes follow the recorded responses (tweepy cassettes, twarc2 pages): `data` + `meta`
(`result_count`, `newest_id`, `oldest_id`, `next_token`), `includes` for expansions, default
fields only unless `tweet.fields` / `user.fields` / `dm_event.fields` ask for more, and the
`x-rate-limit-*` headers on every answer. Errors are RFC 7807-style problem objects.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Any

from monitor.sandbox.http import Request, Response, cap, decode_token, encode_token, page
from monitor.sandbox.scenario import Failure, SAccount, SMessage, SPost, World

# 15-minute windows, per user (PLATFORMS.md c.)
RATE_LIMITS = {"tweets": 900, "mentions": 300, "dm_events": 300, "users": 900, "lookup": 900}
TWEET_DEFAULT = ("id", "text", "edit_history_tweet_ids")
TWEET_FIELDS = {
    "attachments",
    "author_id",
    "context_annotations",
    "conversation_id",
    "created_at",
    "edit_controls",
    "entities",
    "geo",
    "in_reply_to_user_id",
    "lang",
    "non_public_metrics",
    "organic_metrics",
    "possibly_sensitive",
    "promoted_metrics",
    "public_metrics",
    "referenced_tweets",
    "reply_settings",
    "source",
    "withheld",
    "note_tweet",
    "edit_history_tweet_ids",
    "id",
    "text",
}
USER_DEFAULT = ("id", "name", "username")
USER_FIELDS = {
    "created_at",
    "description",
    "entities",
    "id",
    "location",
    "name",
    "pinned_tweet_id",
    "profile_image_url",
    "protected",
    "public_metrics",
    "url",
    "username",
    "verified",
    "verified_type",
    "withheld",
    "most_recent_tweet_id",
}
DM_DEFAULT = ("id", "event_type", "text")
DM_FIELDS = {
    "attachments",
    "created_at",
    "dm_conversation_id",
    "entities",
    "event_type",
    "id",
    "participant_ids",
    "referenced_tweets",
    "sender_id",
    "text",
}
_ROUTES = (
    (re.compile(r"^/2/users/by/username/(?P<username>[^/]+)$"), "user_by_username"),
    (re.compile(r"^/2/users/by$"), "users_by_usernames"),
    (re.compile(r"^/2/users/me$"), "me"),
    (re.compile(r"^/2/users/(?P<id>\d+)/tweets$"), "tweets"),
    (re.compile(r"^/2/users/(?P<id>\d+)/mentions$"), "mentions"),
    (re.compile(r"^/2/users/(?P<id>\d+)$"), "user"),
    (re.compile(r"^/2/users$"), "users"),
    (re.compile(r"^/2/dm_events$"), "dm_events"),
    (re.compile(r"^/2/dm_conversations/with/(?P<participant>\d+)/dm_events$"), "dm_with"),
    (re.compile(r"^/2/dm_conversations/(?P<conversation>[\d-]+)/dm_events$"), "dm_conversation"),
    (re.compile(r"^/2/tweets/(?P<id>\d+)$"), "tweet"),
    (re.compile(r"^/2/tweets$"), "tweet_lookup"),
)


class XApi:
    def __init__(self, world: World):
        self.world = world
        self._windows: dict[tuple[str, str], tuple[datetime, int]] = {}

    # -- routing --------------------------------------------------------------------------

    def route(self, request: Request) -> tuple[str, dict[str, str]] | None:
        if request.method != "GET":
            return None
        for pattern, name in _ROUTES:
            match = pattern.match(request.path)
            if match:
                return name, match.groupdict()
        return None

    def account_for(self, request: Request) -> SAccount | None:
        """Which scenario account a request is about (for failures and the request log)."""
        found = self.route(request)
        if not found:
            return None
        name, args = found
        if "id" in args and name in {"tweets", "mentions", "user"}:
            return self.world.by_native("x", args["id"])
        if name == "user_by_username":
            return self.world.by_handle("x", args["username"])
        if name in {"me", "dm_events", "dm_with", "dm_conversation"}:
            return self.world.by_token(request.bearer())
        return None

    def handle(self, request: Request) -> Response:
        grant = self.world.oauth.access.get(request.bearer())
        if grant is not None and grant.expires <= request.now:
            return problem(401, "Unauthorized", "Unauthorized")  # an expired OAuth 2.0 user token
        if not request.bearer():
            return problem(401, "Unauthorized", "Unauthorized")
        found = self.route(request)
        if not found:
            return problem(404, "Not Found Error", f"Sorry, that page does not exist: {request.path}")
        name, args = found
        with self.world.lock:
            try:
                response = getattr(self, "_" + name)(request, **args)
            except ValueError as exc:
                return invalid_request(str(exc))
        bucket = (
            "tweets"
            if name == "tweets"
            else "mentions"
            if name == "mentions"
            else (
                "dm_events"
                if name.startswith("dm")
                else "users"
                if "user" in name or name == "me"
                else "lookup"
            )
        )
        response.headers.update(self._rate_headers(request, bucket))
        return response

    def failure(self, failure: Failure, request: Request) -> Response:
        reset = int((request.now + timedelta(seconds=failure.retry_after)).timestamp())
        if failure.mode == "rate_limited":
            response = problem(429, "Too Many Requests", "Too Many Requests")
            response.headers.update(
                {"x-rate-limit-limit": "300", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}
            )
        elif failure.mode == "auth_expired":
            response = problem(401, "Unauthorized", "Unauthorized")
        elif failure.mode == "permission_missing":
            response = problem(
                403,
                "Forbidden",
                "You are not permitted to perform this action.",
                "https://api.twitter.com/2/problems/not-authorized-for-resource",
            )
        else:
            response = problem(500, "Internal Server Error", "Internal Server Error")
        if failure.status:
            response.status = failure.status
        return response

    def _rate_headers(self, request: Request, bucket: str) -> dict[str, str]:
        key = (request.bearer(), bucket)
        window_end, used = self._windows.get(key, (request.now + timedelta(minutes=15), 0))
        if window_end <= request.now:
            window_end, used = request.now + timedelta(minutes=15), 0
        used += 1
        self._windows[key] = (window_end, used)
        limit = RATE_LIMITS[bucket]
        return {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(max(limit - used, 0)),
            "x-rate-limit-reset": str(int(window_end.timestamp())),
        }

    # -- users ----------------------------------------------------------------------------

    def _user_by_username(self, request: Request, username: str) -> Response:
        account = self.world.by_handle("x", username)
        if account is None:
            return Response(200, {"errors": [not_found("user", "username", username)]})
        return self._with_user_includes(request, {"data": self.user(account, request)}, account)

    def _users_by_usernames(self, request: Request) -> Response:
        names = [n for n in request.query.get("usernames", "").split(",") if n]
        if not names:
            raise ValueError("The query parameters [usernames] is required")
        data, errors = [], []
        for name in names:
            account = self.world.by_handle("x", name)
            if account:
                data.append(self.user(account, request))
            else:
                errors.append(not_found("user", "usernames", name))
        return Response(200, _compact({"data": data or None, "errors": errors or None}))

    def _user(self, request: Request, id: str) -> Response:
        account = self.world.by_native("x", id)
        if account is None:
            return Response(200, {"errors": [not_found("user", "id", id)]})
        return self._with_user_includes(request, {"data": self.user(account, request)}, account)

    def _users(self, request: Request) -> Response:
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        data = [self.user(a, request) for i in ids if (a := self.world.by_native("x", i))]
        errors = [not_found("user", "ids", i) for i in ids if not self.world.by_native("x", i)]
        return Response(200, _compact({"data": data or None, "errors": errors or None}))

    def _me(self, request: Request) -> Response:
        account = self.world.by_token(request.bearer())
        if account is None or account.platform != "x":
            return unsupported_authentication()
        return Response(200, {"data": self.user(account, request)})

    def _with_user_includes(self, request: Request, body: dict[str, Any], account: SAccount) -> Response:
        if "pinned_tweet_id" in _list(request, "expansions") and account.posts:
            body["includes"] = {"tweets": [self.tweet_of_post(account, account.posts[0], request)]}
        return Response(200, body)

    def user(self, account: SAccount, request: Request) -> dict[str, Any]:
        full = {
            "id": account.native_id,
            "name": account.name,
            "username": account.handle,
            "description": account.bio,
            "profile_image_url": account.avatar,
            "created_at": "2010-03-01T09:00:00.000Z",
            "protected": False,
            "verified": False,
            "url": account.website,
            "location": "Cymru / Wales",
            "public_metrics": {
                "followers_count": 1200,
                "following_count": 300,
                "tweet_count": len(account.posts),
                "listed_count": 12,
            },
            "entities": {"description": _entities(account.bio)} if account.bio else {},
        }
        if account.posts:
            full["most_recent_tweet_id"] = account.posts[0].id
        return _select(full, USER_DEFAULT, _fields(request, "user.fields", USER_FIELDS))

    # -- tweets ---------------------------------------------------------------------------

    def _tweets(self, request: Request, id: str) -> Response:
        account = self.world.by_native("x", id)
        if account is None:
            return Response(200, {"errors": [not_found("user", "id", id)]})
        excluded = set(_list(request, "exclude"))
        if excluded - {"replies", "retweets"}:
            raise ValueError("The `exclude` query parameter value is not one of [replies, retweets]")
        items: list[dict[str, Any]] = []
        for post in account.posts:
            if post.kind == "share" and "retweets" in excluded:
                continue
            items.append(self.tweet_of_post(account, post, request, full=True))
        if "replies" not in excluded:
            for message in account.inbox:
                if message.reply and message.channel != "dm":
                    items.append(self.tweet_of_reply(account, message, request, full=True))
        return self._timeline(request, items, limit_max=100)

    def _mentions(self, request: Request, id: str) -> Response:
        account = self.world.by_native("x", id)
        if account is None:
            return Response(200, {"errors": [not_found("user", "id", id)]})
        items = [
            self.tweet_of_mention(account, m, request, full=True) for m in account.inbox if m.channel != "dm"
        ]
        return self._timeline(request, items, limit_max=100)

    def _timeline(self, request: Request, items: list[dict[str, Any]], limit_max: int) -> Response:
        size = request.int_param("max_results", 10)
        if not 5 <= size <= limit_max:
            raise ValueError(
                f"The `max_results` query parameter value [{size}] is not between 5 and {limit_max}"
            )
        since_id = request.query.get("since_id")
        until_id = request.query.get("until_id")
        start = _time(request, "start_time")
        end = _time(request, "end_time")
        selected = []
        for item in sorted(items, key=lambda t: int(t["id"]), reverse=True):
            if since_id and int(item["id"]) <= int(since_id):
                continue
            if until_id and int(item["id"]) >= int(until_id):
                continue
            created = item["_created"]
            if (start and created < start) or (end and created > end):
                continue
            selected.append(item)
        offset = _offset(request, "pagination_token")
        chunk, following = page(selected, offset, cap(size, self.world.page_size_cap))
        return Response(200, self._tweet_body(request, chunk, following))

    def _tweet_body(
        self, request: Request, chunk: list[dict[str, Any]], following: int | None
    ) -> dict[str, Any]:
        fields = _fields(request, "tweet.fields", TWEET_FIELDS)
        expansions = set(_list(request, "expansions"))
        meta: dict[str, Any] = {"result_count": len(chunk)}
        if chunk:
            meta["newest_id"] = chunk[0]["id"]
            meta["oldest_id"] = chunk[-1]["id"]
        if following is not None:
            meta["next_token"] = encode_token(following, "x")
        if not chunk:
            return {"meta": meta}
        body: dict[str, Any] = {"data": [_select(t, TWEET_DEFAULT, fields) for t in chunk], "meta": meta}
        includes = self._includes(request, chunk, expansions)
        if includes:
            body["includes"] = includes
        return body

    def _includes(
        self, request: Request, chunk: list[dict[str, Any]], expansions: set[str]
    ) -> dict[str, Any]:
        includes: dict[str, Any] = {}
        if "attachments.media_keys" in expansions:
            media = {m["media_key"]: m for t in chunk for m in t["_media"]}
            if media:
                includes["media"] = list(media.values())
        user_ids: list[str] = []
        for key in ("author_id", "in_reply_to_user_id", "entities.mentions.username"):
            if key in expansions:
                for tweet in chunk:
                    if key == "entities.mentions.username":
                        user_ids += [
                            m["id"] for m in tweet.get("entities", {}).get("mentions", []) if "id" in m
                        ]
                    elif tweet.get(key):
                        user_ids.append(tweet[key])
        if user_ids:
            includes["users"] = [self._user_stub(uid, request) for uid in dict.fromkeys(user_ids)]
        if "referenced_tweets.id" in expansions:
            refs = [r["id"] for t in chunk for r in t.get("referenced_tweets", [])]
            found = [t for r in dict.fromkeys(refs) if (t := self._find_tweet(r, request))]
            if found:
                includes["tweets"] = [
                    _select(t, TWEET_DEFAULT, _fields(request, "tweet.fields", TWEET_FIELDS)) for t in found
                ]
        return includes

    def _user_stub(self, user_id: str, request: Request) -> dict[str, Any]:
        account = self.world.by_native("x", user_id)
        if account:
            return self.user(account, request)
        name = next(
            (m.author_name for a in self.world.accounts.values() for m in a.inbox if m.author_id == user_id),
            "someone",
        )
        return {"id": user_id, "name": name, "username": re.sub(r"\W", "", name) or "user" + user_id[-4:]}

    def _tweet(self, request: Request, id: str) -> Response:
        tweet = self._find_tweet(id, request)
        if tweet is None:
            return Response(200, {"errors": [not_found("tweet", "id", id)]})
        body = self._tweet_body(request, [tweet], None)
        body["data"] = body["data"][0]
        body.pop("meta", None)
        return Response(200, body)

    def _tweet_lookup(self, request: Request) -> Response:
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        if not ids:
            raise ValueError("The query parameters [ids] is required")
        found = [t for i in ids if (t := self._find_tweet(i, request))]
        body = self._tweet_body(request, found, None)
        body.pop("meta", None)
        errors = [not_found("tweet", "ids", i) for i in ids if not self._find_tweet(i, request)]
        if errors:
            body["errors"] = errors
        return Response(200, body)

    def _find_tweet(self, tweet_id: str, request: Request) -> dict[str, Any] | None:
        for account in self.world.accounts.values():
            if account.platform != "x":
                continue
            for post in account.posts:
                if post.id == tweet_id:
                    return self.tweet_of_post(account, post, request, full=True)
            for message in account.inbox:
                if message.channel == "dm":
                    continue
                if message.id == tweet_id:
                    return self.tweet_of_mention(account, message, request, full=True)
                if message.reply and message.reply.id == tweet_id:
                    return self.tweet_of_reply(account, message, request, full=True)
        return None

    def tweet_of_post(
        self, account: SAccount, post: SPost, request: Request, full: bool = False
    ) -> dict[str, Any]:
        text = post.text
        refs = []
        if post.kind == "share":
            text = f"RT @{account.handle}: {post.text}"
            refs = [{"type": "retweeted", "id": str(int(post.id) - 7)}]  # the original lives elsewhere
        elif post.kind == "quote":
            refs = [{"type": "quoted", "id": str(int(post.id) - 11)}]
        media = _media(post)
        tweet = _tweet(post.id, text, post.at, account.native_id, post.id, refs, None, post.links, media)
        tweet["_media"] = media
        return tweet

    def tweet_of_mention(
        self, account: SAccount, message: SMessage, request: Request, full: bool = False
    ) -> dict[str, Any]:
        text = message.text
        if f"@{account.handle}".lower() not in text.lower():
            text = f"@{account.handle} {text}"
        refs = [{"type": "replied_to", "id": message.on}] if message.on else []
        in_reply_to = account.native_id if message.on else None
        tweet = _tweet(
            message.id,
            text,
            message.at,
            message.author_id,
            message.on or message.id,
            refs,
            in_reply_to,
            [],
            [],
        )
        tweet["entities"].setdefault("mentions", [])
        for mention in tweet["entities"]["mentions"]:
            if mention["username"].lower() == account.handle.lower():
                mention["id"] = account.native_id
        tweet["_media"] = []
        return tweet

    def tweet_of_reply(
        self, account: SAccount, message: SMessage, request: Request, full: bool = False
    ) -> dict[str, Any]:
        assert message.reply is not None
        author = self._user_stub(message.author_id, request)["username"]
        text = message.reply.text
        if not text.startswith("@"):
            text = f"@{author} {text}"
        refs = [{"type": "replied_to", "id": message.id}]
        tweet = _tweet(
            message.reply.id,
            text,
            message.reply.at,
            account.native_id,
            message.on or message.id,
            refs,
            message.author_id,
            [],
            [],
        )
        tweet["_media"] = []
        return tweet

    # -- direct messages ------------------------------------------------------------------

    def _dm_events(self, request: Request) -> Response:
        account = self.world.by_token(request.bearer())
        if account is None or account.platform != "x":
            return unsupported_authentication()
        return self._dm_page(request, account, self.dm_events(account))

    def _dm_with(self, request: Request, participant: str) -> Response:
        account = self.world.by_token(request.bearer())
        if account is None or account.platform != "x":
            return unsupported_authentication()
        events = [e for e in self.dm_events(account) if participant in e["participant_ids"]]
        return self._dm_page(request, account, events)

    def _dm_conversation(self, request: Request, conversation: str) -> Response:
        account = self.world.by_token(request.bearer())
        if account is None or account.platform != "x":
            return unsupported_authentication()
        events = [e for e in self.dm_events(account) if e["dm_conversation_id"] == conversation]
        return self._dm_page(request, account, events)

    def dm_events(self, account: SAccount) -> list[dict[str, Any]]:
        events = []
        for message in account.inbox:
            if message.channel != "dm":
                continue
            conversation = "-".join(sorted((account.native_id, message.author_id), key=int))
            participants = [message.author_id, account.native_id]
            events.append(
                _dm(message.id, message.text, message.at, message.author_id, conversation, participants)
            )
            if message.reply:
                events.append(
                    _dm(
                        message.reply.id,
                        message.reply.text,
                        message.reply.at,
                        account.native_id,
                        conversation,
                        participants,
                    )
                )
        return sorted(events, key=lambda e: int(e["id"]), reverse=True)

    def _dm_page(self, request: Request, account: SAccount, events: list[dict[str, Any]]) -> Response:
        size = request.int_param("max_results", 100)
        if not 1 <= size <= 100:
            raise ValueError(f"The `max_results` query parameter value [{size}] is not between 1 and 100")
        types = set(_list(request, "event_types")) or {
            "MessageCreate",
            "ParticipantsJoin",
            "ParticipantsLeave",
        }
        selected = [e for e in events if e["event_type"] in types]
        offset = _offset(request, "pagination_token")
        chunk, following = page(selected, offset, cap(size, self.world.page_size_cap))
        meta: dict[str, Any] = {"result_count": len(chunk)}
        if following is not None:
            meta["next_token"] = encode_token(following, "dm")
        if not chunk:
            return Response(200, {"meta": meta})
        fields = _fields(request, "dm_event.fields", DM_FIELDS)
        body: dict[str, Any] = {"data": [_select(e, DM_DEFAULT, fields) for e in chunk], "meta": meta}
        expansions = set(_list(request, "expansions"))
        wanted = []
        if "sender_id" in expansions:
            wanted += [e["sender_id"] for e in chunk]
        if "participant_ids" in expansions:
            wanted += [p for e in chunk for p in e["participant_ids"]]
        if wanted:
            body["includes"] = {"users": [self._user_stub(u, request) for u in dict.fromkeys(wanted)]}
        return Response(200, body)


# ---------------------------------------------------------------------------------------------
# Shapes


def _tweet(
    tweet_id: str,
    text: str,
    at: datetime,
    author_id: str,
    conversation_id: str,
    refs: list[dict[str, str]],
    in_reply_to: str | None,
    links: list[str],
    media: list[dict[str, Any]],
) -> dict[str, Any]:
    for link in links:
        if link not in text:
            text = f"{text} {link}"
    tweet: dict[str, Any] = {
        "id": tweet_id,
        "text": text,
        "edit_history_tweet_ids": [tweet_id],
        "created_at": x_time(at),
        "author_id": author_id,
        "conversation_id": conversation_id,
        "lang": "und",
        "possibly_sensitive": False,
        "reply_settings": "everyone",
        "source": "Sandbox",
        "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0},
        "entities": _entities(text),
        "edit_controls": {
            "edits_remaining": 5,
            "is_edit_eligible": True,
            "editable_until": x_time(at + timedelta(hours=1)),
        },
        "_created": at,
    }
    if refs:
        tweet["referenced_tweets"] = refs
    if in_reply_to:
        tweet["in_reply_to_user_id"] = in_reply_to
    if media:
        tweet["attachments"] = {"media_keys": [m["media_key"] for m in media]}
    return tweet


def _dm(
    event_id: str, text: str, at: datetime, sender: str, conversation: str, participants: list[str]
) -> dict[str, Any]:
    return {
        "id": event_id,
        "event_type": "MessageCreate",
        "text": text,
        "created_at": x_time(at),
        "sender_id": sender,
        "dm_conversation_id": conversation,
        "participant_ids": participants,
        "entities": _entities(text),
    }


def _media(post: SPost) -> list[dict[str, Any]]:
    media = []
    for name in post.media:
        kind = "video" if post.video else "photo"
        prefix = "7" if kind == "video" else "3"
        number = int(hashlib.sha256(name.encode()).hexdigest()[:15], 16)
        media.append({"media_key": f"{prefix}_{number}", "type": kind})
    if post.video and not post.media:
        number = int(hashlib.sha256(post.id.encode()).hexdigest()[:15], 16)
        media.append({"media_key": f"7_{number}", "type": "video"})
    if post.image and not post.media:
        number = int(hashlib.sha256(post.id.encode()).hexdigest()[:15], 16)
        media.append({"media_key": f"3_{number}", "type": "photo"})
    return media


_URL = re.compile(r"https?://\S+")
_HASHTAG = re.compile(r"(?<!\w)#(\w+)")
_MENTION = re.compile(r"(?<!\w)@(\w{1,15})")


def _entities(text: str) -> dict[str, Any]:
    entities: dict[str, Any] = {}
    urls = [
        {
            "start": m.start(),
            "end": m.end(),
            "url": m.group(),
            "expanded_url": m.group(),
            "display_url": m.group().split("://", 1)[1][:30],
        }
        for m in _URL.finditer(text)
    ]
    hashtags = [{"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in _HASHTAG.finditer(text)]
    mentions = [{"start": m.start(), "end": m.end(), "username": m.group(1)} for m in _MENTION.finditer(text)]
    for name, value in (("urls", urls), ("hashtags", hashtags), ("mentions", mentions)):
        if value:
            entities[name] = value
    return entities


def x_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _select(full: dict[str, Any], default: tuple[str, ...], extra: set[str]) -> dict[str, Any]:
    return {
        k: v
        for k, v in full.items()
        if not k.startswith("_") and (k in default or k in extra) and v not in ("", None, {})
    }


def _list(request: Request, name: str) -> list[str]:
    return [p.strip() for p in request.query.get(name, "").split(",") if p.strip()]


def _fields(request: Request, name: str, known: set[str]) -> set[str]:
    wanted = set(_list(request, name))
    unknown = wanted - known
    if unknown:
        raise ValueError(
            f"The `{name}` query parameter value [{sorted(unknown)[0]}] is not one of {sorted(known)}"
        )
    return wanted


def _offset(request: Request, name: str) -> int:
    token = request.query.get(name)
    if not token:
        return 0
    try:
        return decode_token(token)
    except ValueError:
        raise ValueError(f"The `{name}` query parameter value [{token}] is invalid") from None


def _time(request: Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"The `{name}` query parameter value [{raw}] is not a valid RFC 3339 date-time"
        ) from None


def _compact(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def not_found(resource: str, parameter: str, value: str) -> dict[str, Any]:
    label = {"user": "user", "tweet": "Tweet"}[resource]
    return {
        "value": value,
        "detail": f"Could not find {label} with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": resource,
        "parameter": parameter,
        "resource_id": value,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }


def problem(status: int, title: str, detail: str, type_: str = "about:blank") -> Response:
    return Response(status, {"title": title, "type": type_, "status": status, "detail": detail})


def invalid_request(message: str) -> Response:
    return Response(
        400,
        {
            "errors": [{"parameters": {}, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
    )


def unsupported_authentication() -> Response:
    return problem(
        403,
        "Unsupported Authentication",
        "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported "
        "authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
        "https://api.twitter.com/2/problems/unsupported-authentication",
    )
