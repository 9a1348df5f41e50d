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
   reads: items[].contentDetails.videoId/videoPublishedAt, snippet.publishedAt; nextPageToken.
3. `/youtube/v3/videos` [1 per 50 ids] only for new uploads and, at most every RECHECK, for videos in
   the backfill window whose captions were "false" or that were live/upcoming:
   `part=snippet,contentDetails,liveStreamingDetails`, `id={comma-separated ids}`, `maxResults=50`.
   reads: items[].id, snippet.title/description/publishedAt/liveBroadcastContent,
   contentDetails.caption ("true"|"false"), liveStreamingDetails (presence: the video was streamed
   live, so it is exempt from captions even after the stream ended).
4. `/youtube/v3/commentThreads` [1] every poll: `part=snippet,replies`,
   `allThreadsRelatedToChannelId={channel id}`, `maxResults=100`, `order=time`, `textFormat=plainText`,
   `pageToken` while threads are newer than the cursor (bounded).
   reads: items[].id, snippet.videoId, snippet.totalReplyCount, snippet.topLevelComment.{id, snippet.
   authorChannelId.value, authorDisplayName, textDisplay, publishedAt},
   replies.comments[] (same fields + parentId).
5. `/youtube/v3/comments` [1] only for a thread whose totalReplyCount grew beyond the replies inlined in (4):
   `part=snippet`, `parentId={thread id}`, `maxResults=100`, `textFormat=plainText`.

