from __future__ import annotations

from datetime import timedelta

import pytest
from check_factories import NOW, account, ago, context, post

from checks.welsh_counterpart import WelshCounterpartCheck, match_counterparts

CHECK = WelshCounterpartCheck()
EN_ACCOUNT = account(id="dept-en", language={"mode": "paired", "pair": "dept-cy", "lang": "en"})
CY_ACCOUNT = account(
    id="dept-cy", handle="AdranX", language={"mode": "paired", "pair": "dept-en", "lang": "cy"}
)


def at(minutes_ago: float) -> dict:  # type: ignore[type-arg]
    return {"at": NOW - timedelta(minutes=minutes_ago)}


@pytest.mark.parametrize(
    ("case", "posts", "expected"),
    [
        (
            "English with Welsh 10 min later",
            [post("Open day", "en", **at(120)), post("Diwrnod agored", "cy", **at(110))],
            0,
        ),
        (
            "Welsh first, English 25 min later",
            [post("Diwrnod", "cy", **at(125)), post("Open", "en", **at(100))],
            0,
        ),
        ("English alone", [post("Open day", "en", **at(120))], 1),
        (
            "Welsh 45 min later is too late",
            [post("Open", "en", **at(120)), post("Agored", "cy", **at(75))],
            1,
        ),
        ("bilingual post needs nothing", [post("Diwrnod agored / Open day", "cy+en", **at(120))], 0),
        ("English younger than the window: not yet", [post("Open day", "en", **at(20))], 0),
        ("replies are not judged", [post("Thanks!", "en", kind="reply", **at(120))], 0),
        ("shares are not judged", [post("RT", "en", kind="share", **at(120))], 0),
        ("unknown language not judged", [post("https://bangor.ac.uk", "unknown", **at(120))], 0),
        (
            "one Welsh post cannot clear two English posts",
            [post("A", "en", **at(120)), post("B", "en", **at(118)), post("A cy", "cy", **at(119))],
            1,
        ),
        ("older than the look-back is no longer judged", [post("Old", "en", at=ago(days=15))], 0),
    ],
)
def test_bilingual_account(case: str, posts: list, expected: int) -> None:  # type: ignore[type-arg]
    findings = CHECK.evaluate(context(account(), posts=posts))
    assert len(findings) == expected, case
    for finding in findings:
        assert finding.severity == "high" and "no Welsh version" in finding.detail


def test_since_is_the_end_of_the_window() -> None:
    english = post("Open day", "en", **at(120))
    (finding,) = CHECK.evaluate(context(posts=[english]))
    assert finding.since == english.created_at + timedelta(minutes=30)
    assert finding.subject == f"post:x:{english.native_id}" and finding.url == english.url


def test_matching_prefers_shared_links_media_and_hashtags() -> None:
    a = post("Graduation", "en", links=("https://bangor.ac.uk/graddio",), **at(120))
    b = post("Research news", "en", hashtags=("Ymchwil",), **at(119))
    welsh_for_a = post("Graddio", "cy", links=("https://bangor.ac.uk/graddio",), **at(100))
    welsh_for_b = post("Newyddion ymchwil", "cy", hashtags=("ymchwil",), **at(121))
    matched = match_counterparts([a, b], [welsh_for_a, welsh_for_b], timedelta(minutes=30))
    assert matched[("x", a.native_id)] is welsh_for_a
    assert matched[("x", b.native_id)] is welsh_for_b
    # By time alone b would have taken welsh_for_a's place... which a needs: shared features win.
    findings = CHECK.evaluate(context(posts=[a, b, welsh_for_a, welsh_for_b]))
    assert findings == []


def test_paired_accounts_missing_welsh_is_high_missing_english_is_low() -> None:
    english = post("Open day", "en", account_id="dept-en", **at(120))
    welsh = post("Darlith", "cy", account_id="dept-cy", **at(300))
    (missing_welsh,) = CHECK.evaluate(
        context(EN_ACCOUNT, posts=[english], pair=CY_ACCOUNT, pair_posts=[welsh])
    )
    assert missing_welsh.severity == "high" and "dept-cy" in missing_welsh.detail
    (missing_english,) = CHECK.evaluate(
        context(CY_ACCOUNT, posts=[welsh], pair=EN_ACCOUNT, pair_posts=[english])
    )
    assert missing_english.severity == "low" and "no English version" in missing_english.detail


def test_paired_accounts_cleared_across_the_pair() -> None:
    english = post("Open day", "en", account_id="dept-en", **at(120))
    welsh = post("Diwrnod agored", "cy", account_id="dept-cy", **at(115))
    assert CHECK.evaluate(context(EN_ACCOUNT, posts=[english], pair=CY_ACCOUNT, pair_posts=[welsh])) == []
    assert CHECK.evaluate(context(CY_ACCOUNT, posts=[welsh], pair=EN_ACCOUNT, pair_posts=[english])) == []
    # A Welsh post on the English account itself does not count for a pair.
    own_welsh = post("Diwrnod agored", "cy", account_id="dept-en", **at(115))
    assert CHECK.evaluate(context(EN_ACCOUNT, posts=[english, own_welsh], pair=CY_ACCOUNT, pair_posts=[]))


