"""The Welsh language parity report: what socialmon measures, per account, per unit and overall.

For a period (local dates, both included):
- posts by language (`cy`, `en`, `cy+en`; other labels are not counted);
- the share of English posts with a Welsh counterpart (a `cy` or `cy+en` post on the account, or on its
  pair, within `policy.counterpart_window` either side) and the median delay to it (0 when the Welsh
  came first); counterparts *thinner* than the original (under THINNER of its length);
- Welsh and English enquiries: how many, answered within the reply time (`reply_sla`, counted in the
  account's monitoring hours), answered in Welsh (a reply with Welsh in it), and the median reply
  time in working minutes;
- the parity ratio: the Welsh median reply time over the English one (the Welsh Language Standards
  ask that a reply in Welsh take no longer: above 1 means Welsh enquiries wait longer);
- findings opened, by check and month, and profiles that have no Welsh.

Data is read as plain tuples in a few queries (no ORM objects), so a year of 500 accounts fits the
time and memory budget in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import bisect
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from monitor.config import Account, Config, PairedLanguage
from monitor.db import FindingRow, MessageRow, PostRow, ProfileSnapshotRow, ReplyRow

WELSH = frozenset({"cy", "cy+en"})
POST_LANGUAGES: tuple[str, ...] = ("cy", "en", "cy+en")
THINNER = 0.7  # a counterpart under 70% of the original's length is flagged (Welsh usually runs longer)
REPLY_MARGIN = timedelta(days=31)  # replies to the period's last enquiries may come after it
NO_UNIT = ""


@dataclass
class Enquiries:
    count: int = 0
    answered_in_sla: int = 0
    answered_in_welsh: int = 0
    reply_minutes: list[float] = field(default_factory=list)

    def add(self, other: Enquiries) -> None:
        self.count += other.count
        self.answered_in_sla += other.answered_in_sla
        self.answered_in_welsh += other.answered_in_welsh
        self.reply_minutes += other.reply_minutes

    @property
    def median_minutes(self) -> float | None:
        return _median(self.reply_minutes)


@dataclass
class Figures:
    """The report's measures for one scope: an account, a unit, a month or everything."""

    posts: Counter[str] = field(default_factory=Counter)
    english_posts: int = 0  # English posts whose account is held to parity (not exempt)
    with_counterpart: int = 0
    counterpart_delays: list[float] = field(default_factory=list)  # minutes
    thinner: int = 0
    enquiries: dict[str, Enquiries] = field(default_factory=lambda: {"cy": Enquiries(), "en": Enquiries()})

    def add(self, other: Figures) -> None:
        self.posts.update(other.posts)
        self.english_posts += other.english_posts
        self.with_counterpart += other.with_counterpart
        self.counterpart_delays += other.counterpart_delays
        self.thinner += other.thinner
        for language, figures in other.enquiries.items():
            self.enquiries[language].add(figures)

    @property
    def counterpart_rate(self) -> float | None:
        return self.with_counterpart / self.english_posts if self.english_posts else None

    @property
    def parity_ratio(self) -> float | None:
        welsh, english = self.enquiries["cy"].median_minutes, self.enquiries["en"].median_minutes
        if welsh is None or english is None or english <= 0:
            return None
        return welsh / english

    def to_json(self, account: str | None) -> dict[str, Any]:
        cy, en = self.enquiries["cy"], self.enquiries["en"]
        return {
            "account": account,
            "posts": {language: self.posts.get(language, 0) for language in POST_LANGUAGES},
            "counterpart_rate": _round(self.counterpart_rate, 4),
            "counterpart_median_minutes": _round(_median(self.counterpart_delays), 1),
            "counterparts_thinner": self.thinner,
            "enquiries": {
                "cy": {
                    "count": cy.count,
                    "answered_in_sla": cy.answered_in_sla,
                    "answered_in_welsh": cy.answered_in_welsh,
                    "median_reply_minutes": _round(cy.median_minutes, 1),
                },
                "en": {
                    "count": en.count,
                    "answered_in_sla": en.answered_in_sla,
                    "median_reply_minutes": _round(en.median_minutes, 1),
                },
            },
            "parity_ratio": _round(self.parity_ratio, 3),
        }


@dataclass
class AccountReport:
    account: Account
    figures: Figures
    months: dict[str, Figures]
    findings: dict[str, dict[str, int]]  # check -> month -> opened
    profile_without_welsh: bool


