"""registry and connector-health."""

from __future__ import annotations

from datetime import timedelta

import pytest
from check_factories import PEOPLE, PollState, account, ago, context

from checks.connector_health import ConnectorHealthCheck
from checks.registry import RegistryCheck
from monitor.config import Policy

REGISTRY = RegistryCheck()
HEALTH = ConnectorHealthCheck()


@pytest.mark.parametrize(
    ("case", "overrides", "gaps"),
    [
        ("complete", {}, []),
        ("one person", {"people": PEOPLE[:1]}, ["1 named person"]),
        ("same person twice", {"people": [PEOPLE[0], PEOPLE[0].upper()]}, ["1 named person"]),
        ("no people", {"people": []}, ["0 named people"]),
        ("no manager", {"manager": None}, ["no account manager"]),
        ("no hours", {"monitoring_hours": None}, ["no monitoring hours"]),
        (
            "everything missing",
            {"people": [], "manager": None, "monitoring_hours": None},
            ["0 named people", "no account manager", "no monitoring hours"],
        ),
    ],
)
def test_registry_table(case: str, overrides: dict, gaps: list[str]) -> None:  # type: ignore[type-arg]
    findings = REGISTRY.evaluate(context(account(**overrides)))
    if not gaps:
        assert findings == [], case
        return
    (finding,) = findings
    assert finding.subject == "registry" and finding.severity == "warning"
    for gap in gaps:
        assert gap in finding.detail, case


@pytest.mark.parametrize(
    ("case", "poll", "expected"),
    [
        ("never polled", None, False),
        ("healthy", PollState(last_status="ok", last_ok_at=ago(minutes=5)), False),
        (
            "failing within tolerance",
            PollState(last_status="transient", failing_since=ago(minutes=50)),
            False,
        ),
        (
            "failing past tolerance",
            PollState(
                last_status="auth_expired",
                failing_since=ago(minutes=61),
                last_error="token expired",
                last_ok_at=ago(hours=2),
            ),
            True,
        ),
    ],
)
def test_connector_health_table(case: str, poll: PollState | None, expected: bool) -> None:
    findings = HEALTH.evaluate(context(poll=poll))
    assert bool(findings) is expected, case
    if expected:
        (finding,) = findings
        assert finding.since == poll.failing_since + timedelta(hours=1)  # type: ignore[union-attr]
        assert finding.immediate and finding.severity == "high" and finding.subject == "poll"
        assert "issue a new token" in finding.detail and "expired access" in finding.detail
        assert "token expired" not in finding.detail  # the platform's error text is for operators


def test_failure_tolerance_is_a_policy_setting() -> None:
    poll = PollState(last_status="rate_limited", failing_since=ago(minutes=20))
    assert HEALTH.evaluate(context(poll=poll, policy=Policy(failure_tolerance="15m")))
    assert (
        HEALTH.resolution_reason(context(poll=PollState(last_status="ok")), "poll") == "polling works again"
    )
