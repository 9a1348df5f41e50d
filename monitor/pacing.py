"""Budget re-planning for the daemon: how often each account is polled, and never before a reset.

`Pacer` applies the rate-budget plan (`monitor.budget`) to the scheduler's poll jobs: the
intervals (stretched when the platforms' limits cannot give every account its wish, normal or
emergency), first runs spread over the interval, and no request to a platform before the time
its 429 or spent window resets. When the set of slowed accounts changes it marks them in
`account_state` and tells operations once.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import update

from monitor import budget, emergency
from monitor.config import Account, Config
from monitor.db import AccountStateRow
from monitor.logs import get_logger
from monitor.seams import EnqueueAlert
from monitor.store import Store

log = get_logger(component="service")


class Pacer:
    def __init__(
        self,
        config: Config,
        store: Store,
        accounts: Mapping[str, Account],
        enqueue_alert: EnqueueAlert,
        scheduler: Callable[[], BaseScheduler | None],
        emergency_id: Callable[[], int | None],
    ) -> None:
        self.config = config
        self.store = store
        self.accounts = accounts
        self.enqueue_alert = enqueue_alert
        self._scheduler = scheduler
        self._emergency_id = emergency_id
        self.intervals: dict[str, timedelta] = {}
        self.blocked: dict[str, datetime] = {}  # platform -> no request before
        self._slowed: frozenset[str] = frozenset()
        self._plan_lock = threading.RLock()  # the emergency and budget jobs both re-plan
        self._blocked_lock = threading.Lock()

    # --- the plan ---------------------------------------------------------------------------------

    def compute(self, now: datetime) -> budget.Plan:
        with self.store.session() as session:
            inputs = budget.read_inputs(session, self.config, now)
        return budget.plan(self.config, inputs, emergency=self._emergency_id() is not None, now=now)

    def adopt(self, plan: budget.Plan) -> None:
        """Take a plan as the starting state (the poll jobs are then scheduled from it)."""
        self.blocked = dict(plan.blocked_until)
        self.intervals = dict(plan.intervals)

    def replan(self, now: datetime, poll_now: list[str] | None = None) -> budget.Plan:
        """Apply the budget plan to the poll jobs; `poll_now` accounts also poll at once."""
        with self._plan_lock:
            return self._replan(now, poll_now)

    def _replan(self, now: datetime, poll_now: list[str] | None) -> budget.Plan:
        plan = self.compute(now)
        for platform, until in plan.blocked_until.items():
            self.block_platform(platform, until, reschedule=False)
        changed: dict[str, timedelta] = {
            a: interval for a, interval in plan.intervals.items() if self.intervals.get(a) != interval
        }
        starts = spread_starts(changed, now)
        for account_id in poll_now or []:
            starts[account_id] = now
        scheduler = self._scheduler()
        for account_id, start_at in starts.items():
            interval = plan.intervals[account_id]
            self.intervals[account_id] = interval
            if scheduler is None:
                continue
            job = scheduler.get_job(f"poll:{account_id}")
            if job is None:
                continue
            job.modify(
                trigger=IntervalTrigger(seconds=interval.total_seconds(), timezone=UTC),
                next_run_time=self.not_before_block(account_id, start_at),
            )
        for platform in plan.blocked_until:
            self.push_platform(platform)
        if starts:
            self.write_next_polls(list(starts))
        self._report_slowed(plan, now)
        return plan

    def _report_slowed(self, plan: budget.Plan, now: datetime) -> None:
        slowed = frozenset(plan.slowed)
        if slowed == self._slowed:
            return
        self._slowed = slowed
        emergency_id = self._emergency_id()
        with self.store.session() as session:
            session.execute(
                update(AccountStateRow).values(slowed=False).where(AccountStateRow.slowed.is_(True))
            )
            if slowed:
                session.execute(
                    update(AccountStateRow)
                    .where(AccountStateRow.account_id.in_(sorted(slowed)))
                    .values(slowed=True)
                )
                mode = f"emergency {emergency_id}" if emergency_id else "normal"
                key = hashlib.sha1((mode + ",".join(sorted(slowed))).encode()).hexdigest()[:16]
                english = _slowed_texts("en", self.config, plan, bool(emergency_id))
                self.enqueue_alert(
                    session,
                    self.config,
                    emergency.OPERATIONS_ROUTE,
                    "operations",
                    "warning",
                    english["subject"],
                    english["text"],
                    now=now,
                    dedup_key=f"budget-slowed:{key}",
                    localize=lambda locale: _slowed_texts(locale, self.config, plan, bool(emergency_id)),
                )
        if slowed:
            log.warning("rate budget slows accounts", accounts=sorted(slowed))

    # --- no request before a platform's reset -------------------------------------------------------

    def blocked_until(self, platform: str) -> datetime | None:
        return self.blocked.get(platform)

    def not_before_block(self, account_id: str, when: datetime) -> datetime:
        until = self.blocked.get(self.accounts[account_id].platform)
        if until is None or until <= when:
            return when
        # Past the reset, plus a small per-account stagger so they do not all fire in the same second.
        stagger = int(hashlib.sha1(account_id.encode()).hexdigest(), 16) % 1000 / 1000 * 5
        return until + timedelta(seconds=1 + stagger)

    def block_platform(self, platform: str, until: datetime, reschedule: bool = True) -> None:
        with self._blocked_lock:
            current = self.blocked.get(platform)
            if current is not None and current >= until:
                return
            self.blocked[platform] = until
        log.warning(
            "platform rate limited: no requests before the reset", platform=platform, until=until.isoformat()
        )
        if reschedule:
            self.push_platform(platform)

    def push_platform(self, platform: str) -> None:
        """Move that platform's poll jobs past its reset time instead of hammering it."""
        scheduler = self._scheduler()
        if scheduler is None:
            return
        for account_id, account in self.accounts.items():
            if account.platform != platform:
                continue
            job = scheduler.get_job(f"poll:{account_id}")
            if job is not None and job.next_run_time is not None:
                later = self.not_before_block(account_id, job.next_run_time)
                if later != job.next_run_time:
                    job.modify(next_run_time=later)

    def write_next_polls(self, account_ids: list[str]) -> None:
        scheduler = self._scheduler()
        if scheduler is None:
            return
        values = {}
        for account_id in account_ids:
            job = scheduler.get_job(f"poll:{account_id}")
            if job is not None:
                values[account_id] = job.next_run_time
        with self.store.session() as session:
            for account_id, when in values.items():
                session.execute(
                    update(AccountStateRow)
                    .where(AccountStateRow.account_id == account_id)
                    .values(next_poll_at=when)
                )


