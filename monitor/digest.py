"""The daily compliance digest: data (`build_digest`), rendering (`render_digest`), scheduling.

Per account: days since the last original post, Welsh parity over the last WINDOW (share of posts
that are Welsh or have a Welsh version within the counterpart window; paired accounts are counted
across the pair), open findings by check, and the median reply time in the account's working
hours; then findings opened and resolved since the last digest, and any emergency in that period.

The next due time per digest route is a row in `schedule_state` ("digest:<route>"), advanced with
a conditional UPDATE in the same transaction that queues the digest in the outbox: a digest
missed while the service was down is queued once on start, never twice and never not at all.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from monitor.clock import as_utc, utcnow
from monitor.config import Account, Config, PairedLanguage
from monitor.credentials import cannot_see
from monitor.db import (
    AccountStateRow,
    EmergencyRow,
    FindingRow,
    MessageRow,
    PostRow,
    ReplyRow,
    ScheduleStateRow,
)
from monitor.i18n import N_, Translator, translator
from monitor.logs import get_logger
from monitor.notifiers.text import one_line, truncate
from monitor.routing import enqueue_alert, is_digest_route
from monitor.store import Store, dialect_insert, rows_changed
from monitor.templates import render_html, render_text
from monitor.triage import QUIET_STATES
from monitor.worktime import for_account

WINDOW = timedelta(days=7)  # parity and reply time look back this far
MAX_LISTED = 100  # new / resolved findings listed in full; the rest are counted
WELSH = frozenset({"cy", "cy+en"})
LANGUAGES_COUNTED = frozenset({"cy", "en", "cy+en"})  # "other"/"unknown" (e.g. image-only) are left out
# An account never read successfully (new, or its token expired) may well have posted: don't say "never".
NOT_READ = N_("unknown (never polled successfully)")

log = get_logger(component="digest")


@dataclass
class AccountLine:
    account_id: str
    label: str
    platform: str
    role: str
    last_post: str  # local time or "never"
    days_since_post: int | None
    parity: float | None  # 0..1, None when nothing to count or exempt
    parity_posts: int
    parity_note: str
    open_by_check: dict[str, int]
    open_total: int
    median_reply: str  # "2 h 05 min", or "no replies" when none was counted in the window
    median_reply_seconds: float | None
    replies_counted: int
    hours: str
    # clickable: share of the last 30 days' original posts linking to policy.official_domains
    clickable_share: float | None = None  # None: no official domains configured, or no posts
    clickable_posts: int = 0


@dataclass
class FindingLine:
    id: int
    check: str
    account: str
    severity: str
    title: str
    detail: str
    url: str
    opened: str
    resolved: str = ""
    resolve_reason: str = ""
    policy_section: str = ""  # why: the policy sentence the finding enforces
    manager: str = ""  # who: the account's registered manager, when there is one
    severity_label: str = ""  # the severity in the digest's language ("UCHEL", "HIGH")
    # Triage (monitor/triage.py): what people said about it, and its page on the dashboard.
    state: str = "none"
    state_by: str = ""
    state_note: str = ""
    state_until: str = ""
    page: str = ""


@dataclass
class EmergencyLine:
    started: str
    ended: str
    started_by: str
    reason: str
    posting_findings: int


@dataclass
class Digest:
    title: str
    generated: str
    since: str
    window_days: int
    timezone: str
    accounts: list[AccountLine] = field(default_factory=list)
    open_by_check: dict[str, int] = field(default_factory=dict)
    new: list[FindingLine] = field(default_factory=list)
    new_total: int = 0
    resolved: list[FindingLine] = field(default_factory=list)
    resolved_total: int = 0
    emergencies: list[EmergencyLine] = field(default_factory=list)
    # Findings opened before this digest's period and still open: listed briefly so an old breach
    # does not fade into a count once it has been "new" once.
    still_open: list[FindingLine] = field(default_factory=list)
    still_open_total: int = 0
    locale: str = "en"  # the language it was written in (cy or en)
    # Open findings snoozed or dismissed: out of the to-do, listed briefly so none disappears silently.
    quiet: list[FindingLine] = field(default_factory=list)
    quiet_total: int = 0
    cannot_see: list[str] = field(default_factory=list)  # "queued posts unknown for: ..."

    @property
    def open_total(self) -> int:
        return sum(self.open_by_check.values())

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "open_total": self.open_total}


# --- building ----------------------------------------------------------------------------------


def build_digest(
    config: Config,
    store: Store,
    now: datetime | None = None,
    since: datetime | None = None,
    route: str = "digest",
    locale: str = "en",
) -> Digest:
    """The digest's data from the store; `since` defaults to when this route's last digest went."""
    now = now or utcnow()
    with store.session() as session:
        if since is None:
            state = session.get(ScheduleStateRow, f"digest:{route}")
            since = state.last_done_at if state and state.last_done_at else now - timedelta(days=1)
        return _build(session, config, now, since, locale)


def _build(session: Session, config: Config, now: datetime, since: datetime, locale: str = "en") -> Digest:
    from monitor.triage import expire_states

    expire_states(session, now)
    tz = config.tz
    t = translator(locale)
    digest = Digest(
        title=t.gettext("Social media compliance digest, %(date)s", date=_long_date(now, tz, locale)),
        generated=t.local_time(now, tz),
        since=t.local_time(since, tz),
        window_days=WINDOW.days,
        timezone=config.timezone,
        locale=locale,
    )
    accounts = [a for a in config.accounts if a.enabled]
    open_counts = _open_counts(session)
    last_posts = _last_posts(session)
    ever_read = _ever_read(session)
    posts = _window_posts(session, now - WINDOW, now)
    clickable = _clickable(session, config, now)
    for account in accounts:
        by_check = dict(sorted(open_counts.get(account.id, {}).items()))
        parity, counted, note = _parity(config, account, posts, now - WINDOW, t)
        median, replies = _median_reply(session, config, account, now - WINDOW, now)
        last = last_posts.get(account.id)
        digest.accounts.append(
            AccountLine(
                account_id=account.id,
                label=account.label(),
                platform=account.platform,
                role=account.role,
                last_post=t.local_time(last, tz)
                if last
                else (t.gettext("never") if account.id in ever_read else t.gettext(NOT_READ)),
                days_since_post=(now - last).days if last else None,
                parity=parity,
                parity_posts=counted,
                parity_note=note,
                open_by_check=by_check,
                open_total=sum(by_check.values()),
                median_reply=_duration(median, t) if replies else t.gettext(NO_REPLIES),
                median_reply_seconds=median.total_seconds() if median else None,
                replies_counted=replies,
                hours=account.monitoring_hours or t.gettext("not registered"),
                clickable_share=clickable.get(account.id, (None, 0))[0],
                clickable_posts=clickable.get(account.id, (None, 0))[1],
            )
        )
    totals: Counter[str] = Counter()
    for per_check in open_counts.values():
        totals.update(per_check)
    digest.open_by_check = dict(sorted(totals.items()))
    # To do: opened in the period, still open and not snoozed or dismissed (those have their own
    # section). One already resolved is listed under "resolved" only.
    digest.new, digest.new_total = _findings(
        session,
        config,
        FindingRow.opened_at,
        since,
        now,
        t,
        FindingRow.status == "open",
        FindingRow.state.not_in(QUIET_STATES),
    )
    digest.resolved, digest.resolved_total = _findings(session, config, FindingRow.resolved_at, since, now, t)
    digest.still_open, digest.still_open_total = _still_open(session, config, since, t)
    digest.quiet, digest.quiet_total = _quiet(session, config, t)
    digest.emergencies = _emergencies(session, config, since, now, t)
    digest.cannot_see = cannot_see(session, config, t=t)
    return digest


def _open_counts(session: Session) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(dict)
    stmt = (
        select(FindingRow.account_id, FindingRow.check, func.count(FindingRow.id))
        .where(FindingRow.status == "open")
        .group_by(FindingRow.account_id, FindingRow.check)
    )
    for account_id, check, count in session.execute(stmt):
        out[account_id][check] = count
    return out


def _last_posts(session: Session) -> dict[str, datetime]:
    stmt = (
        select(PostRow.account_id, func.max(PostRow.created_at))
        .where(PostRow.kind == "original")
        .group_by(PostRow.account_id)
    )
    return {account_id: as_utc(at) for account_id, at in session.execute(stmt) if at is not None}


def _clickable(session: Session, config: Config, now: datetime) -> dict[str, tuple[float | None, int]]:
    """Per account: (share of original posts of the last 30 days linking to the university's web
    pages, posts counted). Nothing when no official domains are configured."""
    from checks.clickable import WINDOW as CLICKABLE_WINDOW
    from checks.clickable import on_official_domain

    domains = config.policy.official_domains
    if not domains:
        return {}
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    stmt = select(PostRow.account_id, PostRow.links).where(
        PostRow.kind.in_(("original", "quote")),
        PostRow.created_at >= now - CLICKABLE_WINDOW,
        PostRow.created_at <= now,
    )
    for account_id, links in session.execute(stmt):
        counts[account_id][1] += 1
        if any(on_official_domain(str(link), domains) for link in links or ()):
            counts[account_id][0] += 1
    return {a: (linked / total if total else None, total) for a, (linked, total) in counts.items()}


def _ever_read(session: Session) -> set[str]:
    """Accounts polled successfully at least once: only for those does "no post" mean "never posted"."""
    stmt = select(AccountStateRow.account_id).where(AccountStateRow.last_ok_at.is_not(None))
    return set(session.scalars(stmt))


def _window_posts(session: Session, start: datetime, end: datetime) -> dict[str, list[tuple[datetime, str]]]:
    """Original posts per account in the window (with a margin for counterparts): (time, language)."""
    out: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    margin = timedelta(days=1)
    stmt = (
        select(PostRow.account_id, PostRow.created_at, PostRow.language)
        .where(PostRow.kind == "original", PostRow.created_at >= start - margin, PostRow.created_at <= end)
        .order_by(PostRow.created_at)
    )
    for account_id, created, language in session.execute(stmt):
        out[account_id].append((as_utc(created), language))
    return out


def _parity(
    config: Config,
    account: Account,
    posts: dict[str, list[tuple[datetime, str]]],
    start: datetime,
    t: Translator | None = None,
) -> tuple[float | None, int, str]:
    """(share of posts since `start` that are Welsh or have a Welsh version, posts counted, note)."""
    t = t or translator("en")
    if account.language.mode == "exempt":
        return None, 0, t.gettext("exempt: %(reason)s", reason=account.language.reason)
    members = [account.id]
    note = t.gettext("bilingual account")
    if isinstance(account.language, PairedLanguage):
        members = sorted({account.id, account.language.pair})
        note = t.gettext(
            "counted across the pair with %(account)s", account=_label(config, account.language.pair)
        )
    pool = [p for member in members for p in posts.get(member, [])]
    welsh_times = [t for t, lang in pool if lang in WELSH]
    window = config.policy.counterpart_window
    counted = with_welsh = 0
    for created, language in pool:
        if language not in LANGUAGES_COUNTED or created < start:
            continue
        counted += 1
        if language in WELSH or any(abs(w - created) <= window for w in welsh_times):
            with_welsh += 1
    if counted == 0:
        return None, 0, note + "; " + t.gettext("no posts to count")
    return with_welsh / counted, counted, note


def _median_reply(
    session: Session, config: Config, account: Account, start: datetime, end: datetime
) -> tuple[timedelta | None, int]:
    """Median working time from an inbound message to the account's first reply (replies in window)."""
    first_reply = (
        select(ReplyRow.platform, ReplyRow.in_reply_to, func.min(ReplyRow.created_at).label("at"))
        .where(ReplyRow.account_id == account.id, ReplyRow.created_at >= start, ReplyRow.created_at <= end)
        .group_by(ReplyRow.platform, ReplyRow.in_reply_to)
        .subquery()
    )
    stmt = (
        select(MessageRow.created_at, first_reply.c.at)
        .join(
            first_reply,
            (MessageRow.platform == first_reply.c.platform)
            & (MessageRow.native_id == first_reply.c.in_reply_to),
        )
        .where(MessageRow.account_id == account.id)
    )
    pairs = [
        (as_utc(cast(datetime, asked)), as_utc(cast(datetime, answered)))
        for asked, answered in session.execute(stmt)
    ]
    if not pairs:
        return None, 0
    worktime = for_account(account, config)
    spans = [
        worktime.between(asked, answered).total_seconds() for asked, answered in pairs if answered >= asked
    ]
    if not spans:
        return None, 0
    return timedelta(seconds=statistics.median(spans)), len(spans)


