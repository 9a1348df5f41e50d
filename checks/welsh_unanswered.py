"""welsh-unanswered: a Welsh enquiry with no reply from the account within the reply SLA.

Welsh means the message was detected as `cy` or `cy+en`. An enquiry is every DM and any
comment, reply or mention that asks something (Message.is_enquiry). The SLA counts only the
account's monitoring hours (bank holidays and closures excluded); `since` is when it ran out.
"""

from __future__ import annotations

from checks import base  # the module, not the class: each check module holds one Check class


class WelshUnansweredCheck(base.UnansweredEnquiryCheck):
    id = "welsh-unanswered"
    title = "Welsh enquiry not answered in time"
    policy_section = (
        "Language Policy - “When replying to messages and enquiries written in Welsh ... the reply will be "
        "in Welsh”; Content principles - “Questions should be responded to promptly within operating hours”"
    )
    severity = "high"
    welsh_only = True
    enquiry_noun = "A Welsh enquiry"