def test_exempt_accounts_are_skipped_and_listed() -> None:
    exempt = account(language={"mode": "exempt", "reason": "recruits students in China"})
    ctx = context(exempt, posts=[post("Open day", "en", **at(120))])
    assert CHECK.evaluate(ctx) == []
    assert CHECK.exemption(ctx) == "recruits students in China"
    assert CHECK.exemption(context(account())) is None


def test_resolution_reasons() -> None:
    english = post("Open day", "en", **at(120))
    welsh = post("Diwrnod agored", "cy", **at(110))
    assert (
        CHECK.resolution_reason(context(posts=[english, welsh]), f"post:x:{english.native_id}")
        == "counterpart posted"
    )
    old = post("Old", "en", at=ago(days=20))
    assert "look-back" in CHECK.resolution_reason(context(posts=[old]), f"post:x:{old.native_id}")


EN_TEXT = "Applications for the summer school close on Friday: read how to apply and what it costs."
CY_TEXT = "Mae ceisiadau ar gyfer yr ysgol haf yn cau ddydd Gwener: darllenwch sut i wneud cais a'r gost."


@pytest.mark.parametrize(
    ("case", "english", "welsh", "gaps"),
    [
        (
            "same link through its /cy/ variant, same media, similar length",
            {"links": ("https://www.bangor.ac.uk/summer-school",), "media": ("m1",)},
            {"links": ("https://bangor.ac.uk/cy/summer-school/",), "media": ("m2",)},
            [],
        ),
        (
            "?lang=cy variant",
            {"links": ("https://bangor.ac.uk/a?id=3",)},
            {"links": ("https://bangor.ac.uk/a?lang=cy&id=3",)},
            [],
        ),
        (
            "Welsh has no link",
            {"links": ("https://bangor.ac.uk/summer-school",)},
            {},
            ["Welsh version has no link"],
        ),
        (
            "Welsh links elsewhere",
            {"links": ("https://bangor.ac.uk/summer-school",)},
            {"links": ("https://www.eventbrite.co.uk/e/1",)},
            ["Welsh version lacks the link to bangor.ac.uk/summer-school"],
        ),
        (
            "Welsh has fewer media",
            {"media": ("a", "b")},
            {"media": ("c",)},
            ["Welsh version has 1 image/video of the 2 in the original"],
        ),
        ("Diolch", {}, {"text": "Diolch"}, ["Welsh version is 7 % of the English length"]),
    ],
)
def test_a_counterpart_must_be_of_a_similar_standard(
    case: str, english: dict, welsh: dict, gaps: list[str]
) -> None:  # type: ignore[type-arg]
    en = post(english.pop("text", EN_TEXT), "en", **at(120), **english)
    cy = post(welsh.pop("text", CY_TEXT), "cy", **at(115), **welsh)
    findings = CHECK.evaluate(context(posts=[en, cy]))
    if not gaps:
        assert findings == [], case
        return
    assert [f.subject for f in findings] == [f"post:x:{en.native_id}"], case
    assert findings[0].title == "Welsh version not of a similar standard"
    for gap in gaps:
        assert gap in findings[0].detail, (case, findings[0].detail)


def test_counterpart_min_share_is_a_policy_setting() -> None:
    from monitor.config import Policy

    en = post(EN_TEXT, "en", **at(120))
    cy = post("Ysgol haf: cau ddydd Gwener.", "cy", **at(115))
    assert CHECK.evaluate(context(posts=[en, cy])) != []
    assert CHECK.evaluate(context(posts=[en, cy], policy=Policy(counterpart_min_share=0.3))) == []


def test_english_counterpart_on_the_english_pair_is_judged_too() -> None:
    cy = post(CY_TEXT, "cy", account_id="dept-cy", links=("https://bangor.ac.uk/cy/x",), **at(120))
    en = post("Summer school.", "en", account_id="dept-en", **at(118))
    findings = CHECK.evaluate(context(CY_ACCOUNT, posts=[cy], pair=EN_ACCOUNT, pair_posts=[en]))
    assert len(findings) == 1 and findings[0].severity == "low"
    assert "English version has no link" in findings[0].detail
    assert "English version is 15 % of the Welsh length" in findings[0].detail


def test_a_link_to_the_same_site_marked_welsh_stands_for_the_welsh_page() -> None:
    en = post(EN_TEXT, "en", links=("https://www.bangor.ac.uk/open-day",), **at(120))
    cy = post(CY_TEXT, "cy", links=("https://www.bangor.ac.uk/cy/diwrnod-agored",), **at(115))
    assert CHECK.evaluate(context(posts=[en, cy])) == []
    slug_only = post(CY_TEXT, "cy", links=("https://www.bangor.ac.uk/diwrnod-agored",), **at(115))
    (finding,) = CHECK.evaluate(context(posts=[en, slug_only]))
    assert "lacks the link to bangor.ac.uk/open-day" in finding.detail