@dataclass
class LanguageReport:
    start: date
    end: date
    timezone: str
    generated: datetime
    accounts: list[AccountReport]
    window_minutes: int = 30  # policy.counterpart_window

    @property
    def months(self) -> list[str]:
        return _months(self.start, self.end)

    def overall(self) -> Figures:
        return _sum(a.figures for a in self.accounts)

    def units(self) -> dict[str, Figures]:
        out: dict[str, Figures] = defaultdict(Figures)
        for entry in self.accounts:
            out[entry.account.unit or NO_UNIT].add(entry.figures)
        return dict(sorted(out.items()))

    def by_month(self) -> dict[str, Figures]:
        out = {month: Figures() for month in self.months}
        for entry in self.accounts:
            for month, figures in entry.months.items():
                out.setdefault(month, Figures()).add(figures)
        return out

    def findings(self) -> dict[str, dict[str, int]]:
        out: dict[str, Counter[str]] = defaultdict(Counter)
        for entry in self.accounts:
            for check, months in entry.findings.items():
                out[check].update(months)
        return {check: dict(sorted(months.items())) for check, months in sorted(out.items())}

    def profiles_without_welsh(self) -> list[str]:
        return [a.account.id for a in self.accounts if a.profile_without_welsh]

    def to_json(self) -> dict[str, Any]:
        """`--format json`: `from`, `to`, `overall`, `accounts`, then units, months and findings."""
        accounts = []
        for entry in self.accounts:
            data = entry.figures.to_json(entry.account.id)
            data["unit"] = entry.account.unit or None
            data["profile_without_welsh"] = entry.profile_without_welsh
            data["findings"] = entry.findings
            accounts.append(data)
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "overall": self.overall().to_json(None),
            "accounts": accounts,
            "units": [
                {**figures.to_json(None), "unit": unit or None} for unit, figures in self.units().items()
            ],
            "months": [
                {**figures.to_json(None), "month": month} for month, figures in self.by_month().items()
            ],
            "findings": self.findings(),
            "profiles_without_welsh": self.profiles_without_welsh(),
        }


# --- building ------------------------------------------------------------------------------------


