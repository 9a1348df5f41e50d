"""Instagram professional accounts through the Graph API (facebook-sdk `GraphAPI`, see graph.py).

Endpoints called (host = `platforms.instagram.base_url`, default https://graph.facebook.com; paths
start with `/{graph_version}`; token as the `access_token` query parameter). This list is the
sandbox's specification: keep it exact.

Every poll, ONE request:

  GET /{version}/{ig-user-id}?fields=id,username,name,biography,profile_picture_url,
      media.limit(25){id,caption,media_type,media_product_type,timestamp,permalink,media_url,thumbnail_url,
      comments.limit(50){id,text,timestamp,username,from{id,username},hidden,
      replies.limit(50){id,text,timestamp,username,from{id,username},hidden,parent_id}}}

Paging (bounded): the `paging.next` URL of `media` while the oldest media on the page is still inside
the backfill window (`policy.backfill`), and of a media's `comments` while the oldest comment is
newer than the cursor.

Records: media -> Post (has_video for VIDEO/REELS); comments by others -> Message(comment,
in_reply_to = media id); replies by others -> Message(reply, in_reply_to = the comment); comments
and replies by the account itself (`from.id` or `username` is the account) -> Reply. Instagram
DMs (Messenger `platform=instagram`) are not read. Cursor: ig_user_id, username, comments_since.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from connectors.access import meta_verify
from connectors.base import (
    AuthExpired,
    BaseConnector,
    PollContext,
    Rejected,
    as_dict,
    as_list,
    avatar_fingerprint,
    cursor_since,
    hashtags_in,
    iso,
    links_in,
    native_id,
    page_older_than,
    parse_time,
    require,
)
from connectors.graph import GraphClient, strip_query
from connectors.specs import INSTAGRAM_SPEC
from monitor.config import Account, GraphPlatform
from monitor.coverage import TokenGrant, Verification
from monitor.models import FetchResult, Message, Post, ProfileSnapshot, Reply

USER_FIELDS = "id,username,name,biography,profile_picture_url"
COMMENT_FIELDS = "id,text,timestamp,username,from{id,username},hidden"
REPLY_FIELDS = f"{COMMENT_FIELDS},parent_id"
MEDIA_FIELDS = "id,caption,media_type,media_product_type,timestamp,permalink,media_url,thumbnail_url"
MEDIA_LIMIT = 25
COMMENTS_LIMIT = 50
OVERLAP = timedelta(hours=1)
VIDEO_TYPES = {"VIDEO", "REELS"}


def user_fields() -> str:
    replies = f"replies.limit({COMMENTS_LIMIT}){{{REPLY_FIELDS}}}"
    comments = f"comments.limit({COMMENTS_LIMIT}){{{COMMENT_FIELDS},{replies}}}"
    return f"{USER_FIELDS},media.limit({MEDIA_LIMIT}){{{MEDIA_FIELDS},{comments}}}"


class InstagramConnector(BaseConnector[GraphPlatform]):
    spec = INSTAGRAM_SPEC

    def verify(
        self, account: Account, now: datetime, *, grant: TokenGrant | None = None, grant_problem: str = ""
    ) -> Verification:
        debugged = self.__dict__.setdefault("_debugged", {})  # per connector, i.e. per verify run
        return meta_verify(
            self.spec, self.settings, self.transport, account, self.credential(account), now, debugged
        )

    # Instagram professional accounts are found through the Pages they are linked to.
    discovery_note = (
        "Instagram: accounts are listed through the Facebook Pages they are linked to "
        "(platforms.facebook.access_token, a system-user token)"
    )

    def _fetch(
        self, ctx: PollContext, account: Account, cursor: dict[str, Any], now: datetime
    ) -> FetchResult:
        token = self.credential(account)
        if not token:
            raise AuthExpired(f"account {account.id}: no Instagram access token configured")
        if any(not getattr(account, name) for name in self.spec.required_ids):
            raise Rejected(
                f"account {account.id}: Instagram needs native_id (the IG professional account id)"
            )
        graph = GraphClient(self.settings, token, "instagram", ctx, self.transport)
        window_start = now - self.config.policy.backfill
        comments_since = cursor_since(cursor.get("comments_since"), window_start)

        user = graph.get(str(account.native_id), {"fields": user_fields()}, "user")
        user_id = native_id(require(user, "id", "instagram user"), "instagram user")
        username = str(user.get("username") or "")
        profile = ProfileSnapshot(
            account_id=account.id,
            taken_at=now,
            name=str(user.get("name") or ""),
            handle=username,
            text=str(user.get("biography") or ""),
            avatar_fingerprint=avatar_fingerprint(user.get("profile_picture_url")),
            url=f"https://www.instagram.com/{username}/" if username else "",
        )
        media = graph.all_pages(
            as_dict(user.get("media"), "instagram media"),
            "media",
            stop=lambda page: page_older_than(page, "timestamp", window_start),
        )
        posts: list[Post] = []
        messages: list[Message] = []
        replies: list[Reply] = []
        for raw in media:
            post = ctx.normalise("post", raw, functools.partial(self._post, account, raw))
            if post is None or post.created_at < window_start:
                continue
            posts.append(post)
            comments = graph.all_pages(
                as_dict(raw.get("comments"), "instagram comments"),
                f"media {post.native_id} comments",
                stop=lambda page: page_older_than(page, "timestamp", comments_since),
            )
            for comment in comments:
                comment = as_dict(comment, "instagram comment")
                thread = [
                    comment,
                    *as_list(as_dict(comment.get("replies"), "replies").get("data"), "replies"),
                ]
                for item in thread:
                    record = ctx.normalise(
                        "message",
                        item,
                        functools.partial(
                            self._comment,
                            account,
                            as_dict(item, "instagram reply"),
                            post,
                            comment,
                            user_id,
                            username,
                        ),
                    )
                    if record is None or (
                        record.created_at < comments_since - OVERLAP and not _hidden(record)
                    ):
                        continue  # an older comment is kept when hidden, so the stored flag follows
                    (replies if isinstance(record, Reply) else messages).append(record)  # type: ignore[arg-type]
        newest = max([m.created_at for m in messages] + [r.created_at for r in replies], default=None)
        if newest and newest > comments_since:
            cursor["comments_since"] = iso(newest)
        cursor.update(ig_user_id=user_id, username=username)
        return ctx.result(profile=profile, posts=posts, messages=messages, replies=replies, cursor=cursor)

    def _post(self, account: Account, raw: Any) -> Post:
        raw = as_dict(raw, "instagram media")
        media_id = native_id(require(raw, "id", "instagram media"), "instagram media")
        where = f"instagram media {media_id}"
        text = str(raw.get("caption") or "")
        media_type = str(raw.get("media_type") or "")
        product = str(raw.get("media_product_type") or "")
        return Post(
            platform="instagram",
            native_id=media_id,
            account_id=account.id,
            created_at=parse_time(require(raw, "timestamp", where), where),
            text=text,
            url=str(raw.get("permalink") or ""),
            links=links_in(text),
            hashtags=hashtags_in(text),
            media=tuple(m for m in (strip_query(raw.get("media_url") or raw.get("thumbnail_url")),) if m),
            has_video=media_type in VIDEO_TYPES or product in VIDEO_TYPES,
        )

    def _comment(
        self,
        account: Account,
        raw: dict[str, Any],
        post: Post,
        top: dict[str, Any],
        user_id: str,
        username: str,
    ) -> Message | Reply:
        comment_id = native_id(require(raw, "id", "instagram comment"), "instagram comment")
        where = f"instagram comment {comment_id}"
        author = as_dict(raw.get("from"), where)
        author_name = str(raw.get("username") or author.get("username") or "")
        author_id = str(author.get("id") or "")
        is_reply = raw is not top
        parent = str(raw.get("parent_id") or top.get("id")) if is_reply else ""
        text = str(raw.get("text") or "")
        created = parse_time(require(raw, "timestamp", where), where)
        own = (author_id and author_id == user_id) or (
            bool(username) and author_name.lower() == username.lower()
        )
        if own:
            return Reply(
                platform="instagram",
                native_id=comment_id,
                account_id=account.id,
                created_at=created,
                text=text,
                in_reply_to=parent or post.native_id,
                conversation_id=post.native_id,
            )
        return Message(
            platform="instagram",
            native_id=comment_id,
            account_id=account.id,
            channel="reply" if is_reply else "comment",
            author_id=author_id or author_name,
            author_name=author_name,
            created_at=created,
            text=text,
            in_reply_to=parent or post.native_id,
            conversation_id=post.native_id,
            url=post.url,
            hidden=raw.get("hidden") is True,
        )


def _hidden(record: Message | Reply) -> bool:
    return isinstance(record, Message) and record.hidden