def _findings(
    session: Session, config: Config, column: Any, since: datetime, now: datetime, t: Translator, *also: Any
) -> tuple[list[FindingLine], int]:
    condition = (column > since) & (column <= now)
    for extra in also:
        condition = condition & extra
    lines, total = _finding_lines(session, config, condition, t)
    # Opened and already resolved in the same period: nothing left to do, so after the open ones.
    return sorted(lines, key=lambda line: bool(line.resolved)), total


def _still_open(
    session: Session, config: Config, since: datetime, t: Translator
) -> tuple[list[FindingLine], int]:
    condition = (
        (FindingRow.status == "open")
        & (FindingRow.opened_at <= since)
        & FindingRow.state.not_in(QUIET_STATES)
    )
    return _finding_lines(session, config, condition, t)


def _quiet(session: Session, config: Config, t: Translator) -> tuple[list[FindingLine], int]:
    condition = (FindingRow.status == "open") & FindingRow.state.in_(QUIET_STATES)
    return _finding_lines(session, config, condition, t)


# Most urgent first, so the first lines of each list are what to do today.
SEVERITY_ORDER = {"critical": 0, "high": 1, "warning": 2, "info": 3}


def _finding_lines(
    session: Session, config: Config, condition: Any, t: Translator
) -> tuple[list[FindingLine], int]:
    total = session.scalar(select(func.count(FindingRow.id)).where(condition)) or 0
    rank = case(SEVERITY_ORDER, value=FindingRow.severity, else_=len(SEVERITY_ORDER))
    rows = session.scalars(
        select(FindingRow)
        .where(condition)
        .order_by(rank, FindingRow.account_id, FindingRow.check, FindingRow.id)
        .limit(MAX_LISTED)
    )
    lines = [
        FindingLine(
            id=row.id,
            check=row.check,
            account=_label(config, row.account_id),
            severity=row.severity,
            title=one_line(t.known(row.title), 300),
            detail=truncate(finding_detail(row.check, row.detail or "", t, row.title), 600),
            url=row.url or "",
            opened=t.local_time(row.opened_at, config.tz),
            resolved=t.local_time(row.resolved_at, config.tz) if row.resolved_at else "",
            resolve_reason=one_line(translate_reason(row.resolve_reason or "", t), 300),
            policy_section=one_line(t.known(row.policy_section or ""), 400),
            manager=_manager(config, row.account_id),
            severity_label=severity_label(row.severity, t),
            state=row.state or "none",
            state_by=one_line(row.state_by or "", 120),
            state_note=one_line(row.state_note or "", 300),
            state_until=t.local_time(row.state_until, config.tz) if row.state_until else "",
            page=(config.web.finding_url(row.id) or "") if config.web else "",
        )
        for row in rows
    ]
    return lines, total


