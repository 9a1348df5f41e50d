from __future__ import annotations

import pytest
from check_factories import CENTRAL, NOW, Emergency, account, ago, context, post, scheduled

from checks.emergency_posting import EmergencyPostingCheck, is_permitted_redirect
from monitor.config import Policy

CHECK = EmergencyPostingCheck()
DECLARED = Emergency(started_at=ago(hours=2), reason="campus lockdown")
CENTRALS = (
    CENTRAL,
    account(id="bangor-cy", handle="PrifysgolBangor", role="central"),
    account(id="bangor-fb", platform="facebook", handle="BangorUniversity", role="central"),
)


@pytest.mark.parametrize(
    ("case", "text", "links", "permitted"),
    [
        (
            "English redirect by mention",
            "Please follow @BangorUni for updates on today's incident.",
            (),
            True,
        ),
        ("Welsh redirect by mention", "Dilynwch @PrifysgolBangor am y wybodaeth ddiweddaraf.", (), True),
        ("redirect by profile link", "Updates: https://x.com/BangorUni", ("https://x.com/BangorUni",), True),
        (
            "redirect to the Facebook page",
            "Diweddariadau / Updates",
            ("https://www.facebook.com/BangorUniversity",),
            True,
        ),
        (
            "mention plus another link",
            "Follow @BangorUni. More: https://bangor.ac.uk/news",
            ("https://bangor.ac.uk/news",),
            False,
        ),
        ("a one-line note and a redirect", "Library closed today. Follow @BangorUni for updates.", (), True),
        (
            "an update of its own",
            "The library is closed and all exams this afternoon are moved to Friday at the "
            "same times in the main hall; bring your card. Follow @BangorUni.",
            (),
            False,
        ),
        ("no pointer to a central account", "Please follow official channels for updates.", (), False),
        ("mentions a non-central account", "Follow @DeptX for updates", (), False),
        (
            "link to a central account's post is not a profile",
            "See https://x.com/BangorUni/status/1",
            ("https://x.com/BangorUni/status/1",),
            True,
        ),
    ],
)
def test_redirect_rule(case: str, text: str, links: tuple[str, ...], permitted: bool) -> None:
    assert is_permitted_redirect(post(text, links=links), CENTRALS, 280) is permitted, case


def test_redirect_must_be_short() -> None:
    long_update = "Follow @BangorUni. " + " ".join(["The campus is closed until further notice"] * 8)
    assert not is_permitted_redirect(post(long_update), CENTRALS, 280)
    assert not is_permitted_redirect(post("Follow @BangorUni for all updates today"), CENTRALS, 20)
    assert not is_permitted_redirect(post("Follow @BangorUni", has_video=True), CENTRALS, 280)


@pytest.mark.parametrize(
    ("case", "acct", "emergency", "posts", "expected"),
    [
        ("no emergency", account(), None, [post("Open day!")], 0),
        ("departmental post after the start", account(), DECLARED, [post("Open day!")], 1),
        ("post before the start", account(), DECLARED, [post("Open day!", at=ago(hours=3))], 0),
        ("permitted redirect", account(), DECLARED, [post("Follow @BangorUni for updates")], 0),
        ("central account may post", CENTRAL, DECLARED, [post("Campus closed. Stay indoors.")], 0),
        ("a reply counts too", account(), DECLARED, [post("We are closed today", kind="reply")], 1),
    ],
)
def test_emergency_table(case: str, acct, emergency, posts, expected: int) -> None:  # type: ignore[no-untyped-def]
    findings = CHECK.evaluate(context(acct, emergency=emergency, posts=posts, central_accounts=CENTRALS))
    assert len(findings) == expected, case
    for finding in findings:
        assert finding.severity == "critical" and finding.immediate
        assert finding.since == posts[0].created_at


def test_scheduled_posts_are_their_own_findings() -> None:
    queued = scheduled("Open day tomorrow!")
    findings = CHECK.evaluate(context(account(), emergency=DECLARED, scheduled=[queued]))
    (finding,) = findings
    assert finding.subject == f"scheduled:facebook:{queued.native_id}"
    assert finding.severity == "high" and finding.immediate and finding.since == DECLARED.started_at
    assert CHECK.evaluate(context(CENTRAL, emergency=DECLARED, scheduled=[queued])) == []
    assert CHECK.evaluate(context(account(), emergency=None, scheduled=[queued])) == []


def test_resolution_reasons() -> None:
    assert CHECK.resolution_reason(context(emergency=None), "post:x:1") == "the emergency ended"
    assert "no longer queued" in CHECK.resolution_reason(context(emergency=DECLARED), "scheduled:facebook:1")


def test_policy_redirect_limit_is_used() -> None:
    text = "Dilynwch @PrifysgolBangor am y wybodaeth ddiweddaraf am y digwyddiad heddiw"
    ctx = context(
        account(),
        emergency=DECLARED,
        posts=[post(text)],
        central_accounts=CENTRALS,
        policy=Policy(redirect_max_chars=30),
    )
    assert len(CHECK.evaluate(ctx)) == 1
    assert DECLARED.started_at < NOW


def test_a_post_in_the_declarations_own_second_counts() -> None:
    # Platforms give whole seconds; the declaration has microseconds.
    declared = Emergency(started_at=ago(hours=2).replace(microsecond=750_000), reason="lockdown")
    same_second = post("Open day!", at=declared.started_at.replace(microsecond=0))
    findings = CHECK.evaluate(
        context(account(), emergency=declared, posts=[same_second], central_accounts=CENTRALS)
    )
    assert len(findings) == 1


@pytest.mark.parametrize("platform", ["facebook", "instagram", "x"])
def test_information_in_a_comment_or_reply_during_an_emergency_is_a_breach(platform: str) -> None:
    from check_factories import message, reply

    acct = account(platform=platform)
    asked = message("Is campus open?", "en", platform=platform, created_at=ago(hours=1))
    info = reply(asked, "The library is closed until further notice.", "en", created_at=ago(minutes=30))
    redirect = reply(asked, "Please follow @BangorUni for updates.", "en", created_at=ago(minutes=20))
    before = reply(asked, "Yes, open as usual.", "en", created_at=ago(hours=3))
    ctx = context(acct, replies=[before, info, redirect], emergency=DECLARED, central_accounts=CENTRALS)
    findings = CHECK.evaluate(ctx)
    assert [f.subject for f in findings] == [f"reply:{platform}:{info.native_id}"]
    assert findings[0].severity == "critical" and findings[0].immediate
    assert "closed until further notice" in findings[0].detail
    assert CHECK.resolution_reason(context(acct), findings[0].subject) == "the emergency ended"


def test_an_x_reply_stored_as_a_post_too_is_reported_once() -> None:
    from check_factories import message, reply

    asked = message("Is campus open?", "en", created_at=ago(hours=1))
    answer = reply(asked, "Closed today.", "en", created_at=ago(minutes=30))
    as_post = post("Closed today.", at=answer.created_at, native_id=answer.native_id, kind="reply")
    ctx = context(posts=[as_post], replies=[answer], emergency=DECLARED, central_accounts=CENTRALS)
    assert [f.subject for f in CHECK.evaluate(ctx)] == [f"post:x:{answer.native_id}"]


def test_central_accounts_may_reply_during_an_emergency() -> None:
    from check_factories import message, reply

    asked = message("Is campus open?", "en", created_at=ago(hours=1))
    answer = reply(asked, "Closed today.", "en", created_at=ago(minutes=5))
    ctx = context(CENTRAL, replies=[answer], emergency=DECLARED)
    assert CHECK.evaluate(ctx) == []
