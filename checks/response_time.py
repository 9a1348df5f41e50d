"""response-time: any enquiry, in any language, unanswered past the reply SLA in monitoring hours.

Welsh enquiries are reported here too (at warning) as well as by welsh-unanswered (at high): the
two rules enforce different sentences of the policy, and the digest counts both.
"""

from __future__ import annotations

from checks import base  # the module, not the class: each check module holds one Check class


class ResponseTimeCheck(base.UnansweredEnquiryCheck):
    id = "response-time"
    title = "Enquiry not answered in time"
    policy_section = "Content principles - “Questions should be responded to promptly within operating hours”"
    severity = "warning"
    welsh_only = False
    enquiry_noun = "An enquiry"
