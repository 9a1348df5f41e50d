from __future__ import annotations

from datetime import time

import pytest
from check_factories import account, context, profile

from checks.profile_hours import ProfileHoursCheck
from monitor.hours import describe, parse_stated_hours

CHECK = ProfileHoursCheck()


@pytest.mark.parametrize(
    ("text", "described"),
    [
        ("Monitored Mon-Fri 9am-5pm", "Mon-Fri 09:00-17:00"),
        ("Monitro Llun-Gwener 9yb-5yh", "Mon-Fri 09:00-17:00"),
        ("Rydym yn monitro o ddydd Llun i ddydd Gwener, 9:00-17:00", "Mon-Fri 09:00-17:00"),
        ("Monitored Monday to Friday 9am to 5pm", "Mon-Fri 09:00-17:00"),
        ("Mon–Fri 9.30am to 4:30pm, Sat 10am-12pm", "Mon-Fri 09:30-16:30; Sat 10:00-12:00"),
        ("Monitored 9am-5pm Mon-Fri", "Mon-Fri 09:00-17:00"),
        ("weekdays 9-5", "Mon-Fri 09:00-17:00"),
        ("yn ystod yr wythnos 9yb-5yh", "Mon-Fri 09:00-17:00"),
        ("Ar agor 9yb tan 5yh dydd Llun i ddydd Gwener", "Mon-Fri 09:00-17:00"),
        ("Open 8:30am - 6pm weekdays, 10am-4pm weekends", "Mon-Fri 08:30-18:00; Sat,Sun 10:00-16:00"),
        ("We reply Mon-Thu 9-5, Fri 9-4.30", "Mon-Thu 09:00-17:00; Fri 09:00-16:30"),
        ("Monitored 9:00-17:00", "09:00-17:00 (no days)"),
        ("Monitored weekdays", "Mon-Fri (no days)".replace("(no days)", "(no times)")),
        ("Here 24/7", "24/7"),
        ("Gwasanaeth 24 awr", "24/7"),
        ("Open 9-5pm Mon-Fri", "Mon-Fri 09:00-17:00"),
        ("Mon-Fri 12 noon - 8pm", "Mon-Fri 12:00-20:00"),
    ],
)
def test_parser_reads_english_and_welsh(text: str, described: str) -> None:
    stated = parse_stated_hours(text)
    assert stated.found and describe(stated) == described


@pytest.mark.parametrize(
    "text",
    [
        "Welcome to Bangor University!",
        "Final score 3-2 to Bangor",
        "Sun, sea and science",
        "Llun: our campus",
    ],
)
def test_parser_finds_nothing_where_there_are_no_hours(text: str) -> None:
    assert not parse_stated_hours(text).found


def test_midnight_end() -> None:
    stated = parse_stated_hours("Mon-Fri 18:00-24:00")
    assert stated.windows == {(d, time(18), time(23, 59, 59, 999999)) for d in range(5)}


BILINGUAL_OK = (
    "Official account of the School of Ocean Sciences. Monitored Mon-Fri 9am-5pm.\n"
    "Cyfrif swyddogol Ysgol Gwyddorau Eigion. Monitro Llun-Gwener 9yb-5yh."
)


@pytest.mark.parametrize(
    ("case", "acct", "text", "problem"),
    [
        ("bilingual profile with matching hours", account(), BILINGUAL_OK, None),
        (
            "no hours at all",
            account(),
            "Official account of the School. Cyfrif swyddogol yr Ysgol.",
            "no monitoring hours",
        ),
        (
            "hours differ from the registry",
            account(monitoring_hours="Mon-Fri 08:00-16:00"),
            BILINGUAL_OK,
            "registry says Mon-Fri 08:00-16:00",
        ),
        (
            "bilingual account, English only",
            account(),
            "Official account. Monitored Mon-Fri 9am-5pm.",
            "no Welsh",
        ),
        (
            "English account of a pair may be English only",
            account(language={"mode": "paired", "pair": "p", "lang": "en"}),
            "Official account. Monitored Mon-Fri 9am-5pm.",
            None,
        ),
        (
            "Welsh account of a pair must be Welsh",
            account(language={"mode": "paired", "pair": "p", "lang": "en"}.copy() | {"lang": "cy"}),
            "Official account. Monitored Mon-Fri 9am-5pm.",
            "no Welsh",
        ),
        (
            "English and Welsh statements disagree",
            account(),
            "Monitored Mon-Fri 9am-5pm. Cyfrif swyddogol yr adran, monitro Llun-Gwener 9yb-4yh.",
            "registry says",
        ),
        (
            "24/7 registry, 24/7 profile",
            account(monitoring_hours="24/7", language={"mode": "exempt", "reason": "intl"}),
            "Campus security: we are here 24/7",
            None,
        ),
        (
            "no registry hours: only presence is judged",
            account(monitoring_hours=None, language={"mode": "exempt", "reason": "intl"}),
            "Library news. Monitored Mon-Sat 8am-8pm",
            None,
        ),
    ],
)
def test_profile_hours_table(case: str, acct, text: str, problem: str | None) -> None:  # type: ignore[no-untyped-def]
    findings = CHECK.evaluate(context(acct, profiles=[profile(text)]))
    if problem is None:
        assert findings == [], case
    else:
        (finding,) = findings
        assert problem in finding.detail, (case, finding.detail)
        assert finding.subject == "profile" and finding.severity == "warning"


def test_no_profile_stored_is_no_finding() -> None:
    assert CHECK.evaluate(context(account(), profiles=[])) == []


@pytest.mark.parametrize(
    ("text", "states"),
    [
        ("Mon-Fri 9am-5pm https://bangor.ac.uk @BangorUni #Bangor", False),
        ("Monitored Mon-Fri 9am-5pm. Llun-Gwener 9yb-5yh.", False),
        ("Library news and help for students. Mon-Fri 9am-5pm", True),
        ("Newyddion yr Ysgol Gerdd. Llun-Gwener 9yb-5yh", True),
    ],
)
def test_a_profile_of_only_hours_links_and_handles_states_no_purpose(text: str, states: bool) -> None:
    from checks.profile_hours import states_purpose

    assert states_purpose(text) is states
    findings = CHECK.evaluate(
        context(account(language={"mode": "exempt", "reason": "intl"}), profiles=[profile(text)])
    )
    assert any("states no purpose" in f.detail for f in findings) is not states