def _emergencies(
    session: Session, config: Config, since: datetime, now: datetime, t: Translator
) -> list[EmergencyLine]:
    stmt = (
        select(EmergencyRow)
        .where(
            EmergencyRow.started_at <= now,
            or_(EmergencyRow.ended_at.is_(None), EmergencyRow.ended_at >= since),
        )
        .order_by(EmergencyRow.started_at)
    )
    lines = []
    for row in session.scalars(stmt):
        end = row.ended_at or now
        posting = (
            session.scalar(
                select(func.count(FindingRow.id)).where(
                    FindingRow.check == "emergency-posting",
                    # a queued scheduled post is a finding too, but nothing was posted
                    FindingRow.subject.not_like("scheduled:%"),
                    FindingRow.opened_at >= row.started_at,
                    FindingRow.opened_at <= end,
                )
            )
            or 0
        )
        lines.append(
            EmergencyLine(
                started=t.local_time(row.started_at, config.tz),
                ended=t.local_time(row.ended_at, config.tz) if row.ended_at else t.gettext("still active"),
                started_by=one_line(row.started_by, 100),
                reason=one_line(row.reason, 500),
                posting_findings=posting,
            )
        )
    return lines


# --- rendering ---------------------------------------------------------------------------------


def render_digest(digest: Digest, fmt: Literal["html", "text"] = "html") -> str:
    return render_digest_data(digest.to_dict(), fmt)