def spread_starts(intervals: Mapping[str, timedelta], now: datetime) -> dict[str, datetime]:
    """First runs spread evenly over each interval, not all at second 0."""
    groups: dict[timedelta, list[str]] = {}
    for account_id in sorted(intervals):
        groups.setdefault(intervals[account_id], []).append(account_id)
    starts: dict[str, datetime] = {}
    for interval, ids in groups.items():
        for i, account_id in enumerate(ids):
            starts[account_id] = now + timedelta(seconds=1) + interval * (i / len(ids))
    return starts


def _slowed_texts(locale: str, config: Config, plan: budget.Plan, during_emergency: bool) -> dict[str, Any]:
    """The rate-budget notice in `locale`: which accounts are polled less often than wanted."""
    from monitor.i18n import translator

    t = translator(locale)
    subject = t.ngettext(
        "Rate budget: %(num)s account polled less often than wanted",
        "Rate budget: %(num)s accounts polled less often than wanted",
        len(plan.slowed),
    )
    why = (
        t.gettext(
            "The platforms' rate limits do not allow every account its polling interval during the "
            "emergency; non-central accounts were served first."
        )
        if during_emergency
        else t.gettext("The platforms' rate limits do not allow every account its polling interval.")
    )
    lines = [
        "- "
        + t.gettext(
            "%(account)s: every %(got)s instead of every %(wanted)s",
            account=config.account(account_id).label(),
            got=_interval(plan.intervals[account_id], t),
            wanted=_interval(wanted, t),
        )
        for account_id, wanted in sorted(plan.slowed.items())
    ]
    text = "\n".join([why, t.gettext("Slowed:"), *lines])
    return {"subject": subject, "title": subject, "text": text}


def _interval(delta: timedelta, t: Any) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 120:
        return t.gettext("%(minutes)s min", minutes=seconds // 60)
    return t.gettext("%(seconds)s s", seconds=seconds)
