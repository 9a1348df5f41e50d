"""Fixed texts that checks and the core store in English and people read in their own language.

A finding row keeps its check's English title, policy quote and resolution reason (the database and
`--json` outputs stay English); what is shown to people looks them up in the catalogue with
`Translator.known`. They are listed here, marked with `N_`, so that extraction finds them: a test
checks that every registered check's title and policy quote is here and translated.
The Social Media Policy is published in English only; the Welsh quotes are our translation and say so
(docs/WELSH.md).
"""

from __future__ import annotations

from monitor.i18n import N_, Translator

# Severity labels as banners and lists show them.
SEVERITIES: dict[str, str] = {
    "critical": N_("CRITICAL"),
    "high": N_("HIGH"),
    "warning": N_("WARNING"),
    "low": N_("LOW"),
    "info": N_("INFO"),
}

CHECK_TITLES: tuple[str, ...] = (
    N_("No new post within the expected interval"),
    N_("Welsh enquiry not answered in time"),
    N_("Reply to a Welsh message has no Welsh"),
    N_("Post without a version in the other language"),
    N_("Profile does not state the monitoring hours"),
    N_("Non-central account posted during an emergency"),
    N_("Scheduled post queued on a non-central account during an emergency"),
    N_("Video without captions"),
    N_("Video caption status unknown"),
    N_("Enquiry not answered in time"),
    N_("Profile changed: possible hijack"),
    N_("Account registry entry incomplete"),
    N_("Account cannot be polled"),
)

POLICY_QUOTES: tuple[str, ...] = (
    N_(
        "Content principles: Frequent - “content should be updated/uploaded at least every other day "
        "on Facebook and Twitter and at least weekly on other sites”"
    ),
    N_(
        "Language Policy - “When replying to messages and enquiries written in Welsh ... the reply will be "
        "in Welsh”; Content principles - “Questions should be responded to promptly within operating hours”"
    ),
    N_(
        "Language Policy - “When replying to messages and enquiries written in Welsh, either public or "
        "private, the reply will be in Welsh”"
    ),
    N_(
        "Language Policy - “messages must be posted in both languages simultaneously and to a similar "
        "standard in both content and style”"
    ),
    N_(
        "Corporate Social Media Account Management: Brand - “The account profile should clearly state the "
        "purpose of the account and the hours during which it is monitored”"
    ),
    N_(
        "Social media in an emergency - “it is vital that no other corporate social media accounts are used "
        "to post information or updates during a live incident”"
    ),
    N_(
        "Accessibility - “All film content which is externally produced or produced in advance for use in a "
        "social media campaign must have subtitles”"
    ),
    N_("Content principles - “Questions should be responded to promptly within operating hours”"),
    N_(
        "Account security - “Social media accounts are at risk of hacking which can cause significant "
        "reputational damage”"
    ),
    N_(
        "Corporate Social Media Accounts - “the login names must be known to at least two people”; "
        "“there must be an agreed overall account manager”"
    ),
    N_("(keeps the monitor honest) - an account the monitor cannot read is not being checked"),
)

RESOLUTION_REASONS: tuple[str, ...] = (
    N_("condition no longer holds"),
    N_("polling works again"),
    N_("the emergency ended"),
    N_("no longer queued (published or unscheduled)"),
    N_("the account is now central"),
    N_("no profile is stored"),
    N_("the profile now states the registered hours"),
    N_("the profile now states the registered hours and has Welsh"),
    N_("the registry entry is now complete"),
    N_("every video's caption status is now known"),
    N_("the video is no longer stored"),
    N_("the account is now exempt"),
    N_("the message is no longer stored (deleted, or older than the look-back)"),
)


def translate_detail(detail: str, t: Translator) -> str:
    """A finding's detail in `t`'s language where it is a fixed text; generated details (they quote
    the post and carry the check's own figures) stay as the check wrote them."""
    return t.known(detail)
