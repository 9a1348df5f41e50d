from __future__ import annotations

import pytest
from check_factories import account, ago, context, post

from checks.video_captions import VideoCaptionsCheck

CHECK = VideoCaptionsCheck()


def video(captions: str, **overrides) -> object:  # type: ignore[no-untyped-def]
    return post(
        "Graduation highlights", platform="youtube", has_video=True, video_captions=captions, **overrides
    )


@pytest.mark.parametrize(
    ("case", "posts", "warnings", "unknown"),
    [
        ("captioned video", [video("yes")], 0, 0),
        ("pre-produced video without captions", [video("no")], 1, 0),
        ("live broadcast is exempt", [video("no", live=True)], 0, 0),
        ("upcoming broadcast is exempt", [video("unknown", live=True)], 0, 0),
        ("unknown status is not a breach", [video("unknown")], 0, 1),
        ("two unknown videos: one info finding", [video("unknown"), video("unknown", at=ago(days=3))], 0, 1),
        ("someone else's video shared", [video("no", kind="share")], 0, 0),
        ("a post without video", [post("Hello")], 0, 0),
    ],
)
def test_captions_table(case: str, posts: list, warnings: int, unknown: int) -> None:  # type: ignore[type-arg]
    findings = CHECK.evaluate(context(account(platform="youtube"), posts=posts))
    assert sum(f.severity == "warning" for f in findings) == warnings, case
    assert sum(f.severity == "info" for f in findings) == unknown, case
    for finding in findings:
        if finding.severity == "info":
            assert finding.subject == "captions-unknown" and "unknown" in finding.detail
        else:
            assert finding.subject.startswith("post:youtube:") and finding.since == posts[0].created_at


def test_resolution_when_captions_are_added() -> None:
    before = video("no", native_id="v1")
    assert CHECK.evaluate(context(posts=[before]))
    after = video("yes", native_id="v1", at=before.created_at)
    ctx = context(posts=[after])
    assert CHECK.evaluate(ctx) == []
    assert CHECK.resolution_reason(ctx, "post:youtube:v1") == "captions were added"
