"""welsh-unanswered: a Welsh enquiry with no reply from the account within the reply SLA.

Welsh means the message was detected as `cy` or `cy+en`. An enquiry is every DM and any
comment, reply or mention that asks something (Message.is_enquiry). The SLA counts only the
account's monitoring hours (bank holidays and closures excluded); `since` is when it ran out.
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


class WelshUnansweredCheck(Check):
    id = "welsh-unanswered"
    title = "Welsh enquiry not answered in time"
    policy_section = (
        "Language Policy - “When replying to messages and enquiries written in Welsh ... the reply will be "
        "in Welsh”; Content principles - “Questions should be responded to promptly within operating hours”"
    )
    severity = "high"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        return [
            self.finding(
                ctx,
                message_subject(item.message),
                item.due,
                sla_detail(ctx, item, "A Welsh enquiry"),
                url=item.message.url,
            )
            for item in unanswered_enquiries(ctx, welsh_only=True)
        ]

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        return enquiry_resolution(ctx, subject)
