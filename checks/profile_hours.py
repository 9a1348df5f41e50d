"""profile-hours: the profile states the account's purpose and the hours it is monitored.

A finding when the latest profile text states no monitoring hours, states hours that differ
from the registry (`monitoring_hours`), states no purpose, or (bilingual accounts, and the
Welsh account of a pair) has no Welsh in it (the language the poll tagged the profile with).
Purpose is checked only as far as a machine can: a profile that is nothing but hours, links,
@handles, #hashtags, addresses and numbers (fewer than `PURPOSE_MIN_WORDS` other words) states
no purpose; whether the words it has describe the account's purpose well is for a person to
judge. The hours written in the profile are read by `monitor.hours.parse_stated_hours`, in
English or Welsh; all statements found must agree with the registry: an English and a Welsh
statement that disagree are reported.
"""

from __future__ import annotations

import re

from checks.base import Check, CheckContext, excerpt
from monitor.hours import HOURS_TOKENS, compare, parse_stated_hours
from monitor.models import Finding, ProfileSnapshot

SUBJECT = "profile"


class ProfileHoursCheck(Check):
    id = "profile-hours"
    title = "Profile does not state the monitoring hours"
    policy_section = (
        "Corporate Social Media Account Management: Brand - “The account profile should clearly state the "
        "purpose of the account and the hours during which it is monitored”"
    )
    severity = "warning"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        if not ctx.profiles:
            return []
        profile = ctx.profiles[0]
        problems = profile_problems(ctx, profile)
        if not problems:
            return []
        detail = (
            f"The profile {excerpt(profile.text, 70)}: {'; '.join(problems)}. "
            "Edit the profile so it states the account's purpose and the registered monitoring hours"
            + (" in Welsh and English." if needs_welsh(ctx) else ".")
        )
        return [self.finding(ctx, SUBJECT, profile.taken_at, detail, url=profile.url)]

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        if not ctx.profiles:
            return "no profile is stored"
        return "the profile now states a purpose and the registered hours" + (
            " and has Welsh" if needs_welsh(ctx) else ""
        )


def needs_welsh(ctx: CheckContext) -> bool:
    return ctx.account.language.mode == "bilingual" or ctx.account.own_language == "cy"


PURPOSE_MIN_WORDS = 2
_NOT_PURPOSE = re.compile(
    r"(?:https?://|www\.)\S+|\S+@\S+|(?<![\w@#])[@#]\w+|\d\S*"
    r"|\b(?:monitored|monitor|hours|oriau|open|agor|staffed|ar gael|available|reply|replies|ateb|and|a|ac"
    r"|we|are|on|the|y|yr|ar|am|from|rhwng|o|i|to|tan|hyd|ein|our)\b",
    re.IGNORECASE,
)


def states_purpose(text: str) -> bool:
    """Some words are left once the hours, links, handles, addresses and numbers are taken out."""
    rest = _NOT_PURPOSE.sub(" ", HOURS_TOKENS.sub(" ", text or ""))
    return len(re.findall(r"[^\W\d_]{2,}", rest)) >= PURPOSE_MIN_WORDS


def profile_problems(ctx: CheckContext, profile: ProfileSnapshot) -> list[str]:
    problems = []
    if not states_purpose(profile.text):
        problems.append("it states no purpose (only hours, links or handles)")
    stated = parse_stated_hours(profile.text)
    if not stated.found:
        problems.append("it states no monitoring hours")
    elif ctx.account.hours is not None:
        difference = compare(stated, ctx.account.hours)
        if difference:
            problems.append(difference)
    if needs_welsh(ctx) and not profile.has_welsh:
        problems.append("it has no Welsh")
    return problems
