"""profile-hours: the profile states the account's purpose and the hours it is monitored.

A finding when the latest profile text states no monitoring hours, states hours that differ
from the registry (`monitoring_hours`), or (bilingual accounts, and the Welsh account of a
pair) has no Welsh in it (the language the poll tagged the profile with). The hours written in
the profile are read by `monitor.hours.parse_stated_hours`, in English or Welsh; all statements
found must agree with the registry: an English and a Welsh statement that disagree are reported.
"""

from __future__ import annotations

from checks.base import Check, CheckContext, excerpt
from monitor.hours import compare, parse_stated_hours
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
            "Edit the profile so it states the registered monitoring hours"
            + (" in Welsh and English." if needs_welsh(ctx) else ".")
        )
        return [self.finding(ctx, SUBJECT, profile.taken_at, detail, url=profile.url)]

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        if not ctx.profiles:
            return "no profile is stored"
        return "the profile now states the registered hours" + (" and has Welsh" if needs_welsh(ctx) else "")


def needs_welsh(ctx: CheckContext) -> bool:
    return ctx.account.language.mode == "bilingual" or ctx.account.own_language == "cy"


def profile_problems(ctx: CheckContext, profile: ProfileSnapshot) -> list[str]:
    problems = []
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