`search.list` (100 units) is never used. Owner replies are recognised by
`authorChannelId.value == channel id`. Quota units spent are returned in FetchResult.quota_units
(monitor.poll adds them to the Pacific-time quota day). Cursor: channel_id, uploads, profile_at,
profile, last_video_published, video_ids_seen (bounded), recheck {video id: published},
rechecked_at, comments_since, reply_counts {thread: count} (bounded).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
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
    parse_time,
    require,
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
        """New uploads since the cursor, plus videos due a recheck of their captions or live state."""
        seen: list[str] = list(self.cursor.get("video_ids_seen") or [])
        last = self.cursor.get("last_video_published")
        new = self._new_uploads(set(seen), cursor_since(last, self.window_start))
        recheck = self._recheck_set()
        due = self._recheck_due(recheck, new)
        posts = self._videos([*new, *due])
        for post in posts:
            if post.video_captions != "yes" or post.live:
                recheck[post.native_id] = iso(post.created_at)
            else:
                recheck.pop(post.native_id, None)
        self._advance_upload_cursor(seen, new, recheck, last, rechecked=bool(due))
        return posts

    def _new_uploads(self, seen: set[str], since: datetime) -> dict[str, datetime]:
        """Video id -> publication time of the uploads in the window not seen before (newest pages first)."""
        new: dict[str, datetime] = {}
        pages = self._pages(
            "playlistItems", part="snippet,contentDetails", playlistId=self.cursor["uploads"], maxResults=50
        )
        for body in pages:
            items = [
                as_dict(i, "youtube playlistItem")
                for i in as_list(body.get("items"), "youtube playlistItems")
            ]
            oldest_on_page = None
            for item in items:
                video_id, published = _playlist_item(item)
                oldest_on_page = published if oldest_on_page is None else min(oldest_on_page, published)
                if video_id not in seen and published >= self.window_start:
                    new[video_id] = published
            if oldest_on_page is None or oldest_on_page < since:
                break
        return new

    def _recheck_set(self) -> dict[str, str]:
        """Videos whose captions were missing (or that were live), still inside the window."""
        return {
            k: v
            for k, v in dict(self.cursor.get("recheck") or {}).items()
            if parse_time(v, "cursor") >= self.window_start
        }

    def _recheck_due(self, recheck: dict[str, str], new: dict[str, datetime]) -> list[str]:
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
            for item in as_list(body.get("items"), "youtube videos items"):
                post = self.ctx.normalise(
                    "post", item, functools.partial(self._video, as_dict(item, "youtube video"))
                )
                if post is not None:  # None: set aside, it kept failing
                    posts.append(post)
        return posts

    def _advance_upload_cursor(
        self,
        seen: list[str],
        new: dict[str, datetime],
        recheck: dict[str, str],
        last: str | None,
        rechecked: bool,
    ) -> None:
        if rechecked:
            self.cursor["rechecked_at"] = iso(self.now)
        seen = [*seen, *(v for v in new if v not in seen)][-MAX_SEEN:]
        newest = max(new.values(), default=None)
        if newest and (not last or newest > parse_time(last, "cursor")):
            self.cursor["last_video_published"] = iso(newest)
        self.cursor.update(video_ids_seen=seen, recheck=recheck)

    def _video(self, item: dict[str, Any]) -> Post:
        video_id = native_id(require(item, "id", "youtube video"), "youtube video")
        where = f"youtube video {video_id}"
        snippet = as_dict(require(item, "snippet", where), where)
        details = as_dict(item.get("contentDetails"), where)
        title = str(snippet.get("title") or "")
        description = str(snippet.get("description") or "")
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
            threads = [
                as_dict(t, "youtube commentThread")
                for t in as_list(body.get("items"), "commentThreads items")
            ]
            oldest = None
            for thread in threads:
                thread_id = native_id(require(thread, "id", "youtube commentThread"), "youtube commentThread")
                snippet = as_dict(require(thread, "snippet", thread_id), thread_id)
                top = as_dict(require(snippet, "topLevelComment", thread_id), thread_id)
                video_id = str(snippet.get("videoId") or "")
                inline = [
                    as_dict(c, thread_id)
                    for c in as_list(as_dict(thread.get("replies"), thread_id).get("comments"), thread_id)
                ]
                total = int(snippet.get("totalReplyCount") or 0)
                if total > len(inline) and counts.get(thread_id) != total:
                    inline = self._all_replies(thread_id)
                counts[thread_id] = total
                top_record = self.ctx.normalise(
                    "message",
                    top,
                    functools.partial(self._comment, top, channel_id, video_id, thread_id, parent=""),
                )
                if top_record is not None:
                    oldest = top_record.created_at if oldest is None else min(oldest, top_record.created_at)
                for record in [
                    top_record,
                    *(
                        self.ctx.normalise(
                            "message",
                            c,
                            functools.partial(self._comment, c, channel_id, video_id, thread_id, thread_id),
                        )
                        for c in inline
                    ),
                ]:
                    if record is None or record.created_at < since - OVERLAP:
                        continue
                    (replies if isinstance(record, Reply) else messages).append(record)  # type: ignore[arg-type]
            if oldest is None or oldest < since:
                break
        newest = max([m.created_at for m in messages] + [r.created_at for r in replies], default=None)
        if newest and newest > since:
            self.cursor["comments_since"] = iso(newest)
        if len(counts) > MAX_THREADS_TRACKED:
            counts = dict(list(counts.items())[-MAX_THREADS_TRACKED:])
        self.cursor["reply_counts"] = counts
        return messages, replies

    def _all_replies(self, thread_id: str) -> list[dict[str, Any]]:
        comments: list[dict[str, Any]] = []
        for body in self._pages(
            "comments", part="snippet", parentId=thread_id, maxResults=100, textFormat="plainText"
        ):
            comments.extend(
                as_dict(c, "youtube comment") for c in as_list(body.get("items"), "comments items")
            )
        return comments

    def _comment(
        self, comment: dict[str, Any], channel_id: str, video_id: str, thread_id: str, parent: str
    ) -> Message | Reply:
        comment_id = native_id(require(comment, "id", "youtube comment"), "youtube comment")
        where = f"youtube comment {comment_id}"
        snippet = as_dict(require(comment, "snippet", where), where)
        author_id = str(as_dict(snippet.get("authorChannelId"), where).get("value") or "")
        text = str(snippet.get("textOriginal") or snippet.get("textDisplay") or "")  # raw text when given
        created = parse_time(require(snippet, "publishedAt", where), where)
        parent = str(snippet.get("parentId") or parent)
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


def _playlist_item(item: dict[str, Any]) -> tuple[str, datetime]:
    """(video id, publication time) of an uploads playlist item."""
    details = as_dict(item.get("contentDetails"), "playlistItem contentDetails")
    video_id = str(
        details.get("videoId")
        or as_dict(as_dict(item.get("snippet"), "s").get("resourceId"), "r").get("videoId")
        or ""
    )
    if not video_id:
        raise BadPayload("youtube playlistItem without a video id")
    published_raw = details.get("videoPublishedAt") or as_dict(item.get("snippet"), "snippet").get(
        "publishedAt"
    )
    return video_id, parse_time(published_raw, f"youtube playlistItem {video_id}")
