"""YouTube Data API v3 through google-api-python-client, built from its bundled (static) discovery
document: the discovery document is never fetched over the network.

Endpoints called (all GET, API key as the `key` query parameter, `alt=json`; host =
`platforms.youtube.base_url`, default https://www.googleapis.com). Quota units in brackets. This
list is the sandbox's specification: keep it exact.

1. `/youtube/v3/channels` [1] at most once per PROFILE_REFRESH (the uploads playlist id is kept in
   the cursor): `part=snippet,contentDetails` and `id={native_id}` (or `forHandle={handle}`).
   reads: items[].id, snippet.title/customUrl/description/thumbnails.default.url,
   contentDetails.relatedPlaylists.uploads.
2. `/youtube/v3/playlistItems` [1] every poll: `part=snippet,contentDetails`, `playlistId={uploads}`,
   `maxResults=50`, `pageToken` while the page is still newer than the cursor (bounded).
   reads: items[].id, contentDetails.videoId/videoPublishedAt, snippet.resourceId.videoId/publishedAt;
   nextPageToken.
3. `/youtube/v3/videos` [1 per 50 ids] only for new uploads and, at most every RECHECK, for videos in
   the backfill window whose captions were "false" or that were live/upcoming (never for a video set
   aside):
   `part=snippet,contentDetails,liveStreamingDetails`, `id={comma-separated ids}`, `maxResults=50`.
   reads: items[].id, snippet.title/description/publishedAt/liveBroadcastContent,
   contentDetails.caption ("true"|"false"), liveStreamingDetails (presence: the video was streamed
   live, so it is exempt from captions even after the stream ended).
4. `/youtube/v3/commentThreads` [1] every poll: `part=snippet,replies`,
   `allThreadsRelatedToChannelId={channel id}`, `maxResults=100`, `order=time`, `textFormat=plainText`,
   `pageToken` while threads are newer than the cursor (bounded).
   reads: items[].id, snippet.videoId, snippet.totalReplyCount, snippet.topLevelComment.{id, snippet.
   authorChannelId.value, authorDisplayName, textOriginal/textDisplay, publishedAt},
   replies.comments[] (same fields + parentId).
5. `/youtube/v3/comments` [1] only for a thread whose totalReplyCount grew beyond the replies inlined in (4):
   `part=snippet`, `parentId={thread id}`, `maxResults=100`, `textFormat=plainText`.

`search.list` (100 units) is never used. Owner replies are recognised by
`authorChannelId.value == channel id`. Quota units spent are returned in FetchResult.quota_units
(monitor.poll adds them to the Pacific-time quota day). Cursor: channel_id, uploads, profile_at,
profile, last_video_published, video_ids_seen (bounded), recheck {video id: published},
rechecked_at, comments_since, reply_counts {thread: count} (bounded).

One bad item never fails every poll unnamed: each playlist item, video and comment thread or comment
is read on its own (`PollContext.normalise`, named `post ID` or `message ID`, set aside by
monitor.poll when it keeps failing), and paging and the backfill window read times leniently.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httplib2
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from connectors.access import youtube_verify
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
    cursor_since,
    hashtags_in,
    iso,
    links_in,
    native_id,
    optional_text,
    parse_time,
    require,
    time_or_none,
    whole_number_or_none,
)
from connectors.deadline import deadline
from connectors.http import retry_after_seconds
from connectors.specs import YOUTUBE_SPEC
from monitor.config import Account, YouTubePlatform
from monitor.coverage import TokenGrant, Verification
from monitor.models import FetchResult, Message, Post, ProfileSnapshot, Reply

UNITS = YOUTUBE_SPEC.quota_units
PROFILE_REFRESH = timedelta(hours=1)  # channels.list hourly: see docs/CONNECTORS.md (quota)
RECHECK = timedelta(hours=1)  # captions added later / a live stream ending
MAX_PAGES = 4
MAX_SEEN = 200
MAX_THREADS_TRACKED = 500
OVERLAP = timedelta(hours=1)


# YouTube's quota day resets at midnight Pacific time (`YOUTUBE_SPEC.quota_zone`).
quota_day = YOUTUBE_SPEC.quota_day
next_quota_reset = YOUTUBE_SPEC.next_quota_reset


class YouTubeConnector(BaseConnector[YouTubePlatform]):
    """Its `session` (transport) is httplib2.Http-like, e.g. googleapiclient.http.HttpMockSequence."""

    spec = YOUTUBE_SPEC
    discovery_note = (
        "YouTube: an API key reads public data only; listing the channels a Google account manages "
        "(channels.list?mine=true) needs an OAuth token of that account, which socialmon does not use"
    )

    def verify(
        self, account: Account, now: datetime, *, grant: TokenGrant | None = None, grant_problem: str = ""
    ) -> Verification:
        return youtube_verify(self.spec, self.settings, account, self.credential(account), now)

    def _service(self, account: Account) -> Any:
        key = self.credential(account)
        if not key:
            raise AuthExpired(f"account {account.id}: no YouTube API key configured")
        http = self.transport
        if http is None:
            http = httplib2.Http(timeout=self.settings.timeout.total_seconds())
            http.follow_redirects = False  # a platform API never sends us to another host
        return build(
            "youtube",
            "v3",
            developerKey=key,
            http=http,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": self.settings.base_url + "/"},
        )

    def _fetch(
        self, ctx: PollContext, account: Account, cursor: dict[str, Any], now: datetime
    ) -> FetchResult:
        return _ChannelPoll(self, account, cursor, now, ctx).run()


class _ChannelPoll:
    def __init__(
        self,
        connector: YouTubeConnector,
        account: Account,
        cursor: dict[str, Any],
        now: datetime,
        ctx: PollContext,
    ):
        self.account = account
        self.cursor = cursor
        self.now = now
        self.ctx = ctx
        self.yt = connector._service(account)
        self.timeout = connector.settings.timeout.total_seconds()
        self.window_start = now - connector.config.policy.backfill

    def _open_connections(self) -> list[Any]:
        """httplib2's open connections, for the deadline to cut."""
        http = getattr(self.yt, "_http", None)
        return list(getattr(http, "connections", {}).values())

    def _execute(self, resource: str, **params: Any) -> dict[str, Any]:
        request = getattr(self.yt, resource)().list(**params)

        def attempt() -> dict[str, Any]:
            self.ctx.api_calls += 1
            self.ctx.http_requests += 1
            self.ctx.quota_units += UNITS[resource]
            try:
                with deadline(self.timeout, self._open_connections):
                    body = request.execute(num_retries=0)
            except HttpError as exc:
                raise _map_error(resource, exc, self.now) from None
            except (TimeoutError, OSError, httplib2.HttpLib2Error) as exc:
                raise TransientError(f"youtube {resource}: {type(exc).__name__}") from None
            except ValueError:
                raise BadPayload(f"youtube {resource}: response is not JSON (truncated?)") from None
            if not isinstance(body, dict):
                raise BadPayload(f"youtube {resource}: response is not a JSON object")
            return body

        return call_with_retries(self.ctx, attempt)

    def _pages(self, resource: str, **params: Any) -> Iterator[dict[str, Any]]:
        """The pages of a list call, following `nextPageToken` (at most MAX_PAGES); a caller that
        has read far enough stops early by leaving its loop, and no further page is requested."""
        token: str | None = None
        for _ in range(MAX_PAGES):
            body = self._execute(resource, **params, **({"pageToken": token} if token else {}))
            yield body
            token = body.get("nextPageToken")
            if not token:
                return

    # -- plan -----------------------------------------------------------------------------------

    def run(self) -> FetchResult:
        profile = self._channel_if_due()
        channel_id = str(self.cursor["channel_id"])
        posts = self._uploads()
        messages, replies = self._comments(channel_id)
        return self.ctx.result(
            profile=profile, posts=posts, messages=messages, replies=replies, cursor=self.cursor
        )

    def _channel_if_due(self) -> ProfileSnapshot | None:
        profile_at = self.cursor.get("profile_at")
        if (
            self.cursor.get("uploads")
            and profile_at
            and parse_time(profile_at, "cursor") + PROFILE_REFRESH > self.now
        ):
            return None
        if self.account.native_id:
            body = self._execute("channels", part="snippet,contentDetails", id=self.account.native_id)
        else:
            body = self._execute("channels", part="snippet,contentDetails", forHandle=self.account.handle)
        items = as_list(body.get("items"), "youtube channels items")
        if not items:
            raise Rejected(f"youtube channel of account {self.account.id} not found")
        channel = as_dict(items[0], "youtube channel")
        snippet = as_dict(require(channel, "snippet", "youtube channel"), "youtube channel snippet")
        uploads = as_dict(
            as_dict(require(channel, "contentDetails", "youtube channel"), "contentDetails").get(
                "relatedPlaylists"
            ),
            "relatedPlaylists",
        ).get("uploads")
        if not uploads:
            raise BadPayload("youtube channel: contentDetails.relatedPlaylists.uploads missing")
        channel_id = native_id(require(channel, "id", "youtube channel"), "youtube channel")
        thumbnails = as_dict(snippet.get("thumbnails"), "thumbnails")
        avatar = as_dict(thumbnails.get("default") or thumbnails.get("medium"), "thumbnail").get("url")
        handle = str(snippet.get("customUrl") or self.account.handle or "")
        self.cursor.update(channel_id=channel_id, uploads=str(uploads), profile_at=iso(self.now))
        return ProfileSnapshot(
            account_id=self.account.id,
            taken_at=self.now,
            name=str(snippet.get("title") or ""),
            handle=handle,
            text=str(snippet.get("description") or ""),
            avatar_fingerprint=avatar_fingerprint(avatar),
            url=f"https://www.youtube.com/channel/{channel_id}",
        )

    # -- uploads --------------------------------------------------------------------------------

    def _uploads(self) -> list[Post]:
        """New uploads since the cursor, plus videos due a recheck of their captions or live state.

        A video set aside (it kept failing) is not asked for again: it is marked seen, so the
        cursor moves past it, and it leaves the recheck set."""
        seen: list[str] = list(self.cursor.get("video_ids_seen") or [])
        last = self.cursor.get("last_video_published")
        new = self._new_uploads(set(seen), cursor_since(last, self.window_start))
        recheck = self._recheck_set()
        due = self._recheck_due(recheck, new)
        posts = self._videos([v for v in [*new, *due] if not self._set_aside(v)])
        # An upload whose playlist time could not be read was asked for anyway: the video's own time
        # decides whether it is inside the backfill window.
        undated = {v for v, published in new.items() if published is None}
        posts = [p for p in posts if p.native_id not in undated or p.created_at >= self.window_start]
        for post in posts:
            if post.video_captions != "yes" or post.live:
                recheck[post.native_id] = iso(post.created_at)
            else:
                recheck.pop(post.native_id, None)
        self._advance_upload_cursor(seen, new, recheck, last, rechecked=bool(due))
        return posts

    def _new_uploads(self, seen: set[str], since: datetime) -> dict[str, datetime | None]:
        """Video id -> publication time of the uploads in the window not seen before (newest pages
        first); None when the playlist item's time cannot be read (the video's own time decides).

        Each playlist item is read on its own: one without a usable video id is named by its own
        id (`post PLAYLIST-ITEM-ID`) and set aside when it keeps failing. Paging reads times
        leniently: a page none of whose times can be read does not stop it (MAX_PAGES bounds it)."""
        new: dict[str, datetime | None] = {}
        pages = self._pages(
            "playlistItems", part="snippet,contentDetails", playlistId=self.cursor["uploads"], maxResults=50
        )
        for body in pages:
            page = as_list(body.get("items"), "youtube playlistItems")
            for raw in page:
                item = self.ctx.normalise("post", raw, functools.partial(_playlist_item, raw))
                if item is None:
                    continue  # set aside: it kept failing
                video_id, published = item
                if video_id not in seen and (published is None or published >= self.window_start):
                    new[video_id] = published
            times = [t for t in map(_playlist_time, page) if t is not None]
            if not page or (times and min(times) < since):
                break
        return new

    def _set_aside(self, video_id: str) -> bool:
        return ("post", video_id) in self.ctx.set_aside

    def _recheck_set(self) -> dict[str, str]:
        """Videos whose captions were missing (or that were live), still inside the window and not
        set aside."""
        return {
            k: v
            for k, v in dict(self.cursor.get("recheck") or {}).items()
            if parse_time(v, "cursor") >= self.window_start and not self._set_aside(k)
        }

    def _recheck_due(self, recheck: dict[str, str], new: dict[str, datetime | None]) -> list[str]:
        """The videos to look at again now: all of the recheck set, at most every RECHECK."""
        rechecked_at = self.cursor.get("rechecked_at")
        if rechecked_at and parse_time(rechecked_at, "cursor") + RECHECK > self.now:
            return []
        return [v for v in recheck if v not in new]

    def _videos(self, ids: list[str]) -> list[Post]:
        """videos.list in batches of 50 ids (1 unit a call)."""
        posts: list[Post] = []
        for start in range(0, len(ids), 50):
            chunk = ids[start : start + 50]
            body = self._execute(
                "videos",
                part="snippet,contentDetails,liveStreamingDetails",
                id=",".join(chunk),
                maxResults=50,
            )
            for raw in as_list(body.get("items"), "youtube videos items"):
                post = self.ctx.normalise("post", raw, functools.partial(self._video, raw))
                if post is not None:  # None: set aside, it kept failing
                    posts.append(post)
        return posts

    def _advance_upload_cursor(
        self,
        seen: list[str],
        new: dict[str, datetime | None],
        recheck: dict[str, str],
        last: str | None,
        rechecked: bool,
    ) -> None:
        if rechecked:
            self.cursor["rechecked_at"] = iso(self.now)
        seen = [*seen, *(v for v in new if v not in seen)][-MAX_SEEN:]
        newest = max((t for t in new.values() if t is not None), default=None)
        if newest and (not last or newest > parse_time(last, "cursor")):
            self.cursor["last_video_published"] = iso(newest)
        self.cursor.update(video_ids_seen=seen, recheck=recheck)

    def _video(self, item: Any) -> Post:
        video_id = native_id(require(item, "id", "youtube video"), "youtube video")
        where = f"youtube video {video_id}"
        snippet = as_dict(require(item, "snippet", where), f"{where} snippet")
        details = as_dict(item.get("contentDetails"), f"{where} contentDetails")
        title = optional_text(snippet.get("title"), f"{where} title")
        description = optional_text(snippet.get("description"), f"{where} description")
        text = f"{title}\n\n{description}".strip()
        caption = str(details.get("caption") or "").lower()
        broadcast = str(snippet.get("liveBroadcastContent") or "none")
        return Post(
            platform="youtube",
            native_id=video_id,
            account_id=self.account.id,
            created_at=parse_time(require(snippet, "publishedAt", where), where),
            text=text,
            url=f"https://www.youtube.com/watch?v={video_id}",
            kind="original",
            links=links_in(description),
            hashtags=hashtags_in(text),
            has_video=True,
            video_captions="yes" if caption == "true" else "no" if caption == "false" else "unknown",
            # Streamed live (now, soon, or a finished stream's recording): the policy exempts live
            # streams from captions (transcript on request), so a past stream's recording is too.
            live=broadcast in {"live", "upcoming"} or "liveStreamingDetails" in item,
            title=title,
        )

    # -- comments -------------------------------------------------------------------------------

    def _comments(self, channel_id: str) -> tuple[list[Message], list[Reply]]:
        """The comments newer than the cursor. Each thread, and each comment in it, is read on its
        own: one that cannot be read is named (`message ID`; a thread shares its top-level
        comment's id) and set aside when it keeps failing, while the others flow. Paging reads the
        top-level comments' times leniently (a page none of whose times can be read does not stop
        it: MAX_PAGES bounds it)."""
        since = cursor_since(self.cursor.get("comments_since"), self.window_start)
        counts: dict[str, int] = dict(self.cursor.get("reply_counts") or {})
        messages: list[Message] = []
        replies: list[Reply] = []
        for body in self._pages(
            "commentThreads",
            part="snippet,replies",
            allThreadsRelatedToChannelId=channel_id,
            maxResults=100,
            order="time",
            textFormat="plainText",
        ):
            page = as_list(body.get("items"), "commentThreads items")
            for raw in page:
                thread = self._thread(raw)
                if thread is None:
                    continue  # set aside: it kept failing
                for record in self._thread_records(thread, channel_id, counts):
                    if record.created_at < since - OVERLAP:
                        continue
                    (replies if isinstance(record, Reply) else messages).append(record)  # type: ignore[arg-type]
            times = [t for t in map(_thread_time, page) if t is not None]
            if not page or (times and min(times) < since):
                break
        newest = max([m.created_at for m in messages] + [r.created_at for r in replies], default=None)
        if newest and newest > since:
            self.cursor["comments_since"] = iso(newest)
        if len(counts) > MAX_THREADS_TRACKED:
            counts = dict(list(counts.items())[-MAX_THREADS_TRACKED:])
        self.cursor["reply_counts"] = counts
        return messages, replies

    def _thread(self, raw: Any) -> _Thread | None:
        """A comment thread's parts, or None when it is set aside and cannot be read.

        A thread's id is its top-level comment's, so setting aside a malformed top-level comment
        sets aside that key: the thread is still read when it can be, so that its replies flow."""
        thread_id = _raw_id(raw)
        if thread_id and ("message", thread_id) in self.ctx.set_aside:
            try:
                return _read_thread(raw)
            except BadPayload:
                return None
        return self.ctx.normalise("message", raw, functools.partial(_read_thread, raw))

    def _thread_records(
        self, thread: _Thread, channel_id: str, counts: dict[str, int]
    ) -> list[Message | Reply]:
        """The top-level comment and the replies of one thread (all of them, through comments.list,
        when the thread has more than the inlined ones and its count changed since last seen)."""
        top = self.ctx.normalise(
            "message",
            thread.top,
            functools.partial(self._comment, thread.top, channel_id, thread.video_id, thread.id, parent=""),
        )
        inline = thread.inline
        if thread.total is not None:  # an unreadable count only means no comments.list call
            if thread.total > len(inline) and counts.get(thread.id) != thread.total:
                inline = self._all_replies(thread.id)
            counts[thread.id] = thread.total
        records = [top]
        for raw in inline:
            records.append(
                self.ctx.normalise(
                    "message",
                    raw,
                    functools.partial(self._comment, raw, channel_id, thread.video_id, thread.id, thread.id),
                )
            )
        return [r for r in records if r is not None]  # None: set aside, it kept failing

    def _all_replies(self, thread_id: str) -> list[Any]:
        """Every reply of a thread (comments.list, 1 unit a page); each is normalised on its own."""
        comments: list[Any] = []
        for body in self._pages(
            "comments", part="snippet", parentId=thread_id, maxResults=100, textFormat="plainText"
        ):
            comments.extend(as_list(body.get("items"), "comments items"))
        return comments

    def _comment(
        self, comment: Any, channel_id: str, video_id: str, thread_id: str, parent: str
    ) -> Message | Reply:
        comment_id = native_id(require(comment, "id", "youtube comment"), "youtube comment")
        where = f"youtube comment {comment_id}"
        snippet = as_dict(require(comment, "snippet", where), f"{where} snippet")
        author = as_dict(snippet.get("authorChannelId"), f"{where} authorChannelId")
        author_id = optional_text(author.get("value"), f"{where} authorChannelId.value")
        # The raw text when given (textDisplay is HTML unless textFormat=plainText is honoured).
        text = optional_text(snippet.get("textOriginal"), f"{where} textOriginal") or optional_text(
            snippet.get("textDisplay"), f"{where} textDisplay"
        )
        created = parse_time(require(snippet, "publishedAt", where), where)
        parent = optional_text(snippet.get("parentId"), f"{where} parentId") or parent
        if author_id == channel_id:
            return Reply(
                platform="youtube",
                native_id=comment_id,
                account_id=self.account.id,
                created_at=created,
                text=text,
                in_reply_to=parent or video_id,
                conversation_id=thread_id,
            )
        return Message(
            platform="youtube",
            native_id=comment_id,
            account_id=self.account.id,
            channel="reply" if parent else "comment",
            author_id=author_id,
            author_name=str(snippet.get("authorDisplayName") or ""),
            created_at=created,
            text=text,
            in_reply_to=parent or video_id,
            conversation_id=thread_id,
            url=f"https://www.youtube.com/watch?v={video_id}&lc={comment_id}" if video_id else "",
        )


