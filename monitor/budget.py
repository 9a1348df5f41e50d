"""Rate budgets: how often each account may be polled without exceeding its platform's limits.

Pure functions of the configuration, what the platforms last told us (`RateLimitRow`, daily
`QuotaUsageRow` units, recent poll runs) and `now`. The scheduler asks for a `Plan` and applies it.

Each platform's budget is a rate of polls per second the platform can take; which kind of budget,
and its buckets, windows, units and quota day, come from the platform's spec (`connectors.specs`):
- windows (X): per-endpoint windows (`x-rate-limit-*`); each poll calls each endpoint about once,
  so the tightest window decides, and a window nearly spent until its reset counts too.
- usage_percent (Facebook / Instagram): Graph usage headers give a percentage used; above 60% we
  hold the rate to what normal polling uses, shrinking it as usage climbs towards 100%.
- daily_units (YouTube): a daily unit quota reset at midnight in the spec's `quota_zone` (Pacific);
  the units left, spread over the time left.
Desired intervals are met in priority order (in an emergency, non-central accounts first); the
accounts that could not be given their desired interval are "slowed" and named to operators.
A 429 (`blocked_until`) or a spent window (`remaining == 0` until `reset_at`) blocks the platform:
no request before that time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.specs import SPECS, PlatformSpec
from monitor.clock import utcnow
from monitor.config import Account, Config
from monitor.db import PollRunRow, QuotaUsageRow, RateLimitRow

DEFAULT_WINDOW = timedelta(minutes=15)  # for a bucket the platform reports but the spec omits
HEADROOM = 0.8  # plan to use at most this share of any budget
MAX_INTERVAL = timedelta(hours=6)  # however short the budget, an account is polled at least this often
CENTRAL_STRETCH = 2  # in an emergency a central account is slowed to at most twice its interval


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


def windows_budget(spec: PlatformSpec, rows: Sequence[RateLimitRow], now: datetime) -> PlatformBudget:
    """Per-endpoint request windows: the tightest (allowing for what is already spent) decides."""
    limits = {bucket.name: bucket.limit for bucket in spec.rate_buckets}
    windows = {bucket.name: bucket.window for bucket in spec.rate_buckets}
    window = max(windows.values(), default=DEFAULT_WINDOW)
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
    rates += [limit / windows.get(name, window).total_seconds() for name, limit in limits.items()]
    tightest = min(rates)
    seconds = window.total_seconds()
    note = f"tightest window {tightest * seconds:.0f}/{seconds / 60:.0f} min"
    return PlatformBudget(spec.name, tightest * HEADROOM, blocked_until(rows, now), note)


def usage_percent_budget(
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


def daily_units_budget(
    spec: PlatformSpec,
    config: Config,
    used_units: int,
    units_per_poll: float,
    now: datetime,
    rows: Sequence[RateLimitRow],
) -> PlatformBudget:
    """A daily unit quota (`platforms.<name>.daily_quota`): the units left, spread over the day left."""
    daily_quota: int = config.platforms.settings_for(spec.name).daily_quota
    left = max(daily_quota * HEADROOM - used_units, 0.0)
    seconds = max(spec.until_quota_reset(now).total_seconds(), 60.0)
    rate = left / max(units_per_poll, 1.0) / seconds
    note = f"{used_units} units used today ({spec.quota_zone_name})"
    return PlatformBudget(spec.name, rate, blocked_until(rows, now), note)


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
    units_today: dict[str, int]  # platform (with a daily unit quota) -> units spent on its quota day
    units_per_poll: dict[str, float]  # platform -> what a poll spends, from recent polls


def read_inputs(session: Session, config: Config, now: datetime) -> BudgetInputs:
    limits: dict[str, list[RateLimitRow]] = {}
    for row in session.scalars(select(RateLimitRow)):
        limits.setdefault(row.platform, []).append(row)
    units_today: dict[str, int] = {}
    units_per_poll: dict[str, float] = {}
    for spec in SPECS.values():
        if spec.budget != "daily_units":
            continue
        used = session.get(QuotaUsageRow, (spec.name, spec.quota_day(now)))
        units_today[spec.name] = used.units if used else 0
        units_per_poll[spec.name] = _recent_units_per_poll(session, config, spec)
    return BudgetInputs(limits, units_today, units_per_poll)


def _recent_units_per_poll(session: Session, config: Config, spec: PlatformSpec) -> float:
    account_ids = [a.id for a in config.accounts if a.platform == spec.name]
    if not account_ids:
        return spec.quota_units_per_poll
    recent = list(
        session.scalars(
            select(PollRunRow.quota_units)
            .where(PollRunRow.account_id.in_(account_ids), PollRunRow.quota_units > 0)
            .order_by(PollRunRow.id.desc())
            .limit(50)
        )
    )
    return sum(recent) / len(recent) if recent else spec.quota_units_per_poll


def platform_budget(
    spec: PlatformSpec,
    config: Config,
    inputs: BudgetInputs,
    members: list[Account],
    rows: Sequence[RateLimitRow],
    now: datetime,
) -> PlatformBudget:
    """The budget of one platform, by the kind its spec declares."""
    if spec.budget == "windows":
        return windows_budget(spec, rows, now)
    if spec.budget == "usage_percent":
        normal_rate = sum(1.0 / desired_interval(config, a, False).total_seconds() for a in members)
        return usage_percent_budget(spec.name, rows, normal_rate, now)
    if spec.budget == "daily_units":
        used = inputs.units_today.get(spec.name, 0)
        per_poll = inputs.units_per_poll.get(spec.name, spec.quota_units_per_poll)
        return daily_units_budget(spec, config, used, per_poll, now, rows)
    return PlatformBudget(spec.name, None, blocked_until(rows, now))


def plan(config: Config, inputs: BudgetInputs, emergency: bool, now: datetime | None = None) -> Plan:
    now = now or utcnow()
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
        budget = platform_budget(SPECS[platform], config, inputs, members, rows, now)
        intervals, slowed = allocate(desired, priority, budget.polls_per_second, longest)
        result.intervals.update(intervals)
        result.slowed.update(slowed)
        result.budgets[platform] = budget
        if budget.blocked_until is not None:
            result.blocked_until[platform] = budget.blocked_until
    return result
