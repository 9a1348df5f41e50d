"""coverage: a feature of the account that socialmon could not read at its latest poll.

Direct messages, the scheduled queue, captions: what the token does not let the connector read is
not checked by any other check, so the operations team is told what to grant, per feature.
"""

from __future__ import annotations

from checks.base import Check, CheckContext
from monitor.coverage import FEATURE_LABELS
from monitor.models import Finding

PREFIX = "coverage:"


class CoverageCheck(Check):
    id = "coverage"
    title = "Socialmon cannot see part of this account"
    policy_section = "(keeps the monitor honest) - what the monitor cannot read is not being checked"
    severity = "warning"
    immediate = True
    route = "operations"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        findings = []
        for gap in ctx.coverage_gaps:
            label = FEATURE_LABELS.get(gap.feature, gap.feature)
            detail = f"Socialmon cannot read the {label} of this account: {gap.reason}. To fix: {gap.fix}."
            findings.append(
                self.finding(
                    ctx,
                    f"{PREFIX}{gap.feature}",
                    gap.since,
                    detail,
                    title=f"{label.capitalize()} not readable",
                )
            )
        return findings

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        return "the latest poll could read it"