def _map_error(resource: str, exc: HttpError, now: datetime) -> ConnectorError:
    """Google's error envelope ({"error": {"code", "errors": [{"domain", "reason"}]}}) as a typed error."""
    status = int(getattr(exc.resp, "status", 0) or 0)
    reason, domain, message = "", "", ""
    try:
        import json

        body = json.loads(exc.content.decode("utf-8") if isinstance(exc.content, bytes) else exc.content)
        error = as_dict(body.get("error"), "error") if isinstance(body, dict) else {}
        first = as_dict((as_list(error.get("errors"), "errors") or [{}])[0], "errors[0]")
        reason, domain = str(first.get("reason") or ""), str(first.get("domain") or "")
        message = str(error.get("message") or first.get("message") or "")
    except (ValueError, ConnectorError, AttributeError):
        pass
    where = f"youtube {resource}: HTTP {status} {domain}/{reason} {message}".rstrip()
    if reason in {"quotaExceeded", "dailyLimitExceeded"}:
        until = next_quota_reset(now)
        return RateLimited(f"{where}; quota resets {iso(until)}", until=until, bucket="youtube:quota")
    if reason in {"rateLimitExceeded", "userRateLimitExceeded"}:
        return TransientError(where, retry_after_seconds(exc.resp, now))
    if status == 401 or reason in {"keyInvalid", "keyExpired", "authError", "ipRefererBlocked"}:
        return AuthExpired(where)
    if status == 429:
        wait = retry_after_seconds(exc.resp, now) or 60.0
        return RateLimited(where, until=now + timedelta(seconds=wait), bucket="youtube:429")
    if status == 403:
        return PermissionMissing(where)
    if status >= 500:
        return TransientError(where, retry_after_seconds(exc.resp, now))
    return Rejected(where)


