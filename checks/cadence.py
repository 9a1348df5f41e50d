"""cadence: the newest original post is older than the platform's cadence.

Defaults: 48 h on Facebook and X, 7 days elsewhere (policy.cadence; an account may override).

Calendar time, not working time: the policy asks for content "at least every other day". An
account that has been polled but has never posted is overdue from the first run that sees it.
An account never polled successfully is not judged here (connector-health speaks for it).
"""

from __future__ import annotations

from checks.base import Check, CheckContext, excerpt, span, when
from monitor.models import Finding

SUBJECT = "posting"
ORIGINAL_KINDS = ("original", "quote")


class CadenceCheck(Check):
    id = "cadence"
    title = "No new post within the expected interval"
    policy_section = (
        "Content principles: Frequent - “content should be updated/uploaded at least every other day "
        "on Facebook and Twitter and at least weekly on other sites”"
    )
    severity = "warning"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        latest = ctx.latest_original
        if latest is None:
            if ctx.poll is None or ctx.poll.last_ok_at is None:
                return []
            detail = (
                f"No original post has been seen on this account; the policy expects one at least every "
                f"{span(ctx.cadence)}. Post new content or review whether the account is still needed."
            )
            return [self.finding(ctx, SUBJECT, ctx.now, detail)]
        due = latest.created_at + ctx.cadence
        if ctx.now < due:
            return []
        detail = (
            f"The newest original post was on {when(latest.created_at, ctx)} ({excerpt(latest.text, 60)}); "
            f"the policy expects one at least every {span(ctx.cadence)}. Post new content."
        )
        return [self.finding(ctx, SUBJECT, due, detail, url=latest.url)]

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        if ctx.latest_original is not None:
            return f"a new post appeared ({when(ctx.latest_original.created_at, ctx)})"
        return "condition no longer holds"