def render_digest_data(data: dict[str, Any], fmt: str = "html") -> str:
    """Render a digest from its stored dict form (what an outbox row carries), in its own locale."""
    locale = str(data.get("locale") or "en")
    if fmt == "html":
        return render_html("digest.html.j2", locale, d=data, pct=_pct, quiet_label=_quiet_labeller(locale))
    if fmt == "text":
        return render_text("digest.txt.j2", locale, d=data, pct=_pct, quiet_label=_quiet_labeller(locale))
    raise ValueError(f"unknown digest format {fmt!r} (html or text)")


def render_digests(digests: list[Digest], fmt: Literal["html", "text"] = "html") -> str:
    """One document holding each version (a bilingual digest: Welsh, then English)."""
    from monitor.templates import join_html, join_text

    rendered = [render_digest(d, fmt) for d in digests]
    return join_html(rendered) if fmt == "html" else join_text(rendered)


def summary_payload(digest: Digest) -> dict[str, Any]:
    """Render-agnostic fields for channels that show a summary (Teams) plus the full data (e-mail)."""
    t = translator(digest.locale)
    items = [
        t.gettext(
            "%(account)s: last post %(when)s · Welsh parity %(parity)s · "
            "median reply %(reply)s · %(open)s open",
            account=a.label,
            when=_days_ago(a.days_since_post, a.last_post, t),
            parity=_pct(a.parity),
            reply=a.median_reply,
            open=a.open_total,
        )
        for a in digest.accounts
    ]
    # Emergencies and what to do first: a Teams reader sees the top of the card on a phone.
    emergencies = [
        t.gettext(
            "Emergency %(start)s to %(end)s: %(reason)s (%(posts)s)",
            start=e.started,
            end=e.ended,
            reason=e.reason,
            posts=_posts_by_non_central(e.posting_findings, t),
        )
        for e in digest.emergencies
    ]
    new = [
        t.gettext(
            "New: %(severity)s · %(title)s · %(account)s",
            severity=f.severity_label,
            title=f.title,
            account=f.account,
        )
        for f in digest.new
    ]
    resolved = [
        t.gettext("Resolved: %(title)s · %(account)s", title=f.title, account=f.account)
        for f in digest.resolved
    ]
    quiet = [f"{quiet_label(asdict(f), t)}: {f.title} · {f.account}" for f in digest.quiet]
    items = emergencies + new + items + resolved + quiet
    return {
        "kind": "digest",
        "title": digest.title,
        "text": t.gettext(
            "%(accounts)s accounts · %(open)s open findings · "
            "%(new)s new and %(resolved)s resolved since %(since)s.",
            accounts=len(digest.accounts),
            open=digest.open_total,
            new=digest.new_total,
            resolved=digest.resolved_total,
            since=digest.since,
        ),
        "facts": [[check, str(count)] for check, count in digest.open_by_check.items()],
        "items": items,
        "digest": digest.to_dict(),
    }