def _raw_id(raw: Any) -> str:
    """An item's own id as text, "" when it has none usable (as `PollContext.normalise` reads it)."""
    value = raw.get("id") if isinstance(raw, dict) else None
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _playlist_item(raw: Any) -> tuple[str, datetime | None]:
    """(video id, publication time or None) of an uploads playlist item. Without a usable video id
    it fails, named by the playlist item's own id; a time that cannot be read is None."""
    where = f"youtube playlistItem {_raw_id(raw) or '(no id)'}"
    if not isinstance(raw, dict):
        raise BadPayload(f"{where}: expected an object, got {type(raw).__name__}")
    details = as_dict(raw.get("contentDetails"), f"{where} contentDetails")
    snippet = as_dict(raw.get("snippet"), f"{where} snippet")
    resource = as_dict(snippet.get("resourceId"), f"{where} snippet.resourceId")
    video_id = details.get("videoId") or resource.get("videoId")
    if video_id is None:
        raise BadPayload(f"{where}: no video id (contentDetails.videoId, snippet.resourceId.videoId)")
    return native_id(video_id, f"{where} videoId"), _playlist_time(raw)


def _playlist_time(raw: Any) -> datetime | None:
    """A playlist item's publication time for paging and the window (the video's, else the time it
    was added to the playlist), or None when neither can be read."""
    if not isinstance(raw, dict):
        return None
    details, snippet = raw.get("contentDetails"), raw.get("snippet")
    published = time_or_none(details.get("videoPublishedAt")) if isinstance(details, dict) else None
    if published is None and isinstance(snippet, dict):
        published = time_or_none(snippet.get("publishedAt"))
    return published