def build_language_report(
    config: Config,
    store: Any,
    start: date,
    end: date,
    account_id: str | None = None,
    now: datetime | None = None,
) -> LanguageReport:
    """The report for local dates `start`..`end` (both included); one account with `account_id`."""
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    accounts = [a for a in config.accounts if a.enabled and (account_id is None or a.id == account_id)]
    if account_id is not None and not accounts:
        raise KeyError(account_id)
    tz = config.tz
    begin = datetime.combine(start, time(0), tzinfo=tz).astimezone(UTC)
    finish = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    period = _Period(config, begin, finish)
    reports = []
    with store.session() as session:
        ids = {a.id for a in accounts}
        findings = _findings(session, ids, begin, finish, config)
        profiles = _latest_profiles(session, ids)
        # A batch of accounts at a time: memory stays flat however many accounts there are.
        for offset in range(0, len(accounts), BATCH):
            batch = accounts[offset : offset + BATCH]
            batch_ids = {a.id for a in batch}
            window = config.policy.counterpart_window
            posts = _posts(
                session, batch_ids | {a.pair for a in batch if a.pair}, begin - window, finish + window
            )
            enquiries = _enquiries(session, batch_ids, begin, finish, finish + REPLY_MARGIN)
            for account in batch:
                figures, months = _account_figures(config, account, posts, enquiries, period)
                reports.append(
                    AccountReport(
                        account=account,
                        figures=figures,
                        months=months,
                        findings=findings.get(account.id, {}),
                        profile_without_welsh=_without_welsh(account, profiles.get(account.id)),
                    )
                )
    window_minutes = int(config.policy.counterpart_window.total_seconds() // 60)
    return LanguageReport(start, end, config.timezone, now or datetime.now(UTC), reports, window_minutes)


BATCH = 50  # accounts read together


class _Period:
    """The report's period as epoch seconds, with its months' boundaries for a quick month lookup."""

    def __init__(self, config: Config, begin: datetime, finish: datetime):
        self.begin, self.finish = begin.timestamp(), finish.timestamp()
        local = begin.astimezone(config.tz)
        year, month = local.year, local.month
        self.bounds: list[float] = []
        self.names: list[str] = []
        while True:
            first = datetime(year, month, 1, tzinfo=config.tz).timestamp()
            if first >= self.finish:
                break
            self.bounds.append(first)
            self.names.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        self._work: dict[tuple[Any, ...], _WorkIndex] = {}
        self.config = config

    def month(self, at: float) -> str:
        return self.names[max(bisect.bisect_right(self.bounds, at) - 1, 0)]

    def worktime(self, account: Account) -> _WorkIndex:
        """Accounts with the same hours and zone share one index."""
        key = (account.monitoring_hours, self.config.account_tz(account).key)
        if key not in self._work:
            from monitor.worktime import for_account

            self._work[key] = _WorkIndex(
                for_account(account, self.config), self.begin, self.finish + REPLY_MARGIN.total_seconds()
            )
        return self._work[key]


class _WorkIndex:
    """Working seconds elapsed since the period began, at any instant: cumulative sums over the working
    intervals, so the working time between an enquiry and its reply is two look-ups."""

    def __init__(self, worktime: Any, begin: float, finish: float):
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.before: list[float] = []  # working seconds before each interval
        tz = worktime.tz
        day = datetime.fromtimestamp(begin, tz).date() - timedelta(days=1)
        last = datetime.fromtimestamp(finish, tz).date() + timedelta(days=1)
        total = 0.0
        while day <= last:
            for a, b in worktime.intervals_on(day):
                self.starts.append(a.timestamp())
                self.ends.append(b.timestamp())
                self.before.append(total)
                total += b.timestamp() - a.timestamp()
            day += timedelta(days=1)

    def worked(self, at: float) -> float:
        i = bisect.bisect_right(self.starts, at) - 1
        if i < 0:
            return 0.0
        return self.before[i] + min(at, self.ends[i]) - self.starts[i]

    def between(self, a: float, b: float) -> float:
        return max(self.worked(b) - self.worked(a), 0.0)


def _epoch(session: Session, column: Any) -> Any:
    """A stored UTC time as epoch seconds, computed by the database: reading hundreds of thousands of
    rows, converting each to an aware datetime costs more than the rest of the report."""
    if session.get_bind().dialect.name == "sqlite":  # stored as naive UTC text
        return (func.julianday(column) - 2440587.5) * 86400.0
    return func.extract("epoch", column)


def _rows(session: Session, stmt: Any) -> Any:
    """Plain rows through the Core connection (no ORM result processing)."""
    return session.connection().execute(stmt).fetchall()  # a batch at once: row by row costs more


PostTuple = tuple[float, str, int]  # (created, epoch seconds; language; text length)


def _posts(session: Session, ids: set[str], start: datetime, end: datetime) -> dict[str, list[PostTuple]]:
    out: dict[str, list[PostTuple]] = defaultdict(list)
    stmt = (
        select(
            PostRow.account_id,
            _epoch(session, PostRow.created_at),
            PostRow.language,
            func.length(PostRow.text),
        )
        .where(
            PostRow.kind == "original",
            PostRow.account_id.in_(ids),
            PostRow.created_at >= start,
            PostRow.created_at < end,
        )
        .order_by(PostRow.account_id, PostRow.created_at)
    )
    for account_id, created, language, length in _rows(session, stmt):
        out[account_id].append((created, language, int(length or 0)))
    return out


# (asked at, language, first reply at or None, a reply in Welsh): epoch seconds
EnquiryTuple = tuple[float, str, float | None, bool]


def _enquiries(
    session: Session, ids: set[str], start: datetime, end: datetime, replies_until: datetime
) -> dict[str, list[EnquiryTuple]]:
    """account -> its Welsh and English enquiries with their first reply, joined in the database."""
    welsh_reply = case((ReplyRow.language.in_(tuple(WELSH)), 1), else_=0)
    replies = (
        select(
            ReplyRow.account_id.label("account_id"),
            ReplyRow.platform.label("platform"),
            ReplyRow.in_reply_to.label("in_reply_to"),
            func.min(_epoch(session, ReplyRow.created_at)).label("first_at"),
            func.max(welsh_reply).label("welsh"),
        )
        .where(
            ReplyRow.account_id.in_(ids), ReplyRow.created_at >= start, ReplyRow.created_at < replies_until
        )
        .group_by(ReplyRow.account_id, ReplyRow.platform, ReplyRow.in_reply_to)
        .subquery()
    )
    stmt = (
        select(
            MessageRow.account_id,
            _epoch(session, MessageRow.created_at),
            MessageRow.language,
            replies.c.first_at,
            replies.c.welsh,
        )
        .outerjoin(
            replies,
            (replies.c.account_id == MessageRow.account_id)
            & (replies.c.platform == MessageRow.platform)
            & (replies.c.in_reply_to == MessageRow.native_id),
        )
        .where(
            MessageRow.is_enquiry.is_(True),
            MessageRow.hidden.is_(False),  # hidden comments are no enquiries (checks.base.is_enquiry)
            MessageRow.account_id.in_(ids),
            MessageRow.created_at >= start,
            MessageRow.created_at < end,
            MessageRow.language.in_(("cy", "cy+en", "en")),
        )
    )
    out: dict[str, list[EnquiryTuple]] = defaultdict(list)
    for account_id, created, language, first_at, welsh in _rows(session, stmt):
        out[account_id].append((created, language, first_at, bool(welsh)))
    return out


def _findings(
    session: Session, ids: set[str], start: datetime, end: datetime, config: Config
) -> dict[str, dict[str, dict[str, int]]]:
    out: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    stmt = select(FindingRow.account_id, FindingRow.check, FindingRow.opened_at).where(
        FindingRow.account_id.in_(ids), FindingRow.opened_at >= start, FindingRow.opened_at < end
    )
    for account_id, check, opened in session.execute(stmt):
        out[account_id][check][_month(_aware(opened), config)] += 1
    return {a: {c: dict(sorted(m.items())) for c, m in sorted(checks.items())} for a, checks in out.items()}


def _latest_profiles(session: Session, ids: set[str]) -> dict[str, str]:
    latest = (
        select(ProfileSnapshotRow.account_id, func.max(ProfileSnapshotRow.taken_at).label("at"))
        .where(ProfileSnapshotRow.account_id.in_(ids))
        .group_by(ProfileSnapshotRow.account_id)
        .subquery()
    )
    stmt = select(ProfileSnapshotRow.account_id, ProfileSnapshotRow.text).join(
        latest,
        (ProfileSnapshotRow.account_id == latest.c.account_id) & (ProfileSnapshotRow.taken_at == latest.c.at),
    )
    return {account_id: text or "" for account_id, text in session.execute(stmt)}


def _without_welsh(account: Account, profile: str | None) -> bool:
    """A stored profile of an account held to Welsh (not exempt) whose text has no Welsh."""
    if profile is None or account.language.mode == "exempt" or account.own_language == "en":
        return False
    from monitor.language import classify

    return classify(profile).label not in WELSH


def _account_figures(
    config: Config,
    account: Account,
    posts: dict[str, list[PostTuple]],
    enquiries: dict[str, list[EnquiryTuple]],
    period: _Period,
) -> tuple[Figures, dict[str, Figures]]:
    months: dict[str, Figures] = defaultdict(Figures)
    _count_posts(config, account, posts, period, months)
    _count_enquiries(config, account, enquiries.get(account.id, []), period, months)
    return _sum(months.values()), dict(sorted(months.items()))


def _count_posts(
    config: Config,
    account: Account,
    posts: dict[str, list[PostTuple]],
    period: _Period,
    months: dict[str, Figures],
) -> None:
    own = posts.get(account.id, [])
    members = [account.id]
    if isinstance(account.language, PairedLanguage):
        members.append(account.language.pair)
    welsh = sorted((t, n) for member in members for t, lang, n in posts.get(member, []) if lang in WELSH)
    welsh_times = [t for t, _ in welsh]
    window = config.policy.counterpart_window.total_seconds()
    held = account.language.mode != "exempt"
    for created, language, length in own:
        if not (period.begin <= created < period.finish) or language not in POST_LANGUAGES:
            continue
        figures = months[period.month(created)]
        figures.posts[language] += 1
        if language != "en" or not held:
            continue
        figures.english_posts += 1
        match = _nearest(welsh_times, created, window)
        if match is None:
            continue
        figures.with_counterpart += 1
        welsh_at, welsh_length = welsh[match]
        figures.counterpart_delays.append(max(welsh_at - created, 0.0) / 60)
        if length and welsh_length < THINNER * length:
            figures.thinner += 1


def _nearest(times: list[float], at: float, window: float) -> int | None:
    """Index of the Welsh post closest to `at` within `window` seconds either side, or None."""
    i = bisect.bisect_left(times, at - window)
    best: int | None = None
    while i < len(times) and times[i] <= at + window:
        if best is None or abs(times[i] - at) < abs(times[best] - at):
            best = i
        i += 1
    return best


def _count_enquiries(
    config: Config,
    account: Account,
    asked: list[EnquiryTuple],
    period: _Period,
    months: dict[str, Figures],
) -> None:
    work = period.worktime(account)
    sla = (account.reply_sla or config.policy.reply_sla).total_seconds()
    for created, language, first_at, welsh_reply in asked:
        side = "cy" if language in WELSH else "en"
        figures = months[period.month(created)].enquiries[side]
        figures.count += 1
        if first_at is None or first_at < created:
            continue
        waited = work.between(created, first_at)
        figures.reply_minutes.append(waited / 60)
        if waited <= sla:
            figures.answered_in_sla += 1
        if side == "cy" and welsh_reply:
            figures.answered_in_welsh += 1


# --- helpers -------------------------------------------------------------------------------------


def _sum(items: Iterable[Figures]) -> Figures:
    total = Figures()
    for figures in items:
        total.add(figures)
    return total


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _month(value: datetime, config: Config) -> str:
    return value.astimezone(config.tz).strftime("%Y-%m")


def _months(start: date, end: date) -> list[str]:
    out, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
