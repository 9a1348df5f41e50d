"""response-time: any enquiry, in any language, unanswered past the reply SLA in monitoring hours.

Welsh enquiries are reported here too (at warning) as well as by welsh-unanswered (at high): the
two rules enforce different sentences of the policy, and the digest counts both.
"""

from __future__ import annotations

from checks.base import (
    Check,
    CheckContext,
    enquiry_resolution,
    message_subject,
    sla_detail,
    unanswered_enquiries,
)
from monitor.models import Finding


class ResponseTimeCheck(Check):
    id = "response-time"
    title = "Enquiry not answered in time"
    policy_section = "Content principles - “Questions should be responded to promptly within operating hours”"
    severity = "warning"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        return [
            self.finding(
                ctx,
                message_subject(item.message),
                item.due,
                sla_detail(ctx, item, "An enquiry"),
                url=item.message.url,
            )
            for item in unanswered_enquiries(ctx, welsh_only=False)
        ]

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        return enquiry_resolution(ctx, subject)
