"""What every check shares: the `Check` class, the `CheckContext` it is given, and small text helpers.

A check is a pure function of the context: the account's stored records (already loaded by
`monitor.checking`), the policy settings and `now`. It does no I/O and keeps no state, so a test
gives it records and a clock, and running it twice gives the same findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from monitor.config import Account, Policy
from monitor.coverage import CoverageGap, CredentialState, DiscoveredAccount
from monitor.models import Finding, Message, Post, ProfileSnapshot, Reply, ScheduledPost, Severity
from monitor.worktime import WorkingTime

WELSH_LABELS = frozenset({"cy", "cy+en"})


@dataclass(frozen=True)
class PollState:
    """The scheduler's view of an account's polling (from AccountStateRow and the latest PollRun)."""

    last_poll_at: datetime | None = None
    last_status: str | None = None
    last_ok_at: datetime | None = None
    failing_since: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class Emergency:
    started_at: datetime
    reason: str = ""


@dataclass(frozen=True)
class PostingHistory:
    """An account's normal behaviour, learnt from its stored posts before the judged look-back
    (post-anomaly), and its original posts of the last 30 days (clickable). Built by
    `monitor.history`."""

    start: datetime | None = None  # the oldest post of the baseline (None: no baseline posts)
    end: datetime | None = None  # the baseline stops here; posts from here on are judged
    posts: int = 0
    hours_utc: frozenset[int] = frozenset()  # UTC hours of day the account has posted in
    max_per_hour: int = 0  # the most posts it made in one clock hour
    max_per_10min: int = 0  # the most posts it made in one 10-minute slot of the clock (hh:00-hh:09, ...)
    domains: frozenset[str] = frozenset()  # link domains it has used ("www." removed)
    recent_originals: tuple[tuple[datetime, tuple[str, ...]], ...] = ()  # (created_at, links), 30 days


@dataclass(frozen=True)
class RegistryChange:
    """Someone left an account's people, or its manager changed (seen between two runs)."""

    person: str
    role: str  # "person" (left `people`) or "manager" (no longer the manager)
    at: datetime


@dataclass(frozen=True)
class AccessState:
    """What the database knows about an account's access reviews (access-review)."""

    first_seen_at: datetime  # when the registry of this account was first recorded
    changes: tuple[RegistryChange, ...] = ()  # oldest first
    last_confirmed_at: datetime | None = None
    last_confirmed_by: str = ""


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may read about one account at one instant."""

    account: Account
    policy: Policy
    now: datetime
    worktime: WorkingTime
    lookback: timedelta  # records older than now - lookback were not loaded (except open subjects)
    posts: tuple[Post, ...] = ()  # the account's posts, oldest first
    latest_original: Post | None = None  # newest original post ever (may be older than lookback)
    messages: tuple[Message, ...] = ()  # inbound messages, oldest first
    replies: tuple[Reply, ...] = ()  # the account's replies, oldest first
    profiles: tuple[ProfileSnapshot, ...] = ()  # newest first, at most three
    scheduled: tuple[ScheduledPost, ...] = ()  # still queued on the platform
    pair: Account | None = None
    pair_posts: tuple[Post, ...] = ()
    poll: PollState | None = None
    emergency: Emergency | None = None
    central_accounts: tuple[Account, ...] = ()
    history: PostingHistory | None = None  # post-anomaly, clickable
    access: AccessState | None = None  # access-review
    # credentials and coverage (issue 15)
    coverage_gaps: tuple[CoverageGap, ...] = ()  # features the latest poll could not read
    credential: CredentialState | None = None  # what `accounts verify` / a refresh last learnt
    unregistered: tuple[DiscoveredAccount, ...] = ()  # seen by the credentials, not in the registry

    @property
    def cadence(self) -> timedelta:
        return self.account.cadence or self.policy.cadence.for_platform(self.account.platform)

    @property
    def reply_sla(self) -> timedelta:
        return self.account.reply_sla or self.policy.reply_sla

    @property
    def counterpart_window(self) -> timedelta:
        return self.policy.counterpart_window


class Check:
    """One policy rule. Subclasses set the class attributes and implement `evaluate`."""

    id: ClassVar[str]
    title: ClassVar[str]
    policy_section: ClassVar[str]  # "<section>: <short quote>"
    severity: ClassVar[Severity]
    platforms: ClassVar[tuple[str, ...] | None] = None  # None: every platform
    # An immediate check alerts at once on its `route` (monitor.routing reads both); any other
    # check's findings wait for the digest unless a custom route takes them.
    immediate: ClassVar[bool] = False
    route: ClassVar[str | None] = None

    def applies_to(self, account: Account) -> bool:
        return self.platforms is None or account.platform in self.platforms

    def exemption(self, ctx: CheckContext) -> str | None:
        """Why this account is exempt from the check (listed, not evaluated), or None."""
        return None

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        raise NotImplementedError

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        """Why a finding about `subject` no longer holds (the finding is absent from `evaluate`)."""
        return "condition no longer holds"

    def finding(
        self,
        ctx: CheckContext,
        subject: str,
        since: datetime,
        detail: str,
        *,
        url: str = "",
        severity: Severity | None = None,
        title: str | None = None,
    ) -> Finding:
        return Finding(
            check=self.id,
            account_id=ctx.account.id,
            subject=subject,
            severity=severity or self.severity,
            since=since,
            title=title or self.title,
            detail=detail,
            policy_section=self.policy_section,
            url=url,
            immediate=self.immediate,
        )


# --- subjects ---------------------------------------------------------------------------------


def post_subject(post: Post) -> str:
    return f"post:{post.platform}:{post.native_id}"


def message_subject(message: Message) -> str:
    return f"message:{message.platform}:{message.native_id}"


def scheduled_subject(item: ScheduledPost) -> str:
    return f"scheduled:{item.platform}:{item.native_id}"


def subject_native_id(subject: str) -> str:
    """A subject's native id: "post:x:123" -> "123" (native ids may themselves contain colons)."""
    parts = subject.split(":", 2)
    return parts[2] if len(parts) == 3 else ""


