"""Hints -> polls: at once, deduplicated, within the platform's rate budget.

Per account at most one hint poll runs, and at most one more is queued behind it (a hint that
arrives while a poll is running may concern something that poll started too early to see):
a burst of hints about one account costs at most two polls.

The budget: a platform's `monitor.budget` plan leaves a spare rate (what its rate limit allows,
minus what the scheduled polls use). Hint polls spend a token bucket filled at that spare rate;
with no known limit (Graph below 60% usage) they are not rationed; while the platform is blocked
(429, spent window) or the bucket is empty the hint is deferred: the scheduled poll covers it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from monitor.budget import Plan
from monitor.logs import get_logger

log = get_logger(component="hooks")

PLAN_TTL = 60.0  # seconds a budget plan is reused
BUCKET_SECONDS = 300.0  # a bucket holds this many seconds of spare rate (at least MIN_BURST polls)
MIN_BURST = 3.0


class BudgetGate:
    def __init__(self, plan: Callable[[], Plan], accounts: dict[str, str], clock: Callable[[], datetime]):
        self._plan_source = plan
        self._platform_of = accounts  # account id -> platform
        self.clock = clock
        self._plan: Plan | None = None
        self._plan_at = 0.0
        self._tokens: dict[str, float] = {}
        self._filled_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def _current(self) -> Plan | None:
        if self._plan is None or time.monotonic() - self._plan_at > PLAN_TTL:
            try:
                self._plan, self._plan_at = self._plan_source(), time.monotonic()
            except Exception as exc:  # no plan: do not ration blindly, let the poll's own 429 handling act
                log.warning("hint budget: no plan", error=type(exc).__name__)
                return self._plan
        return self._plan

    def allow(self, platform: str) -> bool:
        with self._lock:
            plan = self._current()
            if plan is None:
                return True
            blocked = plan.blocked_until.get(platform)
            if blocked is not None and blocked > self.clock():
                return False
            budget = plan.budgets.get(platform)
            if budget is None or budget.polls_per_second is None:
                return True
            demand = sum(
                1.0 / interval.total_seconds()
                for account, interval in plan.intervals.items()
                if self._platform_of.get(account) == platform
            )
            spare = max(budget.polls_per_second - demand, 0.0)
            capacity = max(spare * BUCKET_SECONDS, MIN_BURST) if spare > 0 else 0.0
            now = time.monotonic()
            tokens = self._tokens.get(platform, capacity)
            tokens = min(capacity, tokens + spare * (now - self._filled_at.get(platform, now)))
            self._filled_at[platform] = now
            if tokens < 1.0:
                self._tokens[platform] = tokens
                return False
            self._tokens[platform] = tokens - 1.0
            return True


class HintDispatcher:
    """`hint(account, platform)` -> "polled" (started), "coalesced" or "deferred"."""

    def __init__(
        self,
        poll: Callable[[str], object],
        gate: Callable[[str], bool] = lambda _platform: True,
        workers: int = 4,
    ):
        self._poll = poll
        self._gate = gate
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="socialmon-hint")
        self._running: dict[str, bool] = {}  # account -> another poll wanted after this one
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._closed = False

    def hint(self, account_id: str, platform: str) -> str:
        with self._lock:
            if self._closed:
                return "deferred"
            if account_id in self._running:
                self._running[account_id] = True
                return "coalesced"
            if not self._gate(platform):
                return "deferred"
            self._running[account_id] = False
        self._pool.submit(self._run, account_id)
        return "polled"

    def _run(self, account_id: str) -> None:
        while True:
            try:
                self._poll(account_id)
            except Exception as exc:  # the poll logs its own failures; never lose the loop
                log.error("hint poll failed", account=account_id, error=type(exc).__name__)
            with self._lock:
                if self._running.get(account_id) and not self._closed:
                    self._running[account_id] = False
                    continue
                self._running.pop(account_id, None)
                self._idle.notify_all()
                return

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
