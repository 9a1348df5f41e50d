"""SQLAlchemy 2.0 models of the store (DESIGN section 3).

The schema is owned by Alembic migrations in `monitor/migrations/`; after changing a model here,
run `python scripts/regen_migration.py` while the project is unreleased (later: a new revision).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on both dialects (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        from datetime import UTC

        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        from datetime import UTC

        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


# --- records polled from the platforms --------------------------------------------------------


class PostRow(Base):
    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("platform", "native_id", name="uq_posts_platform_native"),
        Index("ix_posts_account_created", "account_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    native_id: Mapped[str] = mapped_column(String(128))
    account_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), default="original")
    title: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="unknown")
    language_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    links: Mapped[list[Any]] = mapped_column(JSON, default=list)
    hashtags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    media: Mapped[list[Any]] = mapped_column(JSON, default=list)
    has_video: Mapped[bool] = mapped_column(Boolean, default=False)
    video_captions: Mapped[str] = mapped_column(String(8), default="unknown")
    live: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("platform", "native_id", name="uq_messages_platform_native"),
        Index("ix_messages_account_created", "account_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    native_id: Mapped[str] = mapped_column(String(128))
    account_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[str] = mapped_column(String(128), default="")
    author_name: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="unknown")
    language_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    is_enquiry: Mapped[bool] = mapped_column(Boolean, default=False)
    in_reply_to: Mapped[str] = mapped_column(String(128), default="")
    conversation_id: Mapped[str] = mapped_column(String(128), default="")
    url: Mapped[str] = mapped_column(Text, default="")
    first_seen_at: Mapped[datetime]
    # hidden comments (0008): moderated away on Facebook/Instagram, kept for history
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ReplyRow(Base):
    __tablename__ = "replies"
    __table_args__ = (
        UniqueConstraint("platform", "native_id", name="uq_replies_platform_native"),
        Index("ix_replies_account_in_reply_to", "account_id", "in_reply_to"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    native_id: Mapped[str] = mapped_column(String(128))
    account_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text, default="")
    in_reply_to: Mapped[str] = mapped_column(String(128), default="")
    conversation_id: Mapped[str] = mapped_column(String(128), default="")
    language: Mapped[str] = mapped_column(String(8), default="unknown")
    language_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    first_seen_at: Mapped[datetime]


class ProfileSnapshotRow(Base):
    """A new row only when what a hijack would change differs from the latest snapshot."""

    __tablename__ = "profile_snapshots"
    __table_args__ = (Index("ix_profiles_account_taken", "account_id", "taken_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64))
    taken_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    name: Mapped[str] = mapped_column(Text, default="")
    handle: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    avatar_fingerprint: Mapped[str] = mapped_column(String(128), default="")
    url: Mapped[str] = mapped_column(Text, default="")
    # Language tagged by the poll (issue 17); NULL (stored before, or written without it) is tagged when read.
    language: Mapped[str | None] = mapped_column(String(8))
    language_confidence: Mapped[float | None] = mapped_column(Float)
    languages: Mapped[list[Any] | None] = mapped_column(JSON)


class ScheduledPostRow(Base):
    __tablename__ = "scheduled_posts"
    __table_args__ = (UniqueConstraint("platform", "native_id", name="uq_scheduled_platform_native"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    native_id: Mapped[str] = mapped_column(String(128))
    account_id: Mapped[str] = mapped_column(String(64), index=True)
    scheduled_for: Mapped[datetime | None]
    text: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(Text, default="")
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    gone_at: Mapped[datetime | None]  # no longer queued (published or deleted)


# --- polling state ----------------------------------------------------------------------------


class CursorRow(Base):
    __tablename__ = "cursors"
    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime]


class PollRunRow(Base):
    __tablename__ = "poll_runs"
    __table_args__ = (Index("ix_poll_runs_account_started", "account_id", "started_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(24))  # ok | warning | <error kind>
    error_kind: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    quota_units: Mapped[int] = mapped_column(Integer, default=0)
    new_posts: Mapped[int] = mapped_column(Integer, default=0)
    new_messages: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[list[Any]] = mapped_column(JSON, default=list)


class AccountStateRow(Base):
    """Scheduler-facing state of one account (derived from poll runs, kept for cheap reads)."""

    __tablename__ = "account_state"
    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_poll_at: Mapped[datetime | None]
    last_status: Mapped[str | None] = mapped_column(String(24))
    last_ok_at: Mapped[datetime | None]
    failing_since: Mapped[datetime | None]
    next_poll_at: Mapped[datetime | None]
    slowed: Mapped[bool] = mapped_column(Boolean, default=False)


class RateLimitRow(Base):
    __tablename__ = "rate_limits"
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(128), primary_key=True)
    limit: Mapped[int | None] = mapped_column(Integer)
    remaining: Mapped[int | None] = mapped_column(Integer)
    reset_at: Mapped[datetime | None]
    used_percent: Mapped[float | None] = mapped_column(Float)
    blocked_until: Mapped[datetime | None]  # set by a 429: no request before this
    updated_at: Mapped[datetime]


class QuotaUsageRow(Base):
    """Units spent per platform per quota day (YouTube: Pacific-time day)."""

    __tablename__ = "quota_usage"
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    units: Mapped[int] = mapped_column(Integer, default=0)


# --- findings, alerts, emergencies -------------------------------------------------------------


class FindingRow(Base):
    __tablename__ = "findings"
    __table_args__ = (
        # One open finding per fingerprint; a re-opened breach is a new row.
        Index(
            "uq_findings_open_fingerprint",
            "fingerprint",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_findings_account_status", "account_id", "status"),
        Index("ix_findings_state_until", "state", "state_until"),  # triage: expiry is looked for often
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    check: Mapped[str] = mapped_column(String(48))
    account_id: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | resolved
    title: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    policy_section: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(Text, default="")
    immediate: Mapped[bool] = mapped_column(Boolean, default=False)
    since: Mapped[datetime]
    opened_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolve_reason: Mapped[str | None] = mapped_column(Text)
    # --- triage (findings have a human side): none | acknowledged | snoozed | dismissed ---
    state: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    state_at: Mapped[datetime | None]
    state_by: Mapped[str | None] = mapped_column(String(255))
    state_note: Mapped[str | None] = mapped_column(Text)  # a dismissal's reason, or the note given
    state_until: Mapped[datetime | None]  # a snooze's or a dismissal's expiry


class FindingEventRow(Base):
    """Triage: the audit trail of one finding (acknowledged, snoozed, dismissed, reopened, expired)."""

    __tablename__ = "finding_events"
    __table_args__ = (Index("ix_finding_events_finding_at", "finding_id", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(255), default="")
    action: Mapped[str] = mapped_column(String(16))  # acknowledged | snoozed | dismissed | reopened | expired
    note: Mapped[str | None] = mapped_column(Text)
    until: Mapped[datetime | None]


class AlertRow(Base):
    """The outbox: one row per (alert, channel). Persisted before anything is sent."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_status_next", "status", "next_attempt_at"),
        Index("ix_alerts_fingerprint", "fingerprint"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id", ondelete="SET NULL"))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    route: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(
        String(16)
    )  # first | repeat | resolved | digest | test | emergency | operations
    severity: Mapped[str] = mapped_column(String(16), default="info")
    subject: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(
        String(16), default="pending"
    )  # pending | sending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    source_created_at: Mapped[datetime | None]  # when the thing alerted about happened (latency)
    # Idempotency key ("finding:<id>:<route>:<channel>:first", "digest:<route>:<due>:<channel>", ...):
    # a unique index makes enqueueing the same alert twice a no-op, even from two processes.
    dedup_key: Mapped[str | None] = mapped_column(String(255), unique=True)


