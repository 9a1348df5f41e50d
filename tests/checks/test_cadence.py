from __future__ import annotations

from datetime import timedelta

import pytest
from check_factories import NOW, PollState, account, ago, context, post

from checks.cadence import CadenceCheck

CHECK = CadenceCheck()
POLLED = PollState(last_ok_at=ago(minutes=10))


@pytest.mark.parametrize(
    ("platform", "age", "kind", "expected"),
    [
        ("x", timedelta(hours=47), "original", False),
        ("x", timedelta(hours=49), "original", True),
        ("facebook", timedelta(hours=49), "original", True),
        ("instagram", timedelta(days=6), "original", False),
        ("instagram", timedelta(days=8), "original", True),
        ("youtube", timedelta(days=7, minutes=1), "original", True),
        ("x", timedelta(hours=10), "quote", False),
    ],
)
def test_cadence_by_platform(platform: str, age: timedelta, kind: str, expected: bool) -> None:
    newest = post(at=NOW - age, kind=kind, platform=platform)
    findings = CHECK.evaluate(context(account(platform=platform), latest_original=newest, poll=POLLED))
    assert bool(findings) is expected
    if expected:
        (finding,) = findings
        assert finding.subject == "posting" and finding.severity == "warning"
        default = timedelta(hours=48) if platform in ("x", "facebook") else timedelta(days=7)
        assert finding.since == newest.created_at + default  # when it became overdue, not now
        assert "newest original post" in finding.detail


def test_account_override_of_cadence() -> None:
    newest = post(at=ago(days=3))
    assert not CHECK.evaluate(context(account(cadence="4d"), latest_original=newest, poll=POLLED))
    assert CHECK.evaluate(context(account(cadence="2d"), latest_original=newest, poll=POLLED))


def test_never_posted_is_a_finding_only_once_polled() -> None:
    assert CHECK.evaluate(context(account(), latest_original=None, poll=None)) == []
    (finding,) = CHECK.evaluate(context(account(), latest_original=None, poll=POLLED))
    assert "No original post" in finding.detail


def test_detail_is_stable_between_runs() -> None:
    newest = post(at=ago(days=3))
    first = CHECK.evaluate(context(latest_original=newest, poll=POLLED))
    later = CHECK.evaluate(context(latest_original=newest, poll=POLLED, now=NOW + timedelta(hours=5)))
    assert first == later