# --- text helpers -----------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def excerpt(text: str, limit: int = 80) -> str:
    """A short one-line quote of platform text for a finding's detail."""
    flat = _SPACES.sub(" ", text or "").strip()
    if not flat:
        return "(no text)"
    return f"“{flat}”" if len(flat) <= limit else f"“{flat[: limit - 1].rstrip()}…”"


def when(instant: datetime, ctx: CheckContext) -> str:
    """An instant in the account's zone, for people: "Tue 4 Mar 14:05"."""
    local = instant.astimezone(ctx.worktime.tz)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def span(delta: timedelta) -> str:
    """A duration for people: "3 days 4 h", "5 h 20 min", "12 min"."""
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{minutes} min"


def is_welsh(label: str) -> bool:
    return label in WELSH_LABELS


@dataclass
class ReplyIndex:
    """The account's replies, indexed by what links them to an inbound message.

    What a reply answers depends on the platform's shape (docs/CHECKS.md, "What counts as a reply"):
    - comment threads (Facebook, Instagram, YouTube): a reply answers the comment it replies to,
      and a comment in a sub-thread is answered by a later reply to that sub-thread's top-level
      comment. A reply to one top-level comment never answers a different top-level comment.
    - DMs: a reply answers the earlier inbound messages of its conversation.
    - X: a reply answers the tweet it replies to, and earlier mentions by that tweet's author in
      the same conversation; never other people's mentions. A reply to the account's own tweet (a
      thread it continues) answers only the people it @mentions.
    - A top-level comment (or X reply) by the account, in the same conversation (post) and after
      the message, that @mentions the asker answers that asker.
    """

    by_target: dict[str, list[Reply]] = field(default_factory=dict)
    by_conversation: dict[str, list[Reply]] = field(default_factory=dict)
    authors: dict[str, str] = field(default_factory=dict)  # message native id -> author id
    own_posts: frozenset[str] = frozenset()  # the account's posts (native ids): self-thread targets

    @classmethod
    def build(
        cls, replies: Iterable[Reply], messages: Iterable[Message] = (), posts: Iterable[Post] = ()
    ) -> ReplyIndex:
        index = cls(own_posts=frozenset(post.native_id for post in posts))
        for reply in replies:
            if reply.in_reply_to:
                index.by_target.setdefault(reply.in_reply_to, []).append(reply)
            if reply.conversation_id:
                index.by_conversation.setdefault(reply.conversation_id, []).append(reply)
        for message in messages:
            index.authors[message.native_id] = message.author_id
        return index

    def replies_to(self, message: Message) -> list[Reply]:
        """The account's replies that answer a message, oldest first."""
        found: dict[tuple[str, str], Reply] = {}
        for reply in self.by_target.get(message.native_id, ()):
            found[(reply.platform, reply.native_id)] = reply
        for reply in self._later_answers(message):
            if reply.created_at >= message.created_at and reply.platform == message.platform:
                found[(reply.platform, reply.native_id)] = reply
        return sorted(found.values(), key=lambda r: (r.created_at, r.native_id))

    def _later_answers(self, message: Message) -> Iterable[Reply]:
        conversation: Sequence[Reply] = (
            self.by_conversation.get(message.conversation_id, ()) if message.conversation_id else ()
        )
        if message.channel == "dm":
            return conversation
        candidates: list[Reply] = []
        if message.channel == "reply" and message.in_reply_to:  # a comment in a sub-thread
            candidates.extend(self.by_target.get(message.in_reply_to, ()))
        if message.platform == "x":  # X replies carry every @handle of the thread: the author decides
            candidates.extend(r for r in conversation if self._same_author(r, message))
            # ...except in a reply to the account's own tweet, whose handles are the ones it chose.
            own_thread = (r for r in conversation if r.in_reply_to in self.own_posts)
            candidates.extend(r for r in own_thread if mentions_author(r.text, message))
            return candidates
        on_post = self.by_target.get(message.in_reply_to, ()) if message.channel == "comment" else ()
        candidates.extend(r for r in (*conversation, *on_post) if mentions_author(r.text, message))
        return candidates

    def _same_author(self, reply: Reply, message: Message) -> bool:
        author = self.authors.get(reply.in_reply_to)
        return bool(author) and author == message.author_id