class AlertAttemptRow(Base):
    __tablename__ = "alert_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16))  # delivered | retry | failed
    error: Mapped[str | None] = mapped_column(Text)
    instance: Mapped[str | None] = mapped_column(String(128))


class EmergencyRow(Base):
    __tablename__ = "emergencies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime]
    started_by: Mapped[str] = mapped_column(String(128), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(128))
    taken_up_at: Mapped[datetime | None]  # when the daemon noticed the start
    summary_sent_at: Mapped[datetime | None]


class ScheduleStateRow(Base):
    """Named next-due times that must survive restarts (the digest per route, housekeeping)."""

    __tablename__ = "schedule_state"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_due_at: Mapped[datetime | None]
    last_done_at: Mapped[datetime | None]


class InstanceRow(Base):
    """Running instances and their heartbeats; `is_leader` says who holds the lock."""

    __tablename__ = "instances"
    instance_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)


# --- webhooks: subscriptions and seen deliveries (monitor/hooks) -------------------------------


class WebhookSubscriptionRow(Base):
    """One push subscription per account (a Page's subscribed_apps, a channel's WebSub lease)."""

    __tablename__ = "webhook_subscriptions"
    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # meta | websub
    topic: Mapped[str] = mapped_column(Text, default="")  # WebSub topic URL; the Page id for Meta
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | active | failed | denied
    requested_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    lease_expires_at: Mapped[datetime | None]  # WebSub only
    last_delivery_at: Mapped[datetime | None]  # the last accepted (signed) delivery naming the account
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    silent_since: Mapped[datetime | None]  # hints stopped: the account is back on its schedule alone


