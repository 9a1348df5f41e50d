"""Fixed texts that checks and the core store in English and people read in their own language.

A finding row keeps its check's English title, policy quote and resolution reason (the database and
`--json` outputs stay English); what is shown to people looks them up in the catalogue with
`Translator.known`. They are listed here, marked with `N_`, so that extraction finds them: a test
checks that every registered check's title and policy quote is here and translated.
The Social Media Policy is published in English only; the Welsh quotes are our translation and say so
(docs/WELSH.md).
"""

from __future__ import annotations

import re

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


# What a check's finding asks of people, per check: in a language other than English, a finding's
# detail is this advice plus the posts the detail quotes (the English detail is generated text with
# the check's own figures; the times it gives are in the alert's facts).
CHECK_ADVICE: dict[str, str] = {
    "cadence": N_(
        "The account has not posted new content within the interval the policy expects. Post new content "
        "or review whether the account is still needed."
    ),
    "welsh-unanswered": N_("A Welsh enquiry has not been answered within the reply time. Reply in Welsh."),
    "welsh-reply-language": N_("A Welsh message was answered without Welsh. Send a reply in Welsh."),
    "welsh-counterpart": N_(
        "A post has no version in the other language within the time the policy allows. Publish the "
        "version in the other language alongside it."
    ),
    "profile-hours": N_(
        "The profile does not state the registered monitoring hours as the policy asks. Edit the profile so "
        "it states them, in Welsh and English where the account is bilingual."
    ),
    "emergency-posting": N_(
        "A non-central account posted, or has a post queued, during an emergency. Only the central accounts "
        "may post: remove or unschedule it, or replace it with a short post pointing followers to the "
        "central account."
    ),
    "video-captions": N_(
        "A video has no captions, or its caption status is unknown. Add subtitles, or check the caption "
        "status by hand."
    ),
    "response-time": N_("An enquiry has not been answered within the reply time. Reply to it."),
    "profile-changed": N_(
        "The profile changed. If the account manager did not make this change, treat the account as "
        "compromised: change the password and sign out other sessions."
    ),
    "registry": N_(
        "The account's entry in the registry is incomplete. Update the account's entry in the configuration."
    ),
    "connector-health": N_(
        "socialmon cannot read this account, so no other check can see it. Check the account's access "
        "token and the platform's status."
    ),
}

_QUOTED = re.compile(r"“[^”]*”")


def quoted(detail: str) -> list[str]:
    """The quotes of posts, messages and profiles in a finding's detail (“...”)."""
    return _QUOTED.findall(detail or "")


def translate_detail(check: str, detail: str, t: Translator) -> str:
    """A finding's detail in `t`'s language: English as the check wrote it; otherwise the check's advice
    followed by what the detail quotes."""
    if t.locale == "en" or not detail:
        return detail
    advice = CHECK_ADVICE.get(check)
    if advice is None:  # a check without advice: its own words are better than nothing
        return t.known(detail)
    return " ".join([t.known(advice), *quoted(detail)])
