"""What the dashboard's pages read: a few grouped queries per page, never one per row.

Each function takes an open session, the config and `now`, and returns plain data for a template.
Anything that could carry a secret (poll errors, delivery errors) passes through the log redactor.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, func, literal, select, union_all
from sqlalchemy.orm import Session

from monitor.config import Account, Config
from monitor.db import (
    AccountStateRow,
    AlertRow,
    FindingRow,
    InstanceRow,
    MessageRow,
    PollRunRow,
    PostRow,
    ProfileSnapshotRow,
    QuotaUsageRow,
    RateLimitRow,
    ReplyRow,
)
from monitor.logs import redact

SEVERITIES = ("critical", "high", "warning", "low", "info")
LANGUAGE_LABELS = ("cy", "en", "cy+en", "other", "unknown")
WEEK = timedelta(days=7)


def severity_at_least(severity: str) -> tuple[str, ...]:
    """The severities as serious as `severity` or more."""
    return SEVERITIES[: SEVERITIES.index(severity) + 1] if severity in SEVERITIES else SEVERITIES


def language_mode(account: Account) -> str:
    """The account's language mode in the page's language (a request's)."""
    from monitor.web.i18n import _

    mode = account.language.mode
    if mode == "paired" and account.pair:
        return _("paired (%(lang)s, with %(pair)s)", lang=account.own_language, pair=account.pair)
    if mode == "bilingual":
        return _("bilingual")
    if mode == "exempt":
        return _("exempt")
    return mode


# --- overview -----------------------------------------------------------------------------------


@dataclass
class AccountSummary:
    account: Account
    language: str
    last_post_at: datetime | None = None
    open_by_severity: dict[str, int] = field(default_factory=dict)
    balance: dict[str, int] = field(default_factory=dict)
    last_poll_at: datetime | None = None
    last_status: str | None = None
    failing_since: datetime | None = None

    @property
    def open_total(self) -> int:
        return sum(self.open_by_severity.values())

    @property
    def welsh_share(self) -> int | None:
        """Per cent of this week's posts with Welsh in them (cy or cy+en), of those in cy/en/cy+en."""
        welsh = self.balance.get("cy", 0) + self.balance.get("cy+en", 0)
        total = welsh + self.balance.get("en", 0)
        return round(100 * welsh / total) if total else None

    @property
    def health(self) -> str:
        if self.last_status is None:
            return "never polled"
        return "ok" if self.last_status in {"ok", "warning"} else "failing"


def filter_accounts(
    config: Config, unit: str = "", platform: str = "", ids: list[str] | None = None
) -> list[Account]:
    accounts = [a for a in config.accounts if a.enabled]
    if unit:
        accounts = [a for a in accounts if a.unit == unit]
    if platform:
        accounts = [a for a in accounts if a.platform == platform]
    if ids is not None:
        wanted = set(ids)
        accounts = [a for a in accounts if a.id in wanted]
    return accounts


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def overview(
    session: Session,
    config: Config,
    now: datetime,
    *,
    unit: str = "",
    platform: str = "",
    severity: str = "",
) -> list[AccountSummary]:
    accounts = filter_accounts(config, unit, platform)
    ids = [a.id for a in accounts]
    summaries = {a.id: AccountSummary(a, language_mode(a)) for a in accounts}
    week_start = now - WEEK
    for chunk in _chunks(ids):
        # This week's posts by language (the (account_id, created_at) index answers it).
        for account_id, language, count, newest in session.execute(
            select(PostRow.account_id, PostRow.language, func.count(), func.max(PostRow.created_at))
            .where(PostRow.account_id.in_(chunk), PostRow.created_at >= week_start)
            .group_by(PostRow.account_id, PostRow.language)
        ):
            summary = summaries[account_id]
            label = language if language in LANGUAGE_LABELS else "other"
            summary.balance[label] = summary.balance.get(label, 0) + int(count)
            if summary.last_post_at is None or newest > summary.last_post_at:
                summary.last_post_at = newest
        for account_id, sev, count in session.execute(
            select(FindingRow.account_id, FindingRow.severity, func.count())
            .where(FindingRow.account_id.in_(chunk), FindingRow.status == "open")
            .group_by(FindingRow.account_id, FindingRow.severity)
        ):
            summaries[account_id].open_by_severity[sev] = int(count)
        for state in session.scalars(select(AccountStateRow).where(AccountStateRow.account_id.in_(chunk))):
            summary = summaries[state.account_id]
            summary.last_poll_at, summary.last_status = state.last_poll_at, state.last_status
            summary.failing_since = state.failing_since
    quiet = [a for a, s in summaries.items() if s.last_post_at is None]
    for newest_id, newest in _newest_posts(session, quiet):
        summaries[newest_id].last_post_at = newest
    result = list(summaries.values())
    if severity:
        wanted = severity_at_least(severity)
        result = [s for s in result if any(s.open_by_severity.get(sev) for sev in wanted)]
    return sorted(result, key=trouble_first)


def trouble_first(summary: AccountSummary) -> tuple[Any, ...]:
    """Accounts with the most serious open findings first, then failing polls, then by name."""
    counts = tuple(-summary.open_by_severity.get(sev, 0) for sev in SEVERITIES)
    return (*counts, summary.health != "failing", summary.account.name.lower(), summary.account.id)


def _newest_posts(session: Session, account_ids: list[str]) -> list[tuple[str, datetime]]:
    """The newest post of each account: one statement of per-account index lookups (max on
    (account_id, created_at) reads one index entry), not a scan of the year."""
    found: list[tuple[str, datetime]] = []
    for chunk in _chunks(account_ids, 200):
        if not chunk:
            continue
        lookups = [
            select(
                literal(account_id, String).label("account_id"),
                select(func.max(PostRow.created_at))
                .where(PostRow.account_id == account_id)
                .scalar_subquery()
                .label("newest"),
            )
            for account_id in chunk
        ]
        statement = union_all(*lookups) if len(lookups) > 1 else lookups[0]
        for account_id, newest in session.execute(statement):
            if newest is not None:
                found.append((account_id, _aware(newest)))
    return found


def _aware(value: datetime | str) -> datetime:
    """A max() through a subquery loses the column type on SQLite: parse and mark UTC again."""
    from datetime import UTC

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def units(config: Config) -> list[str]:
    return sorted({a.unit for a in config.accounts if a.unit})


# --- one account --------------------------------------------------------------------------------


@dataclass
class ReplyTime:
    message: MessageRow
    replied_at: datetime | None

    @property
    def waited(self) -> timedelta | None:
        return self.replied_at - self.message.created_at if self.replied_at else None


@dataclass
class AccountPage:
    account: Account
    language: str
    profiles: list[ProfileSnapshotRow]
    posts: list[PostRow]
    messages: list[MessageRow]
    reply_times: list[ReplyTime]
    open_findings: list[FindingRow]
    counterpart: Account | None
    counterpart_findings: list[FindingRow]
    state: AccountStateRow | None


def _newest(session: Session, model: Any, when: Any, account_id: str, limit: int) -> list[Any]:
    """An account's newest rows of one kind, newest first (ties broken by id)."""
    query = select(model).where(model.account_id == account_id).order_by(when.desc(), model.id.desc())
    return list(session.scalars(query.limit(limit)))


def account_page(session: Session, config: Config, account: Account, now: datetime) -> AccountPage:
    profiles = _newest(session, ProfileSnapshotRow, ProfileSnapshotRow.taken_at, account.id, 10)
    posts = _newest(session, PostRow, PostRow.created_at, account.id, 20)
    messages = _newest(session, MessageRow, MessageRow.created_at, account.id, 20)
    findings = list(
        session.scalars(
            select(FindingRow)
            .where(FindingRow.account_id == account.id, FindingRow.status == "open")
            .order_by(FindingRow.opened_at.desc())
            .limit(100)
        )
    )
    counterpart = None
    if account.pair:
        try:
            counterpart = config.account(account.pair)
        except KeyError:
            counterpart = None
    counterpart_findings = [f for f in findings if f.check == "welsh-counterpart"]
    return AccountPage(
        account=account,
        language=language_mode(account),
        profiles=profiles,
        posts=posts,
        messages=messages,
        reply_times=_reply_times(session, account, messages),
        open_findings=findings,
        counterpart=counterpart,
        counterpart_findings=counterpart_findings,
        state=session.get(AccountStateRow, account.id),
    )


def _reply_times(session: Session, account: Account, messages: list[MessageRow]) -> list[ReplyTime]:
    enquiries = [m for m in messages if m.is_enquiry and not m.hidden]
    if not enquiries:
        return []
    natives = [m.native_id for m in enquiries]
    first: dict[str, datetime] = {}
    for in_reply_to, at in session.execute(
        select(ReplyRow.in_reply_to, func.min(ReplyRow.created_at))
        .where(ReplyRow.account_id == account.id, ReplyRow.in_reply_to.in_(natives))
        .group_by(ReplyRow.in_reply_to)
    ):
        first[in_reply_to] = at
    return [ReplyTime(m, first.get(m.native_id)) for m in enquiries]


# --- operations ---------------------------------------------------------------------------------


@dataclass
class Operations:
    accounts: list[dict[str, Any]]
    rate_limits: list[RateLimitRow]
    quota: list[QuotaUsageRow]
    outbox: dict[str, int]
    oldest_undelivered_at: datetime | None
    failed: list[AlertRow]
    instances: list[InstanceRow]
    leader: str | None


def operations(session: Session, config: Config, now: datetime) -> Operations:
    from monitor.leader import STALE_AFTER

    newest = (
        select(PollRunRow.account_id, func.max(PollRunRow.id).label("id"))
        .group_by(PollRunRow.account_id)
        .subquery()
    )
    runs = {
        r.account_id: r
        for r in session.scalars(select(PollRunRow).join(newest, PollRunRow.id == newest.c.id))
    }
    states = {s.account_id: s for s in session.scalars(select(AccountStateRow))}
    accounts = []
    for account in config.accounts:
        run, state = runs.get(account.id), states.get(account.id)
        accounts.append(
            {
                "account": account,
                "last_poll_at": run.started_at if run else (state.last_poll_at if state else None),
                "status": "disabled"
                if not account.enabled
                else (run.status if run else (state.last_status if state else None)),
                "error": redact(run.error or "") if run else "",
                "next_poll_at": state.next_poll_at if state else None,
                "failing_since": state.failing_since if state else None,
                "slowed": bool(state.slowed) if state else False,
            }
        )
    backlog = {
        status: int(count)
        for status, count in session.execute(
            select(AlertRow.status, func.count())
            .where(AlertRow.status.in_(("pending", "sending", "failed")))
            .group_by(AlertRow.status)
        )
    }
    oldest = session.scalar(
        select(func.min(AlertRow.created_at)).where(AlertRow.status.in_(("pending", "sending")))
    )
    failed = list(
        session.scalars(
            select(AlertRow).where(AlertRow.status == "failed").order_by(AlertRow.created_at.desc()).limit(50)
        )
    )
    for row in failed:
        session.expunge(row)
        row.last_error = redact(row.last_error or "")
    instances = list(session.scalars(select(InstanceRow).order_by(InstanceRow.started_at)))
    leader = next(
        (i.instance_id for i in instances if i.is_leader and now - i.heartbeat_at < STALE_AFTER), None
    )
    return Operations(
        accounts=accounts,
        rate_limits=list(
            session.scalars(select(RateLimitRow).order_by(RateLimitRow.platform, RateLimitRow.bucket))
        ),
        quota=list(
            session.scalars(
                select(QuotaUsageRow)
                .where(QuotaUsageRow.day >= (now - timedelta(days=2)).strftime("%Y-%m-%d"))
                .order_by(QuotaUsageRow.platform, QuotaUsageRow.day)
            )
        ),
        outbox={s: backlog.get(s, 0) for s in ("pending", "sending", "failed")},
        oldest_undelivered_at=oldest,
        failed=failed,
        instances=instances,
        leader=leader,
    )


# --- emergency ----------------------------------------------------------------------------------


def emergency_findings(session: Session, since: datetime) -> list[FindingRow]:
    from monitor.emergency import EMERGENCY_CHECK

    return list(
        session.scalars(
            select(FindingRow)
            .where(and_(FindingRow.check == EMERGENCY_CHECK, FindingRow.opened_at >= since))
            .order_by(FindingRow.opened_at.desc())
            .limit(200)
        )
    )


def open_counts_by_severity(session: Session) -> dict[str, int]:
    return {
        sev: int(count)
        for sev, count in session.execute(
            select(FindingRow.severity, func.count())
            .where(FindingRow.status == "open")
            .group_by(FindingRow.severity)
        )
    }


def group_by_severity(rows: list[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.severity].append(row)
    return grouped
