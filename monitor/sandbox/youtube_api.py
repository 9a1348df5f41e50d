"""YouTube Data API v3 as the sandbox answers it: channels, playlistItems, videos, commentThreads, comments.

Shapes follow the recorded responses (sns-sdks/python-youtube test data): `kind`, `etag`,
`pageInfo`, `items` (left out when nothing matches, as the real API does for channels),
`nextPageToken`; only the `part`s asked for; `contentDetails.caption` as the strings "true" /
"false"; `snippet.liveBroadcastContent` and `liveStreamingDetails` for live streams; owner
replies carry `authorChannelId.value` equal to the channel id. Errors use Google's envelope.
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import datetime, timedelta
from typing import Any

from monitor.sandbox.http import Request, Response, cap, decode_token, encode_token, page
from monitor.sandbox.scenario import Failure, SAccount, SMessage, SPost, World

PARTS = {
    "channels": {
        "id",
        "snippet",
        "contentDetails",
        "statistics",
        "brandingSettings",
        "status",
        "topicDetails",
        "localizations",
    },
    "playlistItems": {"id", "snippet", "contentDetails", "status"},
    "videos": {
        "id",
        "snippet",
        "contentDetails",
        "status",
        "statistics",
        "liveStreamingDetails",
        "player",
        "topicDetails",
        "recordingDetails",
        "localizations",
    },
    "commentThreads": {"id", "snippet", "replies"},
    "comments": {"id", "snippet"},
}
MAX_RESULTS = {"channels": 50, "playlistItems": 50, "videos": 50, "commentThreads": 100, "comments": 100}
DEFAULT_RESULTS = {"channels": 5, "playlistItems": 5, "videos": 5, "commentThreads": 20, "comments": 20}


class YouTubeError(Exception):
    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        domain: str = "youtube.parameter",
        extra: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.reason, self.message, self.domain, self.extra = (
            status,
            reason,
            message,
            domain,
            extra or {},
        )

    def response(self) -> Response:
        status_names = {
            400: "INVALID_ARGUMENT",
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            500: "INTERNAL",
            503: "UNAVAILABLE",
        }
        error: dict[str, Any] = {
            "code": self.status,
            "message": self.message,
            "errors": [{"message": self.message, "domain": self.domain, "reason": self.reason, **self.extra}],
        }
        if self.status in status_names:
            error["status"] = status_names[self.status]
        return Response(self.status, {"error": error})


class YouTubeApi:
    def __init__(self, world: World):
        self.world = world

    def resource(self, request: Request) -> str | None:
        match = re.match(r"^/youtube/v3/(\w+)$", request.path)
        return match[1] if match and match[1] in PARTS else None

    def account_for(self, request: Request) -> SAccount | None:
        resource = self.resource(request)
        query = request.query
        with self.world.lock:
            if resource == "channels":
                if query.get("id"):
                    return self.world.by_native("youtube", query["id"].split(",")[0])
                if query.get("forHandle"):
                    return self.world.by_handle("youtube", query["forHandle"])
            if resource == "playlistItems":
                return self._by_playlist(query.get("playlistId", ""))
            if resource == "videos" and query.get("id"):
                return self._video_owner(query["id"].split(",")[0])
            if resource == "commentThreads":
                if query.get("allThreadsRelatedToChannelId"):
                    return self.world.by_native("youtube", query["allThreadsRelatedToChannelId"])
                if query.get("videoId"):
                    return self._video_owner(query["videoId"])
            if resource == "comments" and query.get("parentId"):
                return self._comment_owner(query["parentId"])
        return None

    def handle(self, request: Request) -> Response:
        try:
            if not (request.query.get("key") or request.bearer()):
                raise YouTubeError(403, "forbidden", "The request is missing a valid API key.", "global")
            resource = self.resource(request)
            if resource is None or request.method != "GET":
                raise YouTubeError(404, "notFound", "Not Found", "global")
            parts = self._parts(request, resource)
            size = self._max_results(request, resource)
            offset = 0
            if request.query.get("pageToken"):
                try:
                    offset = decode_token(request.query["pageToken"])
                except ValueError:
                    raise YouTubeError(
                        400, "invalidPageToken", "The request specifies an invalid page token."
                    ) from None
            with self.world.lock:
                items, kind = getattr(self, "_" + resource)(request, parts)
        except YouTubeError as exc:
            return exc.response()
        chunk, following = page(items, offset, cap(size, self.world.page_size_cap))
        body: dict[str, Any] = {
            "kind": f"youtube#{kind}ListResponse",
            "etag": _etag(resource, offset, len(items)),
        }
        if following is not None:
            body["nextPageToken"] = encode_token(following, resource)
        if offset:
            body["prevPageToken"] = encode_token(max(offset - size, 0), resource)
        body["pageInfo"] = {"totalResults": len(items), "resultsPerPage": size}
        if chunk or resource != "channels":
            body["items"] = chunk
        return Response(
            200,
            body,
            {"content-type": "application/json; charset=UTF-8", "vary": "Origin, X-Origin, Referer"},
        )

    def failure(self, failure: Failure, request: Request) -> Response:
        if failure.mode == "auth_expired":
            if request.query.get("key") and not request.bearer():
                error = YouTubeError(
                    400, "keyInvalid", "API key not valid. Please pass a valid API key.", "usageLimits"
                )
            else:
                error = YouTubeError(
                    401,
                    "authError",
                    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "  # noqa: E501 (the platform's own words)
                    "other valid authentication credential.",
                    "global",
                    {"location": "Authorization", "locationType": "header"},
                )
        elif failure.mode == "rate_limited":
            error = YouTubeError(
                403,
                "quotaExceeded",
                'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.',  # noqa: E501 (the platform's own words)
                "youtube.quota",
            )
        elif failure.mode == "permission_missing":
            error = YouTubeError(
                403, "forbidden", "The request is not properly authorized.", "youtube.commentThread"
            )
        else:
            error = YouTubeError(500, "backendError", "Backend Error", "global")
        response = error.response()
        if failure.status:
            response.status = failure.status
        return response

    # -- parameters -----------------------------------------------------------------------

    def _parts(self, request: Request, resource: str) -> set[str]:
        raw = request.query.get("part", "")
        if not raw:
            raise YouTubeError(
                400,
                "required",
                "No filter selected. Expected one of: ...",
                "global",
                {"location": "part", "locationType": "parameter"},
            )
        parts = {p.strip() for p in raw.split(",") if p.strip()}
        unknown = parts - PARTS[resource]
        if unknown:
            bad = sorted(unknown)[0]
            raise YouTubeError(
                400, "unknownPart", f"'{bad}'", extra={"location": "part", "locationType": "parameter"}
            )
        return parts

    def _max_results(self, request: Request, resource: str) -> int:
        try:
            size = request.int_param("maxResults", DEFAULT_RESULTS[resource])
        except ValueError:
            raise YouTubeError(400, "invalidParameter", "Invalid value for maxResults", "global") from None
        low = 1 if resource in {"commentThreads", "comments"} else 0
        if not low <= size <= MAX_RESULTS[resource]:
            raise YouTubeError(
                400,
                "invalidValue",
                f"Invalid value '{size}'. Values must be within the range: [{low}, {MAX_RESULTS[resource]}]",
                "global",
                {"location": "maxResults", "locationType": "parameter"},
            )
        return size or DEFAULT_RESULTS[resource]

    # -- lookups --------------------------------------------------------------------------

    def _channels_of(self) -> list[SAccount]:
        return [a for a in self.world.accounts.values() if a.platform == "youtube"]

    def _by_playlist(self, playlist_id: str) -> SAccount | None:
        return next((a for a in self._channels_of() if a.uploads_playlist == playlist_id), None)

    def _video_owner(self, video_id: str) -> SAccount | None:
        return next((a for a in self._channels_of() if a.post(video_id)), None)

    def _comment_owner(self, comment_id: str) -> SAccount | None:
        for account in self._channels_of():
            for message in account.inbox:
                if message.id == comment_id or (message.reply and message.reply.id == comment_id):
                    return account
        return None

    # -- resources ------------------------------------------------------------------------

    def _channels(self, request: Request, parts: set[str]) -> tuple[list[dict[str, Any]], str]:
        query = request.query
        if query.get("id"):
            accounts = [
                a for i in query["id"].split(",") if (a := self.world.by_native("youtube", i.strip()))
            ]
        elif query.get("forHandle"):
            accounts = [a for a in [self.world.by_handle("youtube", query["forHandle"])] if a]
        elif query.get("forUsername"):
            accounts = [a for a in [self.world.by_handle("youtube", query["forUsername"])] if a]
        elif query.get("mine") == "true":
            accounts = [a for a in [self.world.by_token(request.bearer())] if a and a.platform == "youtube"]
        else:
            raise YouTubeError(
                400,
                "missingRequiredParameter",
                "No filter selected. Expected one of: forHandle, forUsername, id, mine, managedByMe, categoryId",  # noqa: E501 (the platform's own words)
                "youtube.parameter",
            )
        return [self.channel(a, parts) for a in accounts], "channel"

    def channel(self, account: SAccount, parts: set[str]) -> dict[str, Any]:
        item: dict[str, Any] = {
            "kind": "youtube#channel",
            "etag": _etag(account.native_id, account.name, account.bio),
            "id": account.native_id,
        }
        thumbnails = {
            size: {"url": f"{account.avatar}?s={px}", "width": px, "height": px}
            for size, px in (("default", 88), ("medium", 240), ("high", 800))
        }
        if "snippet" in parts:
            item["snippet"] = {
                "title": account.name,
                "description": account.bio,
                "customUrl": "@" + account.handle.lower(),
                "publishedAt": "2011-09-01T09:00:00Z",
                "thumbnails": thumbnails,
                "localized": {"title": account.name, "description": account.bio},
                "country": "GB",
            }
        if "contentDetails" in parts:
            item["contentDetails"] = {"relatedPlaylists": {"likes": "", "uploads": account.uploads_playlist}}
        if "statistics" in parts:
            item["statistics"] = {
                "viewCount": "120000",
                "subscriberCount": "3400",
                "hiddenSubscriberCount": False,
                "videoCount": str(len(account.posts)),
            }
        if "brandingSettings" in parts:
            item["brandingSettings"] = {
                "channel": {"title": account.name, "description": account.bio, "country": "GB"}
            }
        if "status" in parts:
            item["status"] = {"privacyStatus": "public", "isLinked": True, "longUploadsStatus": "allowed"}
        return item

    def _playlistItems(self, request: Request, parts: set[str]) -> tuple[list[dict[str, Any]], str]:
        playlist = request.query.get("playlistId", "")
        if not playlist and not request.query.get("id"):
            raise YouTubeError(
                400, "missingRequiredParameter", "No filter selected. Expected one of: id, playlistId"
            )
        account = self._by_playlist(playlist)
        if account is None:
            raise YouTubeError(
                404,
                "playlistNotFound",
                "The playlist identified with the request's <code>playlistId</code> parameter cannot be found.",  # noqa: E501 (the platform's own words)
                "youtube.playlistItem",
                {"location": "playlistId", "locationType": "parameter"},
            )
        videos = [
            p for p in account.posts if p.at <= request.now and p.video and p.video.live not in {"upcoming"}
        ]
        return [
            self.playlist_item(account, post, position, parts) for position, post in enumerate(videos)
        ], "playlistItem"

    def playlist_item(self, account: SAccount, post: SPost, position: int, parts: set[str]) -> dict[str, Any]:
        item: dict[str, Any] = {
            "kind": "youtube#playlistItem",
            "etag": _etag(post.id, position),
            "id": _b64(f"{account.uploads_playlist}.{post.id}"),
        }
        if "snippet" in parts:
            item["snippet"] = {
                "publishedAt": yt_time(post.at),
                "channelId": account.native_id,
                "title": post.title or post.text[:60],
                "description": post.text,
                "thumbnails": _video_thumbnails(post.id),
                "channelTitle": account.name,
                "playlistId": account.uploads_playlist,
                "position": position,
                "resourceId": {"kind": "youtube#video", "videoId": post.id},
                "videoOwnerChannelTitle": account.name,
                "videoOwnerChannelId": account.native_id,
            }
        if "contentDetails" in parts:
            item["contentDetails"] = {"videoId": post.id, "videoPublishedAt": yt_time(post.at)}
        if "status" in parts:
            item["status"] = {"privacyStatus": "public"}
        return item

    def _videos(self, request: Request, parts: set[str]) -> tuple[list[dict[str, Any]], str]:
        ids = [i.strip() for i in request.query.get("id", "").split(",") if i.strip()]
        if not ids:
            raise YouTubeError(
                400, "missingRequiredParameter", "No filter selected. Expected one of: chart, id, myRating"
            )
        if len(ids) > 50:
            raise YouTubeError(400, "invalidValue", "Too many ids (at most 50)")
        items = []
        for video_id in ids:
            account = self._video_owner(video_id)
            post = account.post(video_id) if account else None
            if account and post:
                items.append(self.video(account, post, parts, request.now))
        return items, "video"

    def video(self, account: SAccount, post: SPost, parts: set[str], now: datetime) -> dict[str, Any]:
        video = post.video
        live = video.live if video else "none"
        item: dict[str, Any] = {"kind": "youtube#video", "etag": _etag(post.id, post.text), "id": post.id}
        if "snippet" in parts:
            item["snippet"] = {
                "publishedAt": yt_time(post.at),
                "channelId": account.native_id,
                "title": post.title or post.text[:60],
                "description": post.text,
                "thumbnails": _video_thumbnails(post.id),
                "channelTitle": account.name,
                "categoryId": "27",
                "liveBroadcastContent": live if live in {"live", "upcoming"} else "none",
                "localized": {"title": post.title or post.text[:60], "description": post.text},
            }
        if "contentDetails" in parts:
            item["contentDetails"] = {
                "duration": "P0D" if live in {"live", "upcoming"} else (video.duration if video else "PT1M"),
                "dimension": "2d",
                "definition": "hd",
                "caption": "true" if video and video.captions else "false",
                "licensedContent": False,
                "contentRating": {},
                "projection": "rectangular",
            }
        if "status" in parts:
            item["status"] = {
                "uploadStatus": "processed",
                "privacyStatus": "public",
                "license": "youtube",
                "embeddable": True,
                "publicStatsViewable": True,
                "madeForKids": False,
            }
        if "statistics" in parts:
            item["statistics"] = {
                "viewCount": "250",
                "likeCount": "12",
                "favoriteCount": "0",
                "commentCount": str(sum(1 for m in account.inbox if m.on == post.id)),
            }
        if "liveStreamingDetails" in parts and live != "none":
            details: dict[str, Any] = {"scheduledStartTime": yt_time(post.at)}
            if live in {"live", "completed"}:
                details["actualStartTime"] = yt_time(post.at)
            if live == "completed":
                details["actualEndTime"] = yt_time(post.at + timedelta(hours=1))
            if live == "live":
                details["concurrentViewers"] = "42"
            item["liveStreamingDetails"] = details
        return item

    def _commentThreads(self, request: Request, parts: set[str]) -> tuple[list[dict[str, Any]], str]:
        query = request.query
        text_format = query.get("textFormat", "html")
        if query.get("videoId"):
            account = self._video_owner(query["videoId"])
            if account is None:
                raise YouTubeError(
                    404,
                    "videoNotFound",
                    'The video identified by the <code><a href="/youtube/v3/docs/commentThreads/list#videoId">videoId</a></code> parameter could not be found.',  # noqa: E501 (the platform's own words)
                    "youtube.commentThread",
                    {"location": "videoId", "locationType": "parameter"},
                )
            messages = [
                m for m in account.inbox if m.on == query["videoId"] and m.channel in {"comment", "mention"}
            ]
        elif query.get("allThreadsRelatedToChannelId"):
            account = self.world.by_native("youtube", query["allThreadsRelatedToChannelId"])
            if account is None:
                raise YouTubeError(
                    404, "channelNotFound", "The channel could not be found.", "youtube.commentThread"
                )
            messages = [m for m in account.inbox if m.channel in {"comment", "mention"}]
        elif query.get("id"):
            wanted = set(query["id"].split(","))
            found = [(a, m) for a in self._channels_of() for m in a.inbox if m.id in wanted]
            return [self.thread(a, m, parts, text_format) for a, m in found], "commentThread"
        else:
            raise YouTubeError(
                400,
                "missingRequiredParameter",
                "No filter selected. Expected one of: allThreadsRelatedToChannelId, id, videoId",
            )
        messages = [m for m in messages if m.at <= request.now]
        messages.sort(
            key=lambda m: self._thread_updated(account, m), reverse=True
        )  # order=time: latest activity first
        return [self.thread(account, m, parts, text_format) for m in messages], "commentThread"

    def _thread_updated(self, account: SAccount, top: SMessage) -> datetime:
        times = [top.at] + [c.at for c in self._replies(account, top)]
        return max(times)

    def thread(self, account: SAccount, top: SMessage, parts: set[str], text_format: str) -> dict[str, Any]:
        replies = self._replies(account, top)
        item: dict[str, Any] = {
            "kind": "youtube#commentThread",
            "etag": _etag(top.id, len(replies)),
            "id": top.id,
        }
        if "snippet" in parts:
            item["snippet"] = {
                "channelId": account.native_id,
                "videoId": top.on,
                "topLevelComment": self.comment(
                    account, top.id, top.at, top.text, top.author_id, top.author_name, top.on, "", text_format
                ),
                "canReply": True,
                "totalReplyCount": len(replies),
                "isPublic": True,
            }
        if "replies" in parts and replies:
            item["replies"] = {"comments": [r.render(self, account, text_format) for r in replies[:5]]}
        return item

    def _replies(self, account: SAccount, top: SMessage) -> list[_Reply]:
        replies: list[_Reply] = []
        for message in account.inbox:
            if message is top or (message.channel == "reply" and message.parent == top.id):
                if message is not top:
                    replies.append(
                        _Reply(
                            message.id,
                            message.at,
                            message.text,
                            message.author_id,
                            message.author_name,
                            top.on,
                            top.id,
                        )
                    )
                if message.reply:
                    replies.append(
                        _Reply(
                            message.reply.id,
                            message.reply.at,
                            message.reply.text,
                            account.native_id,
                            account.name,
                            top.on,
                            top.id,
                        )
                    )
        return sorted(replies, key=lambda r: r.at)

    def _comments(self, request: Request, parts: set[str]) -> tuple[list[dict[str, Any]], str]:
        query = request.query
        text_format = query.get("textFormat", "html")
        if query.get("parentId"):
            account = self._comment_owner(query["parentId"])
            top = account.message(query["parentId"]) if account else None
            if account is None or top is None:
                raise YouTubeError(
                    404,
                    "commentNotFound",
                    "The comment identified by the <code>parentId</code> parameter could not be found.",
                    "youtube.comment",
                )
            return [r.render(self, account, text_format) for r in self._replies(account, top)], "comment"
        if query.get("id"):
            wanted = set(query["id"].split(","))
            out = []
            for account in self._channels_of():
                for message in account.inbox:
                    if message.id in wanted:
                        out.append(
                            self.comment(
                                account,
                                message.id,
                                message.at,
                                message.text,
                                message.author_id,
                                message.author_name,
                                message.on,
                                message.parent,
                                text_format,
                            )
                        )
            return out, "comment"
        raise YouTubeError(
            400, "missingRequiredParameter", "No filter selected. Expected one of: id, parentId"
        )

    def comment(
        self,
        account: SAccount,
        cid: str,
        at: datetime,
        text: str,
        author_id: str,
        author_name: str,
        video_id: str,
        parent: str,
        text_format: str,
    ) -> dict[str, Any]:
        display = text if text_format == "plainText" else html.escape(text).replace("\n", "<br>")
        owner = author_id == account.native_id
        snippet: dict[str, Any] = {
            "channelId": account.native_id,
            "videoId": video_id,
            "textDisplay": display,
            "textOriginal": text,
            "authorDisplayName": ("@" + account.handle.lower())
            if owner
            else "@" + re.sub(r"\W", "", author_name.lower()),
            "authorProfileImageUrl": f"https://sandbox.invalid/people/{author_id}.jpg",
            "authorChannelUrl": f"http://www.youtube.com/channel/{author_id}",
            "authorChannelId": {"value": author_id},
            "canRate": True,
            "viewerRating": "none",
            "likeCount": 0,
            "publishedAt": yt_time(at),
            "updatedAt": yt_time(at),
        }
        if parent:
            snippet["parentId"] = parent
        return {"kind": "youtube#comment", "etag": _etag(cid, text), "id": cid, "snippet": snippet}


class _Reply:
    def __init__(
        self, cid: str, at: datetime, text: str, author_id: str, author_name: str, video_id: str, parent: str
    ):
        self.cid, self.at, self.text, self.author_id, self.author_name, self.video_id, self.parent = (
            cid,
            at,
            text,
            author_id,
            author_name,
            video_id,
            parent,
        )

    def render(self, api: YouTubeApi, account: SAccount, text_format: str) -> dict[str, Any]:
        return api.comment(
            account,
            self.cid,
            self.at,
            self.text,
            self.author_id,
            self.author_name,
            self.video_id,
            self.parent,
            text_format,
        )


def yt_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _etag(*values: Any) -> str:
    return hashlib.sha1("/".join(map(str, values)).encode()).hexdigest()[:27]


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode().rstrip("=")


def _video_thumbnails(video_id: str) -> dict[str, Any]:
    return {
        size: {"url": f"https://i.ytimg.com/vi/{video_id}/{name}.jpg", "width": w, "height": h}
        for size, name, w, h in (
            ("default", "default", 120, 90),
            ("medium", "mqdefault", 320, 180),
            ("high", "hqdefault", 480, 360),
        )
    }