class WebhookDeliveryRow(Base):
    """Digests of accepted deliveries, so that a replayed one is refused (kept two days)."""

    __tablename__ = "webhook_deliveries"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)


# --- access-review (issue 12): the last-seen registry per account, who left, and confirmations ---


class AccountRegistryRow(Base):
    """The people and manager an account had in the configuration the last time checks ran."""

    __tablename__ = "account_registry"
    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    people: Mapped[list[Any]] = mapped_column(JSON, default=list)
    manager: Mapped[str | None] = mapped_column(String(255))
    first_seen_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RegistryChangeRow(Base):
    """Someone left an account's people, or stopped being its manager (their access must go)."""

    __tablename__ = "registry_changes"
    __table_args__ = (Index("ix_registry_changes_account", "account_id", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64))
    person: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # person | manager
    at: Mapped[datetime]


class AccessConfirmationRow(Base):
    """`socialmon accounts confirm-access`: access removed and password changed, or reviewed."""

    __tablename__ = "access_confirmations"
    __table_args__ = (Index("ix_access_confirmations_account", "account_id", "confirmed_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64))
    confirmed_by: Mapped[str] = mapped_column(String(255))
    note: Mapped[str] = mapped_column(Text, default="")
    confirmed_at: Mapped[datetime]


# --- credentials and coverage (issue 15: accounts verify/authorize/discover) ----------------


class OAuthTokenRow(Base):
    """An account's OAuth 2.0 user grant, encrypted with SOCIALMON_TOKEN_KEY (Fernet).

    `pending_refresh_at` is written before a refresh is sent (write-ahead): when it is still set
    and the stored refresh token is refused, the process died between the platform's answer and
    this row's update, and only `accounts authorize` recovers.
    """

    __tablename__ = "oauth_tokens"
    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    access_token: Mapped[str] = mapped_column(Text)  # Fernet token
    refresh_token: Mapped[str | None] = mapped_column(Text)  # Fernet token
    expires_at: Mapped[datetime | None]
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime]
    pending_refresh_at: Mapped[datetime | None]
    refresh_failed: Mapped[str | None] = mapped_column(Text)


class CredentialFactRow(Base):
    """What `accounts verify` (or a refresh) last learnt about an account's credential."""

    __tablename__ = "credential_facts"
    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    checked_at: Mapped[datetime]
    valid: Mapped[bool] = mapped_column(Boolean)
    expires_at: Mapped[datetime | None]
    data_access_expires_at: Mapped[datetime | None]
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    problem: Mapped[str | None] = mapped_column(Text)


class CoverageGapRow(Base):
    """A feature of an account the latest poll (or verify) could not read."""

    __tablename__ = "coverage_gaps"
    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    feature: Mapped[str] = mapped_column(String(32), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    fix: Mapped[str] = mapped_column(Text)
    since: Mapped[datetime]
    seen_at: Mapped[datetime]


class DiscoveredAccountRow(Base):
    """An account the credentials can see (from `accounts discover`), registered or not."""

    __tablename__ = "discovered_accounts"
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    native_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    handle: Mapped[str] = mapped_column(String(128), default="")
    seen_at: Mapped[datetime]


# --- hostile input and failing surroundings (issue 18) ----------------------------------------


class SetAsideItemRow(Base):
    """A polled item that could not be stored: kept aside so the account's other items still flow."""

    __tablename__ = "set_aside_items"
    __table_args__ = (UniqueConstraint("account_id", "record_type", "native_id", name="uq_set_aside_item"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(16))
    record_type: Mapped[str] = mapped_column(String(16))  # post | message | reply | profile | scheduled
    native_id: Mapped[str] = mapped_column(String(255))
    error: Mapped[str] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=1)
    first_failed_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]


class ChannelHealthRow(Base):
    """An alert channel's delivery health: consecutive timeouts, and since when it counts as broken."""

    __tablename__ = "channel_health"
    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    consecutive_timeouts: Mapped[int] = mapped_column(Integer, default=0)
    broken_since: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]
