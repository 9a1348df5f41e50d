"""Hints -> polls: a burst about one account costs at most two polls; the budget defers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from monitor.budget import Plan, PlatformBudget
from monitor.hooks.hints import BudgetGate, HintDispatcher

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_a_burst_of_hints_is_one_poll_plus_one_after_it() -> None:
    started, release = threading.Event(), threading.Event()
    polls: list[str] = []

    def poll(account_id: str) -> None:
        polls.append(account_id)
        started.set()
        release.wait(5)

    dispatcher = HintDispatcher(poll)
    try:
        assert dispatcher.hint("a", "facebook") == "polled"
        assert started.wait(5)
        outcomes = [dispatcher.hint("a", "facebook") for _ in range(50)]
        assert set(outcomes) == {"coalesced"}
        assert dispatcher.hint("b", "facebook") == "polled"  # another account is not held up
        release.set()
        assert dispatcher.wait_idle(5)
        assert polls.count("a") == 2 and polls.count("b") == 1
    finally:
        dispatcher.close()


def plan(pps: float | None, blocked: datetime | None = None) -> Plan:
    result = Plan(intervals={"yt": timedelta(minutes=15)})
    result.budgets["youtube"] = PlatformBudget("youtube", pps, blocked)
    if blocked:
        result.blocked_until["youtube"] = blocked
    return result


def test_the_gate_spends_only_the_spare_rate() -> None:
    # 1/900 polls/s are scheduled; a budget of 1/900 leaves nothing for hints.
    assert BudgetGate(lambda: plan(1 / 900), {"yt": "youtube"}, lambda: NOW).allow("youtube") is False
    roomy = BudgetGate(lambda: plan(1 / 900 + 0.002), {"yt": "youtube"}, lambda: NOW)
    allowed = [roomy.allow("youtube") for _ in range(10)]
    assert allowed[:3] == [True, True, True] and allowed.count(True) == 3  # the bucket: 3 polls, then wait
    assert BudgetGate(lambda: plan(None), {"yt": "youtube"}, lambda: NOW).allow("youtube") is True


def test_a_blocked_platform_defers_hints() -> None:
    gate = BudgetGate(lambda: plan(None, NOW + timedelta(minutes=5)), {"yt": "youtube"}, lambda: NOW)
    assert gate.allow("youtube") is False
    dispatcher = HintDispatcher(lambda _a: None, gate.allow)
    try:
        assert dispatcher.hint("yt", "youtube") == "deferred"
    finally:
        dispatcher.close()