@dataclass(frozen=True)
class _Thread:
    id: str
    video_id: str  # "" for a comment on the channel itself
    top: Any  # the top-level comment, normalised on its own
    inline: list[Any]  # the replies inlined in commentThreads.list, normalised one by one
    total: int | None  # totalReplyCount; None when it cannot be read


def _read_thread(raw: Any) -> _Thread:
    """The parts of a comment thread every comment in it needs; fails when they cannot be read."""
    thread_id = native_id(require(raw, "id", "youtube commentThread"), "youtube commentThread")
    where = f"youtube commentThread {thread_id}"
    snippet = as_dict(require(raw, "snippet", where), f"{where} snippet")
    top = require(snippet, "topLevelComment", where)
    if not isinstance(top, dict):
        raise BadPayload(f"{where} topLevelComment: expected an object, got {type(top).__name__}")
    replies = as_dict(raw.get("replies"), f"{where} replies")
    return _Thread(
        id=thread_id,
        video_id=optional_text(snippet.get("videoId"), f"{where} videoId"),
        top=top,
        inline=as_list(replies.get("comments"), f"{where} replies.comments"),
        total=_count(snippet.get("totalReplyCount")),
    )


def _count(value: Any) -> int | None:
    """A count the API sends as a number (or decimal text); 0 when absent, None when unreadable."""
    return 0 if value is None else whole_number_or_none(value)


def _thread_time(raw: Any) -> datetime | None:
    """A thread's top-level comment time, for paging, or None when it cannot be read."""
    snippet = raw.get("snippet") if isinstance(raw, dict) else None
    top = snippet.get("topLevelComment") if isinstance(snippet, dict) else None
    top_snippet = top.get("snippet") if isinstance(top, dict) else None
    return time_or_none(top_snippet.get("publishedAt")) if isinstance(top_snippet, dict) else None
