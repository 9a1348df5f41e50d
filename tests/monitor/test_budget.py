"""Rate budgets: pure planning from the platforms' limits, with a fixed clock."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

from connectors.specs import YOUTUBE_SPEC
from monitor.budget import (
    MAX_INTERVAL,
    BudgetInputs,
    allocate,
    blocked_until,
    desired_interval,
    plan,
)
from monitor.config import parse_config
from monitor.db import RateLimitRow

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def make_config(accounts: list[tuple[str, str, str]], extra: str = "") -> object:
    lines = ["policy: {poll_interval: 15m, emergency_poll_interval: 10s}", extra, "accounts:"]
    if not any(
        role == "central" for _, _, role in accounts
    ):  # the config needs one; on a platform of its own
        accounts = [*accounts, ("hq", "instagram", "central")]
    for account_id, platform, role in accounts:
        ig = platform == "instagram"  # Instagram cannot be polled without its id
        lines.append(
            f"  - {{id: {account_id}, platform: {platform}, handle: h{account_id.replace('-', '')}, "
            f"name: N, role: {role}, language: {{mode: bilingual}}"
            + (f', native_id: "1784{zlib.crc32(account_id.encode()):011d}"' if ig else "")
            + "}"
        )
    return parse_config("\n".join(lines), env={})


def inputs(
    limits: dict[str, list[RateLimitRow]] | None = None, units: int = 0, per_poll: float = 4.0
) -> BudgetInputs:
    return BudgetInputs(limits or {}, {"youtube": units}, {"youtube": per_poll})


def row(platform: str, bucket: str, **kw: object) -> RateLimitRow:
    return RateLimitRow(platform=platform, bucket=bucket, updated_at=kw.pop("updated_at", NOW), **kw)


def test_normal_mode_gives_every_account_its_interval() -> None:
    config = make_config(
        [("c", "x", "central"), ("d1", "x", "departmental"), ("y1", "youtube", "departmental")]
    )
    result = plan(config, inputs(), emergency=False, now=NOW)
    assert result.intervals == {a: timedelta(minutes=15) for a in ("c", "d1", "y1")}
    assert result.slowed == {}


def test_emergency_speeds_up_non_central_accounts_only() -> None:
    config = make_config([("c", "facebook", "central"), ("d1", "facebook", "departmental")])
    result = plan(config, inputs(), emergency=True, now=NOW)
    assert result.intervals["d1"] == timedelta(seconds=10)
    assert result.intervals["c"] == timedelta(minutes=15)


def test_emergency_interval_never_slower_than_normal() -> None:
    config = make_config([("d1", "x", "departmental"), ("c", "x", "central")], extra="")
    account = config.account("d1")
    assert desired_interval(config, account, emergency=True) == timedelta(seconds=10)
    fast = make_config([("d1", "x", "departmental"), ("c", "x", "central")]).model_copy(
        update={"policy": config.policy.model_copy(update={"poll_interval": timedelta(seconds=5)})}
    )
    assert desired_interval(fast, fast.account("d1"), emergency=True) == timedelta(seconds=5)


def test_allocate_serves_priority_zero_first_and_stretches_the_rest() -> None:
    desired = {"a": timedelta(seconds=10), "b": timedelta(seconds=10), "c": timedelta(seconds=10)}
    priority = {"a": 0, "b": 0, "c": 1}
    intervals, slowed = allocate(desired, priority, polls_per_second=0.25)  # a+b take 0.2; 0.05 left for c
    assert intervals["a"] == intervals["b"] == timedelta(seconds=10)
    assert intervals["c"] == timedelta(seconds=20)
    assert slowed == {"c": timedelta(seconds=10)}


def test_allocate_with_nothing_left_gives_the_longest_interval() -> None:
    intervals, slowed = allocate(
        {"a": timedelta(seconds=1), "b": timedelta(seconds=10)}, {"a": 0, "b": 1}, 0.5
    )
    assert intervals["a"] == timedelta(seconds=2)  # stretched to fit the whole budget
    assert intervals["b"] == MAX_INTERVAL
    assert set(slowed) == {"a", "b"}


def test_x_emergency_over_budget_slows_central_accounts_first() -> None:
    # 30 non-central X accounts at 10 s = 3 polls/s; a mentions window of 3000/15 min = 3.33/s,
    # of which 80% (headroom) is planned.
    accounts = [(f"d{i}", "x", "departmental") for i in range(30)] + [("c", "x", "central")]
    config = make_config(accounts)
    limits = {
        "x": [
            row("x", "GET /2/users/:id/mentions", limit=3000),
            row("x", "GET /2/users/:id/tweets", limit=100000),
        ]
    }
    result = plan(config, inputs(limits), emergency=True, now=NOW)
    assert "c" in result.slowed
    assert all(result.intervals[f"d{i}"] > timedelta(seconds=10) for i in range(30))  # 3/s > 2.67/s budget
    assert result.intervals["c"] == timedelta(minutes=30)


def test_x_window_nearly_spent_counts_until_its_reset() -> None:
    config = make_config([("d1", "x", "departmental"), ("d2", "x", "departmental")])
    # One call left for the next 10 minutes; two accounts every 15 minutes need more.
    spent = {
        "x": [
            row(
                "x", "GET /2/users/:id/mentions", limit=450, remaining=1, reset_at=NOW + timedelta(minutes=10)
            )
        ]
    }
    result = plan(config, inputs(spent), emergency=False, now=NOW)
    assert set(result.slowed) == {"d1", "d2"}
    assert result.intervals["d1"] > timedelta(minutes=15)


def test_header_limits_replace_the_defaults() -> None:
    accounts = [(f"d{i}", "x", "departmental") for i in range(20)]
    config = make_config(accounts)
    assert set(plan(config, inputs(), emergency=True, now=NOW).slowed) == {f"d{i}" for i in range(20)}
    generous = {
        "x": [
            row(
                "x",
                "GET /2/users/:id/mentions",
                limit=10_000,
                remaining=9_999,
                reset_at=NOW + timedelta(minutes=15),
            )
        ]
    }
    assert plan(config, inputs(generous), emergency=True, now=NOW).slowed == {}


def test_blocked_until_from_429_and_from_a_spent_window() -> None:
    later = NOW + timedelta(minutes=7)
    assert blocked_until([row("x", "429", blocked_until=later)], NOW) == later
    assert blocked_until([row("x", "GET /2/users/:id/mentions", remaining=0, reset_at=later)], NOW) == later
    assert (
        blocked_until(
            [row("x", "GET /2/users/:id/mentions", remaining=0, reset_at=NOW - timedelta(seconds=1))], NOW
        )
        is None
    )
    assert blocked_until([row("facebook", "app", used_percent=100.0, reset_at=later)], NOW) == later


def test_plan_reports_blocked_platforms() -> None:
    config = make_config([("d1", "x", "departmental"), ("f1", "facebook", "departmental")])
    later = NOW + timedelta(minutes=3)
    result = plan(config, inputs({"x": [row("x", "429", blocked_until=later)]}), emergency=False, now=NOW)
    assert result.blocked_until == {"x": later}


def test_graph_usage_above_60_percent_holds_emergency_to_normal_rate() -> None:
    config = make_config([("c", "facebook", "central"), ("d1", "facebook", "departmental")])
    busy = {"facebook": [row("facebook", "x-app-usage", used_percent=60.0)]}
    result = plan(config, inputs(busy), emergency=True, now=NOW)
    # Budget = normal rate of both (2 per 15 min): d1 wants 10 s, so it is stretched; c gets nothing.
    assert result.intervals["d1"] == timedelta(minutes=7, seconds=30)
    assert result.intervals["c"] == timedelta(
        minutes=30
    )  # central: slowed, but at most to twice its interval
    stale = {
        "facebook": [row("facebook", "x-app-usage", used_percent=95.0, updated_at=NOW - timedelta(hours=2))]
    }
    assert plan(config, inputs(stale), emergency=True, now=NOW).slowed == {}


def test_youtube_quota_nearly_spent_slows_polling() -> None:
    config = make_config([("y1", "youtube", "departmental"), ("y2", "youtube", "departmental")])
    assert plan(config, inputs(units=0), emergency=False, now=NOW).slowed == {}
    result = plan(config, inputs(units=7990, per_poll=4.0), emergency=False, now=NOW)
    # 10 units left (80% of 10,000 minus 7,990) = 2.5 polls until Pacific midnight (13 h away).
    assert set(result.slowed) == {"y1", "y2"}
    assert result.intervals["y1"] > timedelta(hours=5)


def test_pacific_day_rolls_at_pacific_midnight() -> None:
    pacific_day = YOUTUBE_SPEC.quota_day
    assert pacific_day(datetime(2026, 3, 10, 7, 59, tzinfo=UTC)) == "2026-03-10"  # 00:59 PDT
    assert pacific_day(datetime(2026, 3, 10, 6, 59, tzinfo=UTC)) == "2026-03-09"  # 23:59 PDT