def quiet_label(f: dict[str, Any], t: Translator | None = None) -> str:
    """`Snoozed until ...` / `Dismissed by ... (reason)`: why a finding is out of the to-do."""
    t = t or translator("en")
    who, until, note = f.get("state_by") or "", f.get("state_until") or "", f.get("state_note") or ""
    if f.get("state") == "snoozed":
        return t.gettext("Snoozed until %(until)s by %(who)s", until=until, who=who)
    if until:
        return t.gettext(
            "Dismissed by %(who)s (%(reason)s, until %(until)s)", who=who, reason=note, until=until
        )
    return t.gettext("Dismissed by %(who)s (%(reason)s)", who=who, reason=note)


def _quiet_labeller(locale: str) -> Any:
    t = translator(locale)
    return lambda f: quiet_label(f, t)


def _posts_by_non_central(count: int, t: Translator) -> str:
    return t.ngettext("%(num)s post by non-central accounts", "%(num)s posts by non-central accounts", count)


def _days_ago(days: int | None, never: str, t: Translator) -> str:
    if days is None:
        return never
    # "0 d ago" reads as "just now"
    return t.gettext("under a day ago") if days == 0 else t.gettext("%(days)s d ago", days=days)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{round(value * 100)}%"


def _long_date(value: datetime, tz: Any, locale: str) -> str:
    from monitor.i18n import long_date

    return long_date(value, tz, locale)