def mentions_author(text: str, message: Message) -> bool:
    """The text @mentions the message's author (by handle or by name; Facebook tags drop the @)."""
    lowered = (text or "").lower()
    for name in (message.author_name, message.author_id):
        name = (name or "").strip().lstrip("@").lower()
        if not name:
            continue
        if re.search(rf"(?<![\w@])@{re.escape(name)}(?!\w)", lowered):
            return True
        if " " in name and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", lowered):
            return True  # a tagged full name ("Gwen Jones") appears without the @
    return False


def is_inbound(message: Message, account: Account) -> bool:
    """Not the account talking to itself (platforms list the account's own comments too)."""
    handle = account.handle or ""
    own = {value for value in (account.native_id, handle, handle.lstrip("@")) if value}
    return message.author_id not in own and message.author_name not in own


# --- enquiries --------------------------------------------------------------------------------


HIDDEN_REASON = "the comment was hidden"


def is_enquiry(message: Message) -> bool:
    """Every DM; a comment, reply or mention the connector marked as asking something. A comment
    the account's moderators hid (spam, abuse) is no enquiry: nobody is waiting for an answer."""
    if message.hidden:
        return False
    return message.channel == "dm" or message.is_enquiry


@dataclass(frozen=True)
class Overdue:
    message: Message
    due: datetime  # when the reply SLA ran out


def unanswered_enquiries(ctx: CheckContext, *, welsh_only: bool) -> list[Overdue]:
    """Enquiries with no reply from the account whose reply SLA (in working time) has run out."""
    index = ReplyIndex.build(ctx.replies, ctx.messages, ctx.posts)
    overdue = []
    for message in ctx.messages:
        if not is_enquiry(message) or not is_inbound(message, ctx.account):
            continue
        if welsh_only and not is_welsh(message.language):
            continue
        if message.created_at > ctx.now or index.replies_to(message):
            continue
        due = ctx.worktime.add(message.created_at, ctx.reply_sla)
        if ctx.now >= due:
            overdue.append(Overdue(message, due))
    return overdue


def enquiry_resolution(ctx: CheckContext, subject: str) -> str:
    """Why an unanswered-enquiry finding resolved: a reply, or the message is gone from view."""
    native_id = subject_native_id(subject)
    message = next((m for m in ctx.messages if m.native_id == native_id), None)
    if message is None:
        return "the message is no longer stored (deleted, or older than the look-back)"
    replies = ReplyIndex.build(ctx.replies, ctx.messages, ctx.posts).replies_to(message)
    if replies:
        language = " in Welsh" if is_welsh(replies[0].language) else ""
        return f"a reply{language} arrived ({when(replies[0].created_at, ctx)})"
    if message.hidden:
        return HIDDEN_REASON
    if not is_enquiry(message):
        return "the message is no longer classed as an enquiry"
    return "condition no longer holds"


def sla_detail(ctx: CheckContext, item: Overdue, what: str) -> str:
    message = item.message
    hours = ctx.worktime.describe()
    return (
        f"{what} from {message.author_name or message.author_id or 'someone'} ({message.channel}, "
        f"{when(message.created_at, ctx)}) {excerpt(message.text)} has had no reply; the policy "
        f"allows {span(ctx.reply_sla)} of monitoring hours ({hours}), so it was due by "
        f"{when(item.due, ctx)}. Reply to it."
    )


class UnansweredEnquiryCheck(Check):
    """A finding for each enquiry whose reply SLA ran out unanswered: response-time for every
    enquiry, welsh-unanswered for Welsh ones only (the two enforce different policy sentences)."""

    welsh_only: ClassVar[bool]
    enquiry_noun: ClassVar[str]  # how the finding's detail names the message: "An enquiry"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        return [
            self.finding(
                ctx,
                message_subject(item.message),
                item.due,
                sla_detail(ctx, item, self.enquiry_noun),
                url=item.message.url,
            )
            for item in unanswered_enquiries(ctx, welsh_only=self.welsh_only)
        ]

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        return enquiry_resolution(ctx, subject)
