"""Rate budgets: how often each account may be polled without exceeding its platform's limits.

Pure functions of the configuration, what the platforms last told us (`RateLimitRow`, daily
`QuotaUsageRow` units, recent poll runs) and `now`. The scheduler asks for a `Plan` and applies it.

Each platform's budget is a rate of polls per second the platform can take:
- X: per-endpoint 15-minute windows (`x-rate-limit-*`); each poll calls each endpoint about once,
  so the tightest window decides, and a window nearly spent until its reset counts too.
- Facebook / Instagram: Graph usage headers give a percentage used; above 60% we hold the rate to
  what normal polling uses, shrinking it as usage climbs towards 100%.
- YouTube: a daily unit quota reset at midnight Pacific; the units left, spread over the time left.
Desired intervals are met in priority order (in an emergency, non-central accounts first); the
accounts that could not be given their desired interval are "slowed" and named to operators.
A 429 (`blocked_until`) or a spent window (`remaining == 0` until `reset_at`) blocks the platform:
no request before that time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.config import Account, Config
from monitor.db import PollRunRow, QuotaUsageRow, RateLimitRow

X_WINDOW = timedelta(minutes=15)
# Per-app limits per 15 minutes of the endpoints the X connector calls every poll (PLATFORMS.md),
# keyed by the connector's bucket names; used until the platform's own headers tell us better.
X_DEFAULT_LIMITS = {"GET /2/users/:id/tweets": 10_000, "GET /2/users/:id/mentions": 450}
HEADROOM = 0.8  # plan to use at most this share of any budget
MAX_INTERVAL = timedelta(hours=6)  # however short the budget, an account is polled at least this often
YOUTUBE_DEFAULT_UNITS_PER_POLL = 4.0  # channels + playlistItems + videos + commentThreads
CENTRAL_STRETCH = 2  # in an emergency a central account is slowed to at most twice its interval
PACIFIC = ZoneInfo("America/Los_Angeles")
GRAPH_PLATFORMS = ("facebook", "instagram")


@dataclass(frozen=True)
class PlatformBudget:
    platform: str
    polls_per_second: float | None  # None: no limit known that we could approach
    blocked_until: datetime | None = None
    note: str = ""


@dataclass
class Plan:
    intervals: dict[str, timedelta] = field(default_factory=dict)
    slowed: dict[str, timedelta] = field(default_factory=dict)  # account -> the interval it wanted
    blocked_until: dict[str, datetime] = field(default_factory=dict)  # platform -> no request before
    budgets: dict[str, PlatformBudget] = field(default_factory=dict)

    def describe_slowed(self, config: Config) -> str:
        lines = []
        for account_id, wanted in sorted(self.slowed.items()):
            got = self.intervals[account_id]
            lines.append(
                f"- {config.account(account_id).label()}: every {_secs(got)} instead of every {_secs(wanted)}"
            )
        return "\n".join(lines)


def _secs(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 60} min" if seconds >= 120 else f"{seconds} s"


def desired_interval(config: Config, account: Account, emergency: bool) -> timedelta:
    normal = account.poll_interval or config.policy.poll_interval
    if emergency and not account.is_central:
        return min(normal, config.policy.emergency_poll_interval)
    return normal


def pacific_day(now: datetime) -> str:
    return now.astimezone(PACIFIC).date().isoformat()


def _until_pacific_midnight(now: datetime) -> timedelta:
    local = now.astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), PACIFIC)
    return midnight - local


def blocked_until(rows: Iterable[RateLimitRow], now: datetime) -> datetime | None:
    """The latest time before which the platform must not be called (429, or a spent window)."""
    until: datetime | None = None
    for row in rows:
        candidates = [row.blocked_until]
        if row.remaining is not None and row.remaining <= 0 and row.reset_at is not None:
            candidates.append(row.reset_at)
        if row.used_percent is not None and row.used_percent >= 100 and row.reset_at is not None:
            candidates.append(row.reset_at)
        for when in candidates:
            if when is not None and when > now and (until is None or when > until):
                until = when
    return until


def x_budget(rows: Sequence[RateLimitRow], now: datetime) -> PlatformBudget:
    limits = dict(X_DEFAULT_LIMITS)
    rates: list[float] = []
    for row in rows:
        if row.limit:
            limits[row.bucket] = row.limit
        # A window partly spent: what is left must last until its reset.
        if (
            row.remaining is not None
            and row.reset_at is not None
            and row.reset_at > now
            and row.remaining > 0
        ):
            rates.append(row.remaining / max((row.reset_at - now).total_seconds(), 1.0))
    rates += [limit / X_WINDOW.total_seconds() for limit in limits.values()]
    tightest = min(rates)
    return PlatformBudget(
        "x", tightest * HEADROOM, blocked_until(rows, now), f"tightest window {tightest * 900:.0f}/15 min"
    )


def graph_budget(
    platform: str, rows: Sequence[RateLimitRow], normal_rate: float, now: datetime
) -> PlatformBudget:
    fresh = [
        r.used_percent for r in rows if r.used_percent is not None and now - r.updated_at < timedelta(hours=1)
    ]
    used = max(fresh, default=0.0)
    until = blocked_until(rows, now)
    if used < 60:
        return PlatformBudget(platform, None, until, f"{used:.0f}% of the usage limit")
    # 60% -> normal polling only; 100% -> nothing; linear in between.
    share = max(0.0, (100.0 - used) / 40.0)
    return PlatformBudget(platform, normal_rate * share, until, f"{used:.0f}% of the usage limit")


def youtube_budget(
    config: Config, used_units: int, units_per_poll: float, now: datetime, rows: Sequence[RateLimitRow]
) -> PlatformBudget:
    left = max(config.platforms.youtube.daily_quota * HEADROOM - used_units, 0.0)
    seconds = max(_until_pacific_midnight(now).total_seconds(), 60.0)
    rate = left / max(units_per_poll, 1.0) / seconds
    return PlatformBudget(
        "youtube", rate, blocked_until(rows, now), f"{used_units} units used today (Pacific)"
    )


def allocate(
    desired: dict[str, timedelta],
    priority: dict[str, int],
    polls_per_second: float | None,
    longest: dict[str, timedelta] | None = None,
) -> tuple[dict[str, timedelta], dict[str, timedelta]]:
    """Give each priority level (0 first) its desired rate while the budget lasts; stretch the rest.

    `longest` caps how far an account may be stretched (default MAX_INTERVAL).
    """
    if polls_per_second is None:
        return dict(desired), {}
    intervals: dict[str, timedelta] = {}
    slowed: dict[str, timedelta] = {}
    left = polls_per_second
    for level in sorted(set(priority.values())):
        group = [a for a in desired if priority[a] == level]
        demand = sum(1.0 / desired[a].total_seconds() for a in group)
        if demand <= left:
            intervals.update((a, desired[a]) for a in group)
            left -= demand
            continue
        factor = demand / left if left > 0 else float("inf")
        for account_id in group:
            cap = max((longest or {}).get(account_id, MAX_INTERVAL), desired[account_id])
            stretched = desired[account_id] * factor if factor != float("inf") else cap
            intervals[account_id] = min(max(stretched, desired[account_id]), cap)
            slowed[account_id] = desired[account_id]
        left = 0.0
    return intervals, slowed


@dataclass
class BudgetInputs:
    """What the planner reads from the store, gathered in one go."""

    rate_limits: dict[str, list[RateLimitRow]]
    youtube_units_today: int
    youtube_units_per_poll: float


def read_inputs(session: Session, config: Config, now: datetime) -> BudgetInputs:
    limits: dict[str, list[RateLimitRow]] = {}
    for row in session.scalars(select(RateLimitRow)):
        limits.setdefault(row.platform, []).append(row)
    used = session.get(QuotaUsageRow, ("youtube", pacific_day(now)))
    youtube_ids = [a.id for a in config.accounts if a.platform == "youtube"]
    per_poll = YOUTUBE_DEFAULT_UNITS_PER_POLL
    if youtube_ids:
        recent = list(
            session.scalars(
                select(PollRunRow.quota_units)
                .where(PollRunRow.account_id.in_(youtube_ids), PollRunRow.quota_units > 0)
                .order_by(PollRunRow.id.desc())
                .limit(50)
            )
        )
        if recent:
            per_poll = sum(recent) / len(recent)
    return BudgetInputs(limits, used.units if used else 0, per_poll)


def plan(config: Config, inputs: BudgetInputs, emergency: bool, now: datetime | None = None) -> Plan:
    now = now or datetime.now(UTC)
    result = Plan()
    accounts = [a for a in config.accounts if a.enabled]
    for platform in sorted({a.platform for a in accounts}):
        members = [a for a in accounts if a.platform == platform]
        desired = {a.id: desired_interval(config, a, emergency) for a in members}
        # In an emergency the non-central accounts get the budget first; the central ones keep at
        # least half their normal rate (a hijack of a central account matters most then).
        priority = {a.id: (1 if emergency and a.is_central else 0) for a in members}
        longest = {a.id: desired[a.id] * CENTRAL_STRETCH for a in members if emergency and a.is_central}
        rows = inputs.rate_limits.get(platform, [])
        if platform == "x":
            budget = x_budget(rows, now)
        elif platform in GRAPH_PLATFORMS:
            normal_rate = sum(1.0 / desired_interval(config, a, False).total_seconds() for a in members)
            budget = graph_budget(platform, rows, normal_rate, now)
        elif platform == "youtube":
            budget = youtube_budget(
                config, inputs.youtube_units_today, inputs.youtube_units_per_poll, now, rows
            )
        else:
            budget = PlatformBudget(platform, None, blocked_until(rows, now))
        intervals, slowed = allocate(desired, priority, budget.polls_per_second, longest)
        result.intervals.update(intervals)
        result.slowed.update(slowed)
        result.budgets[platform] = budget
        if budget.blocked_until is not None:
            result.blocked_until[platform] = budget.blocked_until
    return result
