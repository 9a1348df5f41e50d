"""Facebook Pages through facebook-sdk's `GraphAPI` (see connectors/graph.py for the version fix).

Endpoints called (host = `platforms.facebook.base_url`, default https://graph.facebook.com; every path
starts with `/{graph_version}`, default v25.0; the token goes as the `access_token` query/form
parameter, as facebook-sdk sends it). This list is the sandbox's specification: keep it exact.

Steady state, ONE request per poll (field expansion nests everything the token may read):

  GET /{version}/{page-id}?fields=<PAGE_FIELDS>,<POSTS_EDGE>[,<SCHEDULED_EDGE>][,<CONVERSATIONS_EDGE>]

  PAGE_FIELDS        id,name,username,about,description,link,picture{url}
  POSTS_EDGE         published_posts.since(<unix window start>).limit(50){id,message,created_time,
                     permalink_url,status_type,parent_id,
                     attachments{media_type,type,url,unshimmed_url,target{id,url},media},
                     comments.filter(stream).order(reverse_chronological).limit(50){id,message,created_time,
                     from{id,name},parent{id},permalink_url,is_hidden}}
  SCHEDULED_EDGE     scheduled_posts.limit(100){id,message,scheduled_publish_time,permalink_url}
  CONVERSATIONS_EDGE conversations.limit(25){id,updated_time,link,messages.limit(25){id,message,created_time,
                     from{id,name}}}

  The window start is `now - policy.backfill`: posts in the window are re-read so that new comments
  on them are seen. `scheduled_posts` and `conversations` are nested only once a probe has shown
  the token may read them.

Probe (first poll, when a nested edge is refused, and once a day for a refused edge): ONE batch
  POST /{version}/ with form
  `batch=[{"method":"GET","relative_url":"{page-id}?fields=<PAGE_FIELDS>,<POSTS_EDGE>"},
  {"method":"GET","relative_url":"{page-id}/scheduled_posts?fields=id,message,scheduled_publish_time,permalink_url&limit=100"},
  {"method":"GET","relative_url":"{page-id}/conversations?fields=id,updated_time,link,messages.limit(25){...}&limit=25"}]`
  and `include_headers=false`; answers are `[{"code": 200, "body": "<json>"}, ...]`.

Paging (only when a page of results is full and still newer than the cursor): GET of the
`paging.next` URL Meta returned (published_posts, a post's comments, conversations).

Records: posts -> Post; comments by others -> Message (channel comment, or reply when `parent` is
set); comments whose `from.id` is the Page -> Reply (in_reply_to = parent comment, else the post);
conversation messages from others -> Message(dm), from the Page -> Reply to the latest inbound
message of that conversation. Scheduled posts -> FetchResult.scheduled (None when not readable).
Rate limits: `x-app-usage` and `x-business-use-case-usage` headers are stored; Graph error codes
4/17/32/613/80001+ are `RateLimited`. Cursor: page_id, comments_since, dm_since, optional edge
state {"scheduled_posts"|"conversations": "ok"|"denied"}, denied_at, dm_last_inbound.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.access import meta_discover, meta_verify, page_token
from connectors.base import (
    AuthExpired,
    BaseConnector,
    PermissionMissing,
    PollContext,
    as_dict,
    as_list,
    avatar_fingerprint,
    cursor_since,
    hashtags_in,
    iso,
    links_in,
    native_id,
    optional_text,
    page_older_than,
    parse_time,
    require,
    time_or_none,
    unique,
)
from connectors.dm_threads import DmEvent, DmThreads
from connectors.graph import GraphClient, strip_query
from connectors.specs import FACEBOOK_SPEC
from monitor.config import Account, GraphPlatform
from monitor.coverage import DiscoveredAccount, TokenGrant, Verification
from monitor.models import FetchResult, Message, Post, PostKind, ProfileSnapshot, Reply, ScheduledPost

PAGE_FIELDS = "id,name,username,about,description,link,picture{url}"
POST_FIELDS = (
    "id,message,created_time,permalink_url,status_type,parent_id,"
    "attachments{media_type,type,url,unshimmed_url,target{id,url},media}"
)
COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},permalink_url,is_hidden"
POSTS_LIMIT = 50
COMMENTS_LIMIT = 50
SCHEDULED_FIELDS = "id,message,scheduled_publish_time,permalink_url"
MESSAGE_FIELDS = "id,message,created_time,from{id,name}"
CONVERSATIONS_LIMIT = 25
MESSAGES_LIMIT = 25
OVERLAP = timedelta(hours=1)  # re-read a little before the cursor: Graph is eventually consistent
OPTIONAL_RECHECK = timedelta(hours=24)
OPTIONAL_EDGES = ("scheduled_posts", "conversations")
EARLIEST = datetime.min.replace(tzinfo=UTC)


def posts_edge(window_start: datetime) -> str:
    comments = (
        f"comments.filter(stream).order(reverse_chronological).limit({COMMENTS_LIMIT}){{{COMMENT_FIELDS}}}"
    )
    since = int(window_start.timestamp())
    return f"published_posts.since({since}).limit({POSTS_LIMIT}){{{POST_FIELDS},{comments}}}"


SCHEDULED_EDGE = f"scheduled_posts.limit(100){{{SCHEDULED_FIELDS}}}"
CONVERSATION_FIELDS = f"id,updated_time,link,messages.limit({MESSAGES_LIMIT}){{{MESSAGE_FIELDS}}}"
CONVERSATIONS_EDGE = f"conversations.limit({CONVERSATIONS_LIMIT}){{{CONVERSATION_FIELDS}}}"
NESTED = {"scheduled_posts": SCHEDULED_EDGE, "conversations": CONVERSATIONS_EDGE}


class FacebookConnector(BaseConnector[GraphPlatform]):
    spec = FACEBOOK_SPEC

    def verify(
        self, account: Account, now: datetime, *, grant: TokenGrant | None = None, grant_problem: str = ""
    ) -> Verification:
        debugged = self.__dict__.setdefault("_debugged", {})  # per connector, i.e. per verify run
        return meta_verify(
            self.spec, self.settings, self.transport, account, self.credential(account), now, debugged
        )

    def discover(self) -> list[DiscoveredAccount]:
        token = self.settings.access_token
        return meta_discover(self.settings, self.transport, token.get_secret_value()) if token else []

    def _fetch(
        self, ctx: PollContext, account: Account, cursor: dict[str, Any], now: datetime
    ) -> FetchResult:
        return _PagePoll(self, account, cursor, now, ctx).run()


class _PagePoll:
    """One poll of one Page: the request plan, then normalisation."""

    def __init__(
        self,
        connector: FacebookConnector,
        account: Account,
        cursor: dict[str, Any],
        now: datetime,
        ctx: PollContext,
    ):
        token = connector.credential(account)
        if not token:
            raise AuthExpired(f"account {account.id}: no Facebook Page access token configured")
        page_ref = account.native_id or cursor.get("page_id") or (account.handle or "").lstrip("@")
        if connector.settings.page_tokens:
            token = page_token(connector.settings, connector.transport, token, page_ref, now)
        self.account = account
        self.cursor = cursor
        self.now = now
        self.ctx = ctx
        self.graph = GraphClient(connector.settings, token, "facebook", ctx, connector.transport)
        self.page_ref = page_ref
        self.window_start = now - connector.config.policy.backfill
        self.comments_since = cursor_since(cursor.get("comments_since"), self.window_start)
        self.dm_since = cursor_since(cursor.get("dm_since"), self.window_start)
        self.edges: dict[str, str] = dict(cursor.get("edges") or {})

    # -- request plan ---------------------------------------------------------------------------

    def run(self) -> FetchResult:
        main_fields = f"{PAGE_FIELDS},{posts_edge(self.window_start)}"
        to_probe = [e for e in OPTIONAL_EDGES if self._needs_probe(e)]
        page: dict[str, Any]
        optional: dict[str, dict[str, Any] | None] = {}
        if to_probe:
            page, optional = self._probe(main_fields, to_probe)
        else:
            nested = [NESTED[e] for e in OPTIONAL_EDGES if self.edges.get(e) == "ok"]
            try:
                page = self.graph.get(self.page_ref, {"fields": ",".join([main_fields, *nested])}, "page")
            except PermissionMissing:
                if not nested:
                    raise
                # A nested edge lost its permission: find out which, in the same poll.
                self.edges = {}
                page, optional = self._probe(main_fields, list(OPTIONAL_EDGES))
        for edge in OPTIONAL_EDGES:
            if edge not in optional and self.edges.get(edge) == "ok":
                optional[edge] = as_dict(page.get(edge), f"facebook page.{edge}") or {"data": []}
        return self._records(page, optional)

    def _needs_probe(self, edge: str) -> bool:
        state = self.edges.get(edge)
        if state == "ok":
            return False
        if state == "denied":
            denied_at = self.cursor.get("denied_at")
            return not denied_at or parse_time(denied_at, "cursor.denied_at") + OPTIONAL_RECHECK <= self.now
        return True

    def _probe(
        self, main_fields: str, edges: list[str]
    ) -> tuple[dict[str, Any], dict[str, dict[str, Any] | None]]:
        items: list[tuple[str, dict[str, Any]]] = [(self.page_ref, {"fields": main_fields})]
        for edge in edges:
            if edge == "scheduled_posts":
                items.append((f"{self.page_ref}/scheduled_posts", {"fields": SCHEDULED_FIELDS, "limit": 100}))
            else:
                items.append(
                    (
                        f"{self.page_ref}/conversations",
                        {"fields": CONVERSATION_FIELDS, "limit": CONVERSATIONS_LIMIT},
                    )
                )
        answers = self.graph.batch(items, "probe")
        if answers[0].error:
            raise answers[0].error
        optional: dict[str, dict[str, Any] | None] = {}
        for edge, answer in zip(edges, answers[1:], strict=True):
            if answer.error is None:
                self.edges[edge] = "ok"
                optional[edge] = answer.body
            elif isinstance(answer.error, PermissionMissing):
                self.edges[edge] = "denied"
                self.cursor["denied_at"] = iso(self.now)
                optional[edge] = None
            else:
                raise answer.error
        return answers[0].body, optional

    # -- records --------------------------------------------------------------------------------

    def _records(self, page: dict[str, Any], optional: dict[str, dict[str, Any] | None]) -> FetchResult:
        page_id = native_id(require(page, "id", "facebook page"), "facebook page")
        profile = self._profile(page, page_id)
        posts: list[Post] = []
        messages: list[Message] = []
        replies: list[Reply] = []
        for raw in self.graph.all_pages(
            as_dict(page.get("published_posts"), "facebook published_posts"), "published_posts"
        ):
            post = self.ctx.normalise("post", raw, functools.partial(self._post, raw))
            if post is None or post.created_at < self.window_start:
                continue
            posts.append(post)
            for comment in self._comments(raw, post.native_id):
                record = self.ctx.normalise(
                    "message", comment, functools.partial(self._comment_record, comment, post, page_id)
                )
                if isinstance(record, Reply):
                    replies.append(record)
                elif record is not None:
                    messages.append(record)
        newest = max([m.created_at for m in messages] + [r.created_at for r in replies], default=None)
        if newest and newest > self.comments_since:
            self.cursor["comments_since"] = iso(newest)

        scheduled = None
        queue = optional.get("scheduled_posts")
        if self.edges.get("scheduled_posts") == "ok" and queue is not None:
            scheduled = [self._scheduled(s) for s in as_list(queue.get("data"), "scheduled_posts")]
        elif self.edges.get("scheduled_posts") == "denied":
            self.ctx.warnings.append(
                "facebook scheduled_posts: not readable with this token; emergency queue unknown"
            )
            self.ctx.gaps.append(
                (
                    "scheduled_posts",
                    "the scheduled queue is not readable with this token",
                    "grant pages_manage_posts and the Create content task on the Page to the system user",
                )
            )
        if self.edges.get("conversations") == "ok" and optional.get("conversations") is not None:
            dms, dm_replies = self._conversations(optional["conversations"], page_id)  # type: ignore[arg-type]
            messages.extend(dms)
            replies.extend(dm_replies)
        elif self.edges.get("conversations") == "denied":
            self.ctx.warnings.append(
                "facebook conversations: not readable with this token (pages_messaging); DMs not checked"
            )
            self.ctx.gaps.append(
                (
                    "direct_messages",
                    "Page conversations are not readable with this token",
                    "grant pages_messaging and pages_manage_metadata to the system user",
                )
            )

        self.cursor.update(page_id=page_id, edges=self.edges)
        return self.ctx.result(
            profile=profile,
            posts=posts,
            messages=messages,
            replies=replies,
            scheduled=scheduled,
            cursor=self.cursor,
        )

    def _profile(self, page: dict[str, Any], page_id: str) -> ProfileSnapshot:
        picture = as_dict(
            as_dict(page.get("picture"), "facebook picture").get("data"), "facebook picture.data"
        )
        about = str(page.get("about") or "")
        description = str(page.get("description") or "")
        return ProfileSnapshot(
            account_id=self.account.id,
            taken_at=self.now,
            name=str(page.get("name") or ""),
            handle=str(page.get("username") or page_id),
            text="\n\n".join(t for t in (about, description) if t),
            avatar_fingerprint=avatar_fingerprint(picture.get("url")),
            url=str(page.get("link") or f"https://www.facebook.com/{page_id}"),
        )

    def _post(self, raw: dict[str, Any]) -> Post:
        post_id = native_id(require(raw, "id", "facebook post"), "facebook post")
        where = f"facebook post {post_id}"
        text = str(raw.get("message") or "")
        links: list[str] = list(links_in(text))
        media: list[str] = []
        has_video = False
        for attachment in as_list(as_dict(raw.get("attachments"), where).get("data"), where):
            attachment = as_dict(attachment, where)
            target = as_dict(attachment.get("target"), where)
            kind = str(attachment.get("media_type") or attachment.get("type") or "")
            if kind == "link":
                links.append(
                    str(attachment.get("unshimmed_url") or target.get("url") or attachment.get("url") or "")
                )
            image = as_dict(as_dict(attachment.get("media"), where).get("image"), where)
            media.append(str(target.get("id") or strip_query(image.get("src"))))
            has_video = has_video or "video" in kind
        status_type = str(raw.get("status_type") or "")
        kind_: PostKind = "share" if raw.get("parent_id") else "original"
        return Post(
            platform="facebook",
            native_id=post_id,
            account_id=self.account.id,
            created_at=parse_time(require(raw, "created_time", where), where),
            text=text,
            url=str(raw.get("permalink_url") or f"https://www.facebook.com/{post_id}"),
            kind=kind_,
            links=unique(links),
            hashtags=hashtags_in(text),
            media=unique(media),
            has_video=has_video,
            live="live" in status_type,
        )

    def _comments(self, raw: dict[str, Any], post_id: str) -> list[Any]:
        """The post's comments newer than the cursor; one whose time cannot be read is kept, so
        that normalising names it (and sets it aside if it keeps failing)."""
        edge = as_dict(raw.get("comments"), f"facebook post {post_id} comments")
        comments = self.graph.all_pages(
            edge,
            f"post {post_id} comments",
            stop=lambda page: page_older_than(page, "created_time", self.comments_since),
        )
        fresh = []
        for comment in comments:
            created = _created(comment)
            # an older comment is kept when hidden, so that hiding it later updates the stored flag
            if created is None or created >= self.comments_since - OVERLAP or _hidden(comment):
                fresh.append(comment)
        return fresh

    def _comment_record(self, comment: dict[str, Any], post: Post, page_id: str) -> Message | Reply | None:
        comment_id = native_id(require(comment, "id", "facebook comment"), "facebook comment")
        where = f"facebook comment {comment_id}"
        author = as_dict(comment.get("from"), where)
        parent = str(as_dict(comment.get("parent"), where).get("id") or "")
        text = str(comment.get("message") or "")
        created = parse_time(require(comment, "created_time", where), where)
        if str(author.get("id") or "") == page_id:
            return Reply(
                platform="facebook",
                native_id=comment_id,
                account_id=self.account.id,
                created_at=created,
                text=text,
                in_reply_to=parent or post.native_id,
                conversation_id=post.native_id,
            )
        return Message(
            platform="facebook",
            native_id=comment_id,
            account_id=self.account.id,
            channel="reply" if parent else "comment",
            author_id=str(author.get("id") or ""),
            author_name=str(author.get("name") or ""),
            created_at=created,
            text=text,
            in_reply_to=parent or post.native_id,
            conversation_id=post.native_id,
            url=str(comment.get("permalink_url") or ""),
            hidden=_hidden(comment),
        )

    def _scheduled(self, raw: Any) -> ScheduledPost:
        raw = as_dict(raw, "facebook scheduled post")
        post_id = native_id(require(raw, "id", "facebook scheduled post"), "facebook scheduled post")
        when = raw.get("scheduled_publish_time")
        scheduled_for = None
        if isinstance(when, int | float) or (isinstance(when, str) and when.isdigit()):
            scheduled_for = datetime.fromtimestamp(int(when), UTC)
        elif isinstance(when, str):
            scheduled_for = parse_time(when, f"facebook scheduled post {post_id}")
        return ScheduledPost(
            platform="facebook",
            native_id=post_id,
            account_id=self.account.id,
            scheduled_for=scheduled_for,
            text=str(raw.get("message") or ""),
            url=str(raw.get("permalink_url") or ""),
        )

    def _conversations(self, edge: dict[str, Any], page_id: str) -> tuple[list[Message], list[Reply]]:
        """Each message normalised on its own (one that keeps failing is set aside, the others flow),
        then threaded oldest first. Paging and filtering read times leniently: a message or
        conversation whose time cannot be read is kept, so that normalising names it."""
        threads = DmThreads("facebook", self.account.id, self.cursor)
        newest = self.dm_since
        for conversation in self.graph.all_pages(
            edge, "conversations", stop=lambda page: page_older_than(page, "updated_time", self.dm_since)
        ):
            conversation = as_dict(conversation, "facebook conversation")
            conversation_id = native_id(
                require(conversation, "id", "facebook conversation"), "facebook conversation"
            )
            updated = time_or_none(conversation.get("updated_time"))
            if updated is not None and updated < self.dm_since - OVERLAP:
                continue
            thread = self.graph.all_pages(
                as_dict(conversation.get("messages"), f"facebook conversation {conversation_id} messages"),
                f"conversation {conversation_id}",
                stop=lambda page: page_older_than(page, "created_time", self.dm_since),
            )
            link = conversation.get("link")
            url = f"https://www.facebook.com{link}" if isinstance(link, str) and link else ""
            for raw in sorted(thread, key=_message_order):
                event = self.ctx.normalise(
                    "message", raw, functools.partial(_dm_event, raw, conversation_id, page_id, url)
                )
                if event is None:
                    continue  # set aside: it kept failing
                recent = event.created_at >= self.dm_since - OVERLAP  # older ones only thread it
                threads.add(event, keep=recent)
                if recent and not event.outbound:
                    newest = max(newest, event.created_at)
        newest = max([newest, *(r.created_at for r in threads.replies)])
        if newest > self.dm_since:
            self.cursor["dm_since"] = iso(newest)
        threads.save(self.cursor)
        return threads.messages, threads.replies


def _dm_event(raw: Any, conversation_id: str, page_id: str, url: str) -> DmEvent:
    """One conversation message, every field it needs checked. A message without an id cannot be
    named and so cannot be set aside: like a post without one, it fails the poll (no item)."""
    message_id = native_id(require(raw, "id", "facebook message"), "facebook message")
    where = f"facebook message {message_id}"
    author = as_dict(require(raw, "from", where), f"{where} from")
    author_id = native_id(require(author, "id", f"{where} from"), f"{where} from.id")
    return DmEvent(
        native_id=message_id,
        conversation_id=conversation_id,
        created_at=parse_time(require(raw, "created_time", where), where),
        text=optional_text(raw.get("message"), f"{where} message"),
        outbound=author_id == page_id,
        author_id=author_id,
        author_name=str(author.get("name") or ""),
        url=url,
    )


def _hidden(comment: Any) -> bool:
    """Whether the Page's moderators hid the comment (`is_hidden`; absent reads as shown)."""
    return isinstance(comment, dict) and comment.get("is_hidden") is True


def _created(raw: Any) -> datetime | None:
    return time_or_none(raw.get("created_time")) if isinstance(raw, dict) else None


def _message_order(raw: Any) -> tuple[int, datetime]:
    """Sort key, oldest first; messages whose time cannot be read come first, to be named by
    normalisation before anything is threaded."""
    created = _created(raw)
    return (0, EARLIEST) if created is None else (1, created)
