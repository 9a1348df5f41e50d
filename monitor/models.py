"""Normalised records: what connectors return and what checks read.

Platform JSON never leaves `connectors/`; everything after a connector speaks these frozen
dataclasses. All datetimes are timezone-aware (UTC from connectors).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

# A platform name: a key of `connectors.specs.SPECS`, the one place that lists platforms.
Platform = str

PostKind = Literal["original", "reply", "share", "quote"]
MessageChannel = Literal["comment", "reply", "mention", "dm"]
Captions = Literal["yes", "no", "unknown"]
Severity = Literal["info", "low", "warning", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "low", "warning", "high", "critical")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class ProfileSnapshot:
    account_id: str
    taken_at: datetime
    name: str
    handle: str
    text: str
    avatar_fingerprint: str
    url: str = ""
    language: str = "unknown"  # tagged by the poll, like a post's
    language_confidence: float = 0.0
    languages: tuple[str, ...] = ()  # the labels of its segments: a Welsh line in English text is "cy"

    @property
    def has_welsh(self) -> bool:
        return self.language in ("cy", "cy+en") or "cy" in self.languages

    def identity(self) -> tuple[str, str, str, str]:
        """What a hijack would change: compared between snapshots."""
        return (self.name, self.handle, self.text, self.avatar_fingerprint)


@dataclass(frozen=True)
class Post:
    platform: str
    native_id: str
    account_id: str
    created_at: datetime
    text: str
    url: str = ""
    kind: PostKind = "original"
    language: str = "unknown"
    language_confidence: float = 0.0
    links: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    media: tuple[str, ...] = ()  # media keys / attachment ids shared between counterparts
    has_video: bool = False
    video_captions: Captions = "unknown"
    live: bool = False  # live or upcoming broadcast (exempt from captions)
    title: str = ""


@dataclass(frozen=True)
class Message:
    """An inbound message to the account: a comment, a reply, a mention or a DM."""

    platform: str
    native_id: str
    account_id: str
    channel: MessageChannel
    author_id: str
    author_name: str
    created_at: datetime
    text: str
    language: str = "unknown"
    language_confidence: float = 0.0
    is_enquiry: bool = False
    in_reply_to: str = ""  # native id of the post/message this one answers
    conversation_id: str = ""
    url: str = ""
    hidden: bool = False  # hidden by the account's moderators (Facebook is_hidden, Instagram hidden)


@dataclass(frozen=True)
class Reply:
    """The account's own reply to an inbound message."""

    platform: str
    native_id: str
    account_id: str
    created_at: datetime
    text: str
    in_reply_to: str  # native id of the message it answers (may be a post for a thread)
    conversation_id: str = ""
    language: str = "unknown"
    language_confidence: float = 0.0


@dataclass(frozen=True)
class ScheduledPost:
    """A post queued on the platform but not yet published (Facebook scheduled_posts)."""

    platform: str
    native_id: str
    account_id: str
    scheduled_for: datetime | None
    text: str
    url: str = ""


@dataclass(frozen=True)
class RateLimit:
    """What a platform said about one rate-limit bucket; stored for the scheduler."""

    platform: str
    bucket: str  # endpoint or usage header name
    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None
    used_percent: float | None = None  # Graph usage headers give a percentage


@dataclass
class FetchResult:
    """Everything one poll of one account produced, plus the cursor to store with it."""

    account_id: str
    profile: ProfileSnapshot | None = None
    posts: list[Post] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    scheduled: list[ScheduledPost] | None = None  # None: not fetched; [] fetched and empty
    cursor: dict[str, Any] = field(default_factory=dict)
    api_calls: int = 0
    quota_units: int = 0
    rate_limits: list[RateLimit] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Features the poll could not read: (feature, reason, fix); the `coverage` check reads them.
    gaps: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Finding:
    """A breach a check found. Identity: fingerprint(check, account, subject)."""

    check: str
    account_id: str
    subject: str  # e.g. "post:x:1234", "message:facebook:55_66", "profile", "registry"
    severity: Severity
    since: datetime  # when the breach began (e.g. when the SLA ran out)
    title: str
    detail: str
    policy_section: str
    url: str = ""
    immediate: bool = False  # alert now rather than in the digest

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.check, self.account_id, self.subject)


def fingerprint(check: str, account_id: str, subject: str) -> str:
    raw = "\x1f".join((check, account_id, subject)).encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def __getattr__(name: str) -> Any:
    # `PLATFORMS` (all platform names) now comes from the platform specs; read lazily so that
    # importing the records does not import the connectors package.
    if name == "PLATFORMS":
        from connectors.specs import PLATFORM_NAMES

        return PLATFORM_NAMES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