def _duration(value: timedelta | None, t: Translator | None = None) -> str:
    t = t or translator("en")
    if value is None:
        return "-"
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return t.gettext("%(minutes)s min", minutes=minutes)
    return t.gettext("%(hours)s h %(minutes)s min", hours=minutes // 60, minutes=f"{minutes % 60:02d}")


NO_REPLIES = N_("no replies")  # never "0 min": nothing was answered in the window


def severity_label(severity: str, t: Translator) -> str:
    from monitor.texts import SEVERITIES

    return t.known(SEVERITIES.get(severity, severity.upper()))


def finding_detail(check: str, detail: str, t: Translator, title: str = "") -> str:
    from monitor.texts import translate_detail

    return translate_detail(check, detail, t, title)


def translate_reason(reason: str, t: Translator) -> str:
    from monitor.texts import translate_reason as translate

    return translate(reason, t)


def _manager(config: Config, account_id: str) -> str:
    try:
        return str(config.account(account_id).manager or "")
    except KeyError:
        return ""


def _label(config: Config, account_id: str) -> str:
    try:
        return config.account(account_id).label()
    except KeyError:
        return account_id


# --- scheduling --------------------------------------------------------------------------------


def digest_routes(config: Config) -> list[str]:
    return [name for name, route in config.alerts.routes.items() if is_digest_route(name, route) and route.at]


def next_occurrence(at: str, tz: ZoneInfo, after: datetime) -> datetime:
    """The first instant strictly after `after` when the local clock in `tz` reads `at` (HH:MM)."""
    hour, minute = (int(p) for p in at.split(":"))
    day = after.astimezone(tz).date()
    for offset in range(3):
        candidate = datetime.combine(day + timedelta(days=offset), time(hour, minute), tzinfo=tz).astimezone(
            UTC
        )
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: a time of day recurs within three days")


def send_digest_if_due(config: Config, store: Store, now: datetime | None = None) -> bool:
    """Queue each digest route's digest when due; True if any was queued (the outbox sends it)."""
    now = now or utcnow()
    queued = False
    for route in digest_routes(config):
        queued = _queue_if_due(config, store, route, now) or queued
    from monitor.report_schedule import send_language_report_if_due  # the monthly parity report

    return send_language_report_if_due(config, store, now) or queued


def _queue_if_due(config: Config, store: Store, route: str, now: datetime) -> bool:
    at = config.alerts.routes[route].at
    assert at is not None
    name = f"digest:{route}"
    with store.session() as session:
        state = session.get(ScheduleStateRow, name)
        if state is None:  # first start: schedule, do not send a digest of nothing
            _insert_schedule(session, name, next_occurrence(at, config.tz, now))
            return False
        due = state.next_due_at
        if due is None:
            state.next_due_at = next_occurrence(at, config.tz, now)
            return False
        if due > now:
            return False
        claimed = rows_changed(
            session.execute(
                update(ScheduleStateRow)
                .where(ScheduleStateRow.name == name, ScheduleStateRow.next_due_at == due)
                .values(next_due_at=next_occurrence(at, config.tz, now), last_done_at=now)
                .execution_options(synchronize_session=False)
            )
        )
        if claimed != 1:  # another instance queued this one
            return False
        since = state.last_done_at or due - timedelta(days=1)
        digest = _build(session, config, now, since)
        ids = enqueue_digest(
            session, config, route, digest, now, dedup_key=f"digest:{route}:{due.isoformat()}", since=since
        )
    log.info(
        "digest_queued",
        route=route,
        due=due.isoformat(),
        rows=len(ids),
        missed=now - due > timedelta(hours=1),
    )
    return True


def _insert_schedule(session: Session, name: str, due: datetime) -> None:
    insert = dialect_insert(session, ScheduleStateRow)
    session.execute(
        insert.values(name=name, next_due_at=due, last_done_at=None).on_conflict_do_nothing(
            index_elements=["name"]
        )
    )


def enqueue_digest(
    session: Session,
    config: Config,
    route: str,
    digest: Digest,
    now: datetime,
    dedup_key: str | None = None,
    since: datetime | None = None,
) -> list[int]:
    """Queue `digest` on the route's channels; with `since`, each channel gets it in its language."""
    payload = summary_payload(digest)
    versions = {digest.locale: digest}

    def localize(locale: str) -> dict[str, Any]:
        if locale not in versions and since is not None:
            versions[locale] = _build(session, config, now, since, locale)
        version = summary_payload(versions.get(locale, digest))
        return {"subject": version["title"], **version}

    return enqueue_alert(
        session,
        config,
        route,
        "digest",
        "info",
        digest.title,
        payload.pop("text"),
        now=now,
        title=payload.pop("title"),
        facts=[tuple(f) for f in payload.pop("facts")],
        items=payload.pop("items"),
        kind="digest",
        dedup_key=dedup_key,
        extra={"digest": payload["digest"]},
        localize=localize if since is not None else None,
    )


def queue_digest_now(
    config: Config, store: Store, route: str = "digest", now: datetime | None = None
) -> list[int]:
    """Queue a digest for `route` at once (CLI `digest --send`); the next scheduled one counts from now."""
    now = now or utcnow()
    name = f"digest:{route}"
    with store.session() as session:
        state = session.get(ScheduleStateRow, name)
        since = state.last_done_at if state and state.last_done_at else now - timedelta(days=1)
        digest = _build(session, config, now, since)
        ids = enqueue_digest(
            session,
            config,
            route,
            digest,
            now,
            dedup_key=f"digest:{route}:manual:{now.isoformat()}",
            since=since,
        )
        if state is None:
            at = config.alerts.routes[route].at if route in config.alerts.routes else None
            session.add(
                ScheduleStateRow(
                    name=name,
                    last_done_at=now,
                    next_due_at=next_occurrence(at, config.tz, now) if at else None,
                )
            )
        else:
            state.last_done_at = now
    return ids
