"""The typed seams between the daemon's pieces: what each piece the service calls looks like, the
payload an alert carries, and the closed sets of statuses and kinds.

Types only: nothing here runs, and the pieces' modules are imported for type checking alone, so
any module can import this one without import cycles or start-up cost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.checking import CheckRun
    from monitor.config import Account, Config
    from monitor.outbox import SendReport
    from monitor.poll import PollOutcome
    from monitor.store import Store

# Why a poll failed (`ConnectorError.kind`, stored as the PollRun status).
ErrorKind = Literal[
    "error",
    "auth_expired",
    "permission_missing",
    "rate_limited",
    "transient",
    "bad_payload",
    "rejected",
    "store_failed",  # the poll's records could not be stored (monitor.poll, issue 18)
]
# A poll's status: it worked, it worked with warnings, or why it failed.
PollStatus = Literal["ok", "warning", ErrorKind]
# An outbox row's state, and why it was queued.
AlertStatus = Literal["pending", "sending", "delivered", "failed"]
AlertReason = Literal["first", "repeat", "resolved", "digest", "test", "emergency", "operations", "report"]
AlertKind = Literal["finding", "notice", "digest", "test", "report"]


class AlertPayload(TypedDict, total=False):
    """`AlertRow.payload` / `OutgoingAlert.payload`: what a notifier renders (no secrets)."""

    kind: AlertKind
    title: str
    text: str
    facts: list[list[str]]  # [label, value] pairs
    items: list[str]  # a list that may be long
    url: str
    url_title: str
    thread: str  # e-mail threading key
    check: str
    account_id: str
    account_label: str
    policy_section: str
    to: str  # recipient override, e.g. an account's manager
    digest: dict[str, Any]  # the digest's data, for kind "digest"
    # Output language (monitor.i18n): the row's channel language, the locale of these texts, and for a
    # bilingual channel each version's texts, Welsh first.
    language: str
    locale: str
    versions: list[dict[str, Any]]
    severity_label: str
    thread_topic: str
    report_html: str  # the whole parity report, for kind "report"


# --- the pieces the service orchestrates (monitor.service.Pieces) -------------------------------


class PollAccount(Protocol):
    def __call__(
        self, config: Config, store: Store, account: Account, now: datetime | None = None
    ) -> PollOutcome: ...


class RunChecks(Protocol):
    def __call__(
        self,
        config: Config,
        store: Store,
        now: datetime | None = None,
        account_ids: list[str] | None = None,
    ) -> CheckRun: ...


class RouteFindings(Protocol):
    def __call__(self, config: Config, store: Store, now: datetime | None = None) -> int: ...


class SendDue(Protocol):
    def __call__(
        self,
        config: Config,
        store: Store,
        now: datetime | None = None,
        instance_id: str = "",
        limit: int = 100,
    ) -> SendReport: ...


class SendDigestIfDue(Protocol):
    def __call__(self, config: Config, store: Store, now: datetime | None = None) -> bool: ...


class EnqueueAlert(Protocol):
    """Queue one alert on every channel of a route, in the caller's transaction (routing.enqueue_alert)."""

    def __call__(
        self,
        session: Session,
        config: Config,
        route: str,
        reason: AlertReason,
        severity: str,
        subject: str,
        text: str = "",
        *,
        now: datetime | None = None,
        title: str | None = None,
        facts: Iterable[tuple[str, str]] = (),
        items: Iterable[str] = (),
        url: str = "",
        kind: AlertKind = "notice",
        dedup_key: str | None = None,
        finding_id: int | None = None,
        fingerprint: str | None = None,
        source_created_at: datetime | None = None,
        channels: Sequence[str] | None = None,
        extra: dict[str, Any] | None = None,
        localize: Callable[[str], dict[str, Any]] | None = None,
    ) -> list[int]: ...
