"""X (Twitter) API v2 through tweepy's `Client`, incremental by `since_id`.

Endpoints called (all GET, `Authorization: Bearer <token>`; host = `platforms.x.base_url`,
default https://api.twitter.com). This list is the sandbox's specification: keep it exact.

1. Profile, every poll:
   - `/2/users/{id}` when the account has a `native_id`, else `/2/users/by/username/{handle}`
     query: `user.fields=description,profile_image_url`
     reads: data.id, data.name, data.username, data.description, data.profile_image_url
2. The account's tweets: `/2/users/{id}/tweets`
     query: `max_results=100`,
     `tweet.fields=attachments,author_id,conversation_id,created_at,entities,in_reply_to_user_id,referenced_tweets`,
     `expansions=attachments.media_keys`, `media.fields=media_key,type`,
     then `since_id={cursor.tweets_since_id}` or, on the first poll, `start_time={now - policy.backfill}`,
     and `pagination_token={meta.next_token}` for further pages (at most MAX_PAGES).
     reads: data[].id, text, created_at, conversation_id, in_reply_to_user_id,
     referenced_tweets[].type (replied_to | quoted | retweeted) and .id,
     entities.urls[].url/expanded_url/media_key, entities.hashtags[].tag, attachments.media_keys;
     includes.media[].media_key/type; meta.newest_id, meta.next_token.
3. Mentions: `/2/users/{id}/mentions`
     query: `max_results=100`, `tweet.fields` as above, `expansions=author_id`, `user.fields=name,username`,
     `since_id` / `start_time` and `pagination_token` as above.
     reads: as (2) plus data[].author_id, includes.users[].id/name/username.
4. Direct messages: `/2/dm_events` (needs a user-context token with `dm.read`; a 401/403 here is a
     warning, and the endpoint is not asked again for DM_RETRY_AFTER)
     query: `max_results=100`, `event_types=MessageCreate`,
     `dm_event.fields=created_at,dm_conversation_id,event_type,id,sender_id,text`, `expansions=sender_id`,
     `user.fields=name,username`, `pagination_token` while events are newer than the cursor.
     reads: data[].id, text, created_at, sender_id, dm_conversation_id; includes.users[]; meta.next_token.

Rate limits: `x-rate-limit-limit/remaining/reset` of every response are stored per endpoint; a 429 is
`RateLimited(until=x-rate-limit-reset)`. Cursor: `user_id`, `tweets_since_id`, `mentions_since_id`,
`dm_since_id`, `dm_last_inbound` ({conversation: newest inbound DM id}, bounded), `dm_denied_until`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import requests
import tweepy

from connectors.access import XOAuth, x_verify
from connectors.base import (
    AuthExpired,
    BadPayload,
    BaseConnector,
    ConnectorError,
    PermissionMissing,
    PollContext,
    RateLimited,
    Rejected,
    TransientError,
    as_dict,
    as_list,
    avatar_fingerprint,
    call_with_retries,
    iso,
    native_id,
    optional_text,
    parse_time,
    require,
    time_or_none,
    unique,
    whole_number_or_none,
)
from connectors.dm_threads import DmEvent, DmThreads
from connectors.http import RebasingSession, path_of, retry_after_seconds, x_rate_limit
from connectors.specs import X_SPEC
from monitor.config import Account, XPlatform
from monitor.coverage import TokenGrant, Verification
from monitor.models import FetchResult, Message, Post, PostKind, ProfileSnapshot, Reply

NATIVE_ORIGIN = "https://api.twitter.com"
PAGE_SIZE = 100
MAX_PAGES = 5  # per edge per poll: 500 tweets, far above any university account's 15 minutes
DM_RETRY_AFTER = timedelta(hours=24)

TWEET_FIELDS = [
    "attachments",
    "author_id",
    "conversation_id",
    "created_at",
    "entities",
    "in_reply_to_user_id",
    "referenced_tweets",
]
USER_FIELDS = ["description", "profile_image_url"]
DM_FIELDS = ["created_at", "dm_conversation_id", "event_type", "id", "sender_id", "text"]


class XConnector(BaseConnector[XPlatform]):
    spec = X_SPEC

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # account id -> OAuth 2.0 user access token for the next poll (monitor.poll, from the vault)
        self.user_tokens: dict[str, str] = {}

    def use_user_token(self, account_id: str, token: str | None) -> None:
        if token:
            self.user_tokens[account_id] = token
        else:
            self.user_tokens.pop(account_id, None)

    def refresh_grant(self, refresh_token: str, now: datetime) -> TokenGrant:
        """One OAuth 2.0 refresh (X rotates the refresh token: the answer's one is the only valid one)."""
        return XOAuth(self.settings, self.transport).refresh(refresh_token, now)

    def verify(
        self, account: Account, now: datetime, *, grant: TokenGrant | None = None, grant_problem: str = ""
    ) -> Verification:
        return x_verify(
            self.spec,
            self.settings,
            self.transport,
            account,
            self.credential(account),
            grant,
            grant_problem,
            now,
        )

    def _user_client(self, account: Account, client: tweepy.Client) -> tweepy.Client:
        """The client for user-context endpoints (DMs): the account's OAuth 2.0 user token if any."""
        token = self.user_tokens.get(account.id)
        if not token:
            return client
        user_client = tweepy.Client(
            bearer_token=token, return_type=requests.Response, wait_on_rate_limit=False
        )
        user_client.session = client.session
        return user_client

    # -- the client -------------------------------------------------------------------------

    def _client(self, account: Account) -> tweepy.Client:
        token = self.credential(account)
        if not token:
            raise AuthExpired(f"account {account.id}: no X bearer token configured")
        client = tweepy.Client(bearer_token=token, return_type=requests.Response, wait_on_rate_limit=False)
        # tweepy hard-codes https://api.twitter.com; the rebasing session sends it to base_url.
        client.session = RebasingSession(
            NATIVE_ORIGIN, self.settings.base_url, self.settings.timeout.total_seconds(), self.transport
        )
        return client

    def _call(
        self, ctx: PollContext, client: tweepy.Client, bucket: str, request: Callable[[], Any]
    ) -> dict[str, Any]:
        session: RebasingSession = client.session

        def attempt() -> dict[str, Any]:
            before = session.requests_made
            try:
                response = request()
            except tweepy.errors.TooManyRequests as exc:
                raise self._rate_limited(exc.response, bucket, ctx.now) from None
            except tweepy.errors.HTTPException as exc:
                raise _map_http_error(exc.response, ctx.now, bucket) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise TransientError(f"X {bucket}: {type(exc).__name__}") from None
            finally:
                spent = session.requests_made - before
                ctx.api_calls += spent
                ctx.http_requests += spent
                last = session.last_response
                if last is not None:
                    limit = x_rate_limit(last.headers, bucket)
                    if limit:
                        ctx.note_rate_limits([limit])
            try:
                body = response.json()
            except ValueError:
                raise BadPayload(f"X {bucket}: response is not JSON (truncated?)") from None
            if not isinstance(body, dict):
                raise BadPayload(f"X {bucket}: response is not a JSON object")
            return body

        return call_with_retries(ctx, attempt)

    @staticmethod
    def _rate_limited(response: requests.Response, bucket: str, now: datetime) -> RateLimited:
        limit = x_rate_limit(response.headers, bucket)
        until = limit.reset_at if limit and limit.reset_at else now + timedelta(minutes=15)
        return RateLimited(f"X {bucket}: rate limited until {iso(until)}", until=until, bucket=bucket)

    # -- fetch --------------------------------------------------------------------------------

    def _fetch(
        self, ctx: PollContext, account: Account, cursor: dict[str, Any], now: datetime
    ) -> FetchResult:
        client = self._client(account)
        user = self._user(ctx, client, account)
        user_id = native_id(require(user, "id", "X user"), "X user")
        username = str(user.get("username") or account.handle or "")
        profile = ProfileSnapshot(
            account_id=account.id,
            taken_at=now,
            name=str(user.get("name") or ""),
            handle=username,
            text=str(user.get("description") or ""),
            avatar_fingerprint=avatar_fingerprint(user.get("profile_image_url")),
            url=f"https://x.com/{username}" if username else "",
        )
        backfill_start = now - self.config.policy.backfill
        posts: list[Post] = []
        replies: list[Reply] = []
        messages: list[Message] = []

        tweets, includes, newest = self._timeline(
            ctx,
            client,
            "GET /2/users/:id/tweets",
            client.get_users_tweets,
            user_id,
            cursor.get("tweets_since_id"),
            backfill_start,
            {"expansions": ["attachments.media_keys"], "media_fields": ["media_key", "type"]},
        )
        video_keys = {
            m.get("media_key")
            for m in as_list(includes.get("media"), "X includes.media")
            if m.get("type") == "video"
        }
        for tweet in tweets:
            own = ctx.normalise(
                "post",
                tweet,
                functools.partial(self._own_tweet, account, tweet, user_id, username, video_keys),
            )
            if own is None:
                continue  # set aside: it kept failing
            post, reply = own
            posts.append(post)
            if reply:
                replies.append(reply)
        cursor["tweets_since_id"] = _max_id(cursor.get("tweets_since_id"), newest)

        mentions, includes, newest = self._timeline(
            ctx,
            client,
            "GET /2/users/:id/mentions",
            client.get_users_mentions,
            user_id,
            cursor.get("mentions_since_id"),
            backfill_start,
            {"expansions": ["author_id"], "user_fields": ["name", "username"]},
        )
        authors = _users_by_id(includes)
        for tweet in mentions:
            if str(tweet.get("author_id")) == user_id:
                continue  # the account mentioning itself (a self-thread) is not inbound
            if _is_retweet(tweet):
                continue  # "RT @account: ..." repeats the account's own words: nobody wrote to it
            mention = ctx.normalise(
                "message", tweet, functools.partial(self._mention, account, tweet, authors)
            )
            if mention is not None:
                messages.append(mention)
        cursor["mentions_since_id"] = _max_id(cursor.get("mentions_since_id"), newest)

        dms, dm_replies = self._direct_messages(ctx, client, account, user_id, cursor, now, backfill_start)
        messages.extend(dms)
        replies.extend(dm_replies)
        cursor["user_id"] = user_id
        return ctx.result(profile=profile, posts=posts, messages=messages, replies=replies, cursor=cursor)

    def _user(self, ctx: PollContext, client: tweepy.Client, account: Account) -> dict[str, Any]:
        if account.native_id:
            body = self._call(
                ctx,
                client,
                "GET /2/users/:id",
                lambda: client.get_user(id=account.native_id, user_fields=USER_FIELDS),
            )
        else:
            handle = (account.handle or "").lstrip("@")
            body = self._call(
                ctx,
                client,
                "GET /2/users/by/username/:username",
                lambda: client.get_user(username=handle, user_fields=USER_FIELDS),
            )
        if "data" not in body:
            raise _partial_error(body, f"X user of account {account.id}")
        return as_dict(body["data"], "X user")

    def _timeline(
        self,
        ctx: PollContext,
        client: tweepy.Client,
        bucket: str,
        method: Callable[..., Any],
        user_id: str,
        since_id: str | None,
        backfill_start: datetime,
        extra: dict[str, Any],
    ) -> tuple[list[dict[str, Any]], dict[str, Any], str | None]:
        """All tweets newer than since_id (or inside the backfill window), newest first, bounded."""
        params: dict[str, Any] = {"max_results": PAGE_SIZE, "tweet_fields": TWEET_FIELDS, **extra}
        if since_id:
            params["since_id"] = since_id
        else:
            params["start_time"] = backfill_start
        tweets: list[dict[str, Any]] = []
        includes: dict[str, list[Any]] = {}
        newest: str | None = None
        token: str | None = None
        for _page in range(MAX_PAGES):
            page_params = {**params, **({"pagination_token": token} if token else {})}
            body = self._call(ctx, client, bucket, functools.partial(method, user_id, **page_params))
            meta = as_dict(body.get("meta"), f"X {bucket} meta")
            if "data" not in body and meta.get("result_count") is None:
                raise _partial_error(body, f"X {bucket}")
            tweets.extend(as_list(body.get("data"), f"X {bucket} data"))
            for key, values in as_dict(body.get("includes"), f"X {bucket} includes").items():
                includes.setdefault(key, []).extend(as_list(values, f"X {bucket} includes.{key}"))
            newest = _max_id(newest, meta.get("newest_id"))
            token = meta.get("next_token")
            if not token:
                break
        else:
            ctx.warnings.append(f"{bucket}: stopped after {MAX_PAGES} pages; older items were skipped")
        return tweets, includes, newest

    # -- normalisation --------------------------------------------------------------------------

    def _own_tweet(
        self, account: Account, tweet: dict[str, Any], user_id: str, username: str, video_keys: set[Any]
    ) -> tuple[Post, Reply | None]:
        tweet_id = native_id(require(tweet, "id", "X tweet"), "X tweet")
        where = f"X tweet {tweet_id}"
        text = _expanded_text(tweet)
        created = parse_time(require(tweet, "created_at", where), where)
        refs = _referenced_tweets(tweet, where)
        kind: PostKind = "original"
        if "retweeted" in refs:
            kind = "share"
        elif "quoted" in refs:
            kind = "quote"
        elif "replied_to" in refs:
            kind = "reply"
        entities = as_dict(tweet.get("entities"), where)
        media = tuple(
            str(k) for k in as_list(as_dict(tweet.get("attachments"), where).get("media_keys"), where)
        )
        post = Post(
            platform="x",
            native_id=tweet_id,
            account_id=account.id,
            created_at=created,
            text=text,
            url=f"https://x.com/{username}/status/{tweet_id}",
            kind=kind,
            links=unique(
                u.get("expanded_url") or u.get("url")
                for u in as_list(entities.get("urls"), where)
                if not u.get("media_key")
            ),
            hashtags=unique(str(h.get("tag", "")).lower() for h in as_list(entities.get("hashtags"), where)),
            media=media,
            has_video=any(k in video_keys for k in media),
        )
        return post, _answer(account, tweet, tweet_id, created, text, refs, user_id)

    def _mention(
        self, account: Account, tweet: dict[str, Any], authors: dict[str, dict[str, Any]]
    ) -> Message:
        tweet_id = native_id(require(tweet, "id", "X mention"), "X mention")
        where = f"X mention {tweet_id}"
        text = _expanded_text(tweet)
        author_id = str(tweet.get("author_id") or "")
        author = authors.get(author_id, {})
        refs = _referenced_tweets(tweet, where)
        handle = author.get("username") or "i"
        return Message(
            platform="x",
            native_id=tweet_id,
            account_id=account.id,
            channel="mention",
            author_id=author_id,
            author_name=str(author.get("username") or author.get("name") or ""),
            created_at=parse_time(require(tweet, "created_at", where), where),
            text=text,
            in_reply_to=refs.get("replied_to", ""),
            conversation_id=str(tweet.get("conversation_id") or ""),
            url=f"https://x.com/{handle}/status/{tweet_id}",
        )

    # -- direct messages ------------------------------------------------------------------------

    def _direct_messages(
        self,
        ctx: PollContext,
        client: tweepy.Client,
        account: Account,
        user_id: str,
        cursor: dict[str, Any],
        now: datetime,
        backfill_start: datetime,
    ) -> tuple[list[Message], list[Reply]]:
        fix = f"run `socialmon accounts authorize --account {account.id}` (a user token with dm.read)"
        client = self._user_client(account, client)
        has_user_token = account.id in self.user_tokens
        denied_until = cursor.get("dm_denied_until")
        if denied_until and parse_time(denied_until, "cursor") > now and not has_user_token:
            ctx.warnings.append(
                "X direct messages: not readable with this token (needs dm.read); not checked"
            )
            ctx.gaps.append(
                ("direct_messages", "not readable with this token (needs a user token with dm.read)", fix)
            )
            return [], []
        since = cursor.get("dm_since_id")
        events: list[dict[str, Any]] = []
        users: dict[str, dict[str, Any]] = {}
        token: str | None = None
        try:
            for _page in range(MAX_PAGES):
                params: dict[str, Any] = {
                    "max_results": PAGE_SIZE,
                    "event_types": "MessageCreate",
                    "dm_event_fields": DM_FIELDS,
                    "expansions": ["sender_id"],
                    "user_fields": ["name", "username"],
                    **({"pagination_token": token} if token else {}),
                }
                body = self._call(
                    ctx,
                    client,
                    "GET /2/dm_events",
                    functools.partial(client.get_direct_message_events, user_auth=False, **params),
                )
                page = as_list(body.get("data"), "X dm_events data")
                users.update(_users_by_id(as_dict(body.get("includes"), "X dm_events includes")))
                fresh = [e for e in page if _is_newer(e, since, backfill_start)]
                events.extend(fresh)
                token = as_dict(body.get("meta"), "X dm_events meta").get("next_token")
                if not token or len(fresh) < len(page):
                    break
        except (PermissionMissing, AuthExpired) as exc:
            # A token without DM access still polls everything else: a health warning, not a failure.
            ctx.warnings.append(f"X direct messages: not readable with this token ({exc.message})")
            ctx.gaps.append(("direct_messages", f"not readable with this token ({exc.message})", fix))
            cursor["dm_denied_until"] = iso(now + DM_RETRY_AFTER)
            return [], []
        cursor.pop("dm_denied_until", None)
        return self._dm_records(ctx, account, user_id, events, users, cursor)

    def _dm_records(
        self,
        ctx: PollContext,
        account: Account,
        user_id: str,
        events: list[Any],
        users: dict[str, dict[str, Any]],
        cursor: dict[str, Any],
    ) -> tuple[list[Message], list[Reply]]:
        """Each event normalised on its own (one that keeps failing is set aside, the others flow),
        then threaded oldest first; the cursor passes every event with a readable id."""
        threads = DmThreads("x", account.id, cursor)
        for event in sorted(events, key=_dm_order):
            dm = ctx.normalise("message", event, functools.partial(_dm_event, event, user_id, users))
            number = _numeric_id(event)
            if number is not None:  # read, or set aside: either way later polls need not see it again
                cursor["dm_since_id"] = _max_id(cursor.get("dm_since_id"), number)
            if dm is not None:  # None: set aside, it kept failing
                threads.add(dm)
        threads.save(cursor, recency=int)
        return threads.messages, threads.replies


# --- helpers ------------------------------------------------------------------------------------


def _answer(
    account: Account,
    tweet: dict[str, Any],
    tweet_id: str,
    created: datetime,
    text: str,
    refs: dict[Any, str],
    user_id: str,
) -> Reply | None:
    """The account's tweet as an answer to someone: a reply to another user's tweet (also when it
    quotes a tweet as well), or a quote tweet, which answers the tweet it quotes. A reply to the
    account's own tweet (a self-thread) answers nobody."""
    if "replied_to" in refs:
        if str(tweet.get("in_reply_to_user_id") or "") == user_id:
            return None
        target = refs["replied_to"]
    elif "quoted" in refs and "retweeted" not in refs:
        target = refs["quoted"]  # a quote of the account's own tweet matches no inbound message
    else:
        return None
    return Reply(
        platform="x",
        native_id=tweet_id,
        account_id=account.id,
        created_at=created,
        text=text,
        in_reply_to=target,
        conversation_id=str(tweet.get("conversation_id") or ""),
    )


def _is_retweet(tweet: dict[str, Any]) -> bool:
    refs = tweet.get("referenced_tweets")
    return isinstance(refs, list) and any(isinstance(r, dict) and r.get("type") == "retweeted" for r in refs)


def _referenced_tweets(tweet: dict[str, Any], where: str) -> dict[Any, str]:
    """The tweets this one replies to, quotes or retweets: {"replied_to"|"quoted"|"retweeted": id}."""
    return {
        r.get("type"): str(r.get("id"))
        for r in as_list(tweet.get("referenced_tweets"), where)
        if isinstance(r, dict)
    }


def _max_id(current: Any, candidate: Any) -> str | None:
    """The newer of two snowflake ids (compared as integers)."""
    values = [str(v) for v in (current, candidate) if v not in (None, "")]
    if not values:
        return None
    try:
        return max(values, key=int)
    except ValueError:
        raise BadPayload(f"X ids are not numeric: {values}") from None


def _is_newer(event: Any, since: str | None, backfill_start: datetime) -> bool:
    """Whether a DM event is past the cursor (or inside the backfill window on a first poll).

    An event whose id or time cannot be read counts as newer: it must reach normalisation, which
    names it (a filter that raised here would fail the whole poll, for ever, without naming it).
    """
    if since:
        number = _numeric_id(event)
        return number is None or number > int(since)
    created = time_or_none(event.get("created_at")) if isinstance(event, dict) else None
    return created is None or created >= backfill_start


def _numeric_id(event: Any) -> int | None:
    """A DM event's snowflake id as a number, None when it is missing or not a decimal number."""
    return whole_number_or_none(event.get("id") if isinstance(event, dict) else None)


def _dm_order(event: Any) -> tuple[int, int]:
    """Sort key, oldest first (X ids grow with time); events without a numeric id come first, to be
    named by normalisation before anything is threaded."""
    number = _numeric_id(event)
    return (0, 0) if number is None else (1, number)


def _dm_event(event: Any, user_id: str, users: dict[str, dict[str, Any]]) -> DmEvent:
    """One DM event, every field it needs checked. An event without an id cannot be named and so
    cannot be set aside: like a tweet without one, it fails the poll (`BadPayload` with no item)."""
    event_id = native_id(require(event, "id", "X direct message"), "X direct message")
    where = f"X direct message {event_id}"
    if _numeric_id(event) is None:
        raise BadPayload(f"{where}: id is not a number")
    sender = native_id(require(event, "sender_id", where), f"{where} sender_id")
    author = users.get(sender, {})
    return DmEvent(
        native_id=event_id,
        conversation_id=optional_text(event.get("dm_conversation_id"), f"{where} dm_conversation_id"),
        created_at=parse_time(require(event, "created_at", where), where),
        text=optional_text(event.get("text"), f"{where} text"),
        outbound=sender == user_id,
        author_id=sender,
        author_name=str(author.get("username") or author.get("name") or ""),
    )


def _users_by_id(includes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        str(u.get("id")): u for u in as_list(includes.get("users"), "X includes.users") if isinstance(u, dict)
    }


def _expanded_text(tweet: dict[str, Any]) -> str:
    """Tweet text with t.co links replaced by their expanded URLs."""
    text = str(tweet.get("text") or "")
    for url in as_list(as_dict(tweet.get("entities"), "X entities").get("urls"), "X entities.urls"):
        if isinstance(url, dict) and url.get("url") and url.get("expanded_url"):
            text = text.replace(url["url"], url["expanded_url"])
    return text


def _partial_error(body: dict[str, Any], where: str) -> ConnectorError:
    """X answers some failures with 200 and an `errors` list instead of `data`."""
    errors = [e for e in as_list(body.get("errors"), f"{where} errors") if isinstance(e, dict)]
    if not errors:
        return BadPayload(f"{where}: response has neither data nor errors")
    first = errors[0]
    title = str(first.get("title") or "")
    detail = str(first.get("detail") or first.get("message") or title)
    if "Not Found" in title:
        return Rejected(f"{where}: not found ({detail})")
    if title in {"Forbidden", "Authorization Error"}:
        return PermissionMissing(f"{where}: {detail}")
    return BadPayload(f"{where}: {detail}")


def _map_http_error(response: requests.Response, now: datetime, bucket: str) -> ConnectorError:
    """X's error statuses and problem bodies as typed errors."""
    status = response.status_code
    detail = _problem_detail(response)
    where = f"X {bucket} ({path_of(response.url or '')})"
    if status == 401:
        return AuthExpired(f"{where}: 401 unauthorized: {detail}")
    if status == 403:
        return PermissionMissing(f"{where}: 403 forbidden: {detail}")
    if status == 404:
        return Rejected(f"{where}: 404 not found: {detail}")
    if status == 429:
        until = now + timedelta(minutes=15)
        return RateLimited(f"{where}: 429 rate limited", until=until, bucket=bucket)
    if status >= 500:
        return TransientError(f"{where}: {status}: {detail}", retry_after_seconds(response.headers, now))
    return Rejected(f"{where}: {status}: {detail}")


def _problem_detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or "no detail"
    if not isinstance(body, dict):
        return "no detail"
    parts = [str(body.get("title") or ""), str(body.get("detail") or "")]
    for error in as_list(body.get("errors"), "X errors") if isinstance(body.get("errors"), list) else []:
        if isinstance(error, dict) and error.get("message"):
            parts.append(str(error["message"]))
    # X often repeats itself (title "Unauthorized", detail "Unauthorized"): say each thing once.
    unique = dict.fromkeys(p for p in parts if p)
    return "; ".join(unique) or "no detail"
