from __future__ import annotations

from datetime import timedelta

import pytest
from check_factories import NOW, ago, context, profile

from checks.profile_changed import ProfileChangedCheck

CHECK = ProfileChangedCheck()
BASE = profile("Official account. Monitored Mon-Fri 9am-5pm", at=ago(days=30))


@pytest.mark.parametrize(
    ("case", "change", "expected"),
    [
        ("display name", {"name": "Free crypto giveaway"}, "display name"),
        ("handle", {"handle": "DeptX_official"}, "handle"),
        ("profile text", {"text": "DM us for prizes"}, "profile text"),
        ("avatar", {"avatar_fingerprint": "zzz"}, "avatar image"),
    ],
)
def test_each_kind_of_change_is_a_finding(case: str, change: dict, expected: str) -> None:  # type: ignore[type-arg]
    latest = profile(BASE.text, at=ago(hours=1), **{k: v for k, v in change.items() if k != "text"})
    if "text" in change:
        latest = profile(change["text"], at=ago(hours=1))
    (finding,) = CHECK.evaluate(context(profiles=[latest, BASE]))
    assert expected in finding.detail, case
    assert finding.severity == "high" and finding.immediate and finding.since == latest.taken_at
    assert finding.subject.startswith("profile:")


def test_first_snapshot_is_a_baseline() -> None:
    assert CHECK.evaluate(context(profiles=[BASE])) == []
    assert CHECK.evaluate(context(profiles=[])) == []


def test_changed_back_is_no_finding_and_resolves_the_change() -> None:
    hijacked = profile("DM us for prizes", at=ago(hours=3), name="Giveaway")
    restored = profile(BASE.text, at=ago(hours=1))
    ctx = context(profiles=[restored, hijacked, BASE])
    assert CHECK.evaluate(ctx) == []
    subject = "profile:" + hijacked.taken_at.strftime("%Y%m%dT%H%M%SZ")
    assert CHECK.resolution_reason(ctx, subject).startswith("the profile was changed back")


def test_a_second_change_is_a_new_finding_and_supersedes_the_first() -> None:
    first = profile("New text", at=ago(hours=3))
    second = profile("Newer text", at=ago(hours=1))
    (finding,) = CHECK.evaluate(context(profiles=[second, first, BASE]))
    assert finding.since == second.taken_at
    first_subject = "profile:" + first.taken_at.strftime("%Y%m%dT%H%M%SZ")
    assert finding.subject != first_subject
    assert CHECK.resolution_reason(context(profiles=[second, first, BASE]), first_subject).startswith(
        "superseded"
    )


def test_a_change_settles_after_seven_days() -> None:
    latest = profile("New text", at=NOW - timedelta(days=7, minutes=1))
    ctx = context(profiles=[latest, BASE])
    assert CHECK.evaluate(ctx) == []
    subject = "profile:" + latest.taken_at.strftime("%Y%m%dT%H%M%SZ")
    assert "accepted" in CHECK.resolution_reason(ctx, subject)
