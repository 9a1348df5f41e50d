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
    N_("Non-central account replied with information during an emergency"),
    N_("Welsh version not of a similar standard"),
    N_("English version not of a similar standard"),
    N_("Post unlike the account's normal posting: possible hijack"),
    N_("Post carries personal data"),
    N_("Few posts link to the university's web pages"),
    N_("Account access to review"),
    N_("Someone left the account: remove their access and change the password"),
    N_("Socialmon cannot see part of this account"),
    N_("Posts not readable"),
    N_("Comments and replies not readable"),
    N_("Direct messages not readable"),
    N_("Queued posts not readable"),
    N_("Video captions not readable"),
    N_("Profile not readable"),
    N_("Access token expires soon"),
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
    N_(
        "Account security - “Social media accounts are at risk of hacking which can cause significant "
        "reputational damage”; Escalating concerns - “If a social media account has been hacked ... staff "
        "should flag this with the Communications team”"
    ),
    N_(
        "Corporate Social media posts - those posting content on corporate social media accounts must not "
        "“include confidential information about an individual or organisation”"
    ),
    N_(
        "Content principles: Clickable - “where possible there should be a link to related content on our "
        "official web pages”"
    ),
    N_(
        "Account security - “the password must be changed whenever one of those staff members leaves their "
        "role”; Corporate Social Media Accounts - the line manager “must arrange to have their access to any "
        "University Social Media Accounts removed”"
    ),
    N_("(keeps the monitor honest) - what the monitor cannot read is not being checked"),
    N_("(keeps the monitor honest) - an expired token stops the monitor reading the account"),
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
    N_("the message is no longer classed as an enquiry"),
    N_("the comment was hidden"),
    N_("the message is no longer classed as Welsh"),
    N_("the profile now states a purpose and the registered hours"),
    N_("the profile now states a purpose and the registered hours and has Welsh"),
    N_("captions were added"),
    N_("the video is now marked as a live broadcast (exempt)"),
    N_("caption status is now unknown (reported separately)"),
    N_("counterpart posted"),
    N_("too few posts in the last 30 days to judge"),
    N_("the post no longer carries personal data (edited, deleted, or older than the look-back)"),
    N_("the post is gone or older than the look-back"),
    N_("the latest poll could read it"),
    N_("the credential was renewed"),
)

# Resolution reasons with figures in them: (pattern of the English the check writes, the msgid that
# says it in other languages). Times the check wrote in English are left out: the alert's and the
# digest's own "resolved" time says when, in the reader's language.
_REASON_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"a new post appeared \(.*\)"), N_("a new post appeared")),
    (re.compile(r"a reply in Welsh arrived \(.*\)"), N_("a reply in Welsh arrived")),
    (re.compile(r"a reply arrived \(.*\)"), N_("a reply arrived")),
    (re.compile(r"the profile was changed back \(.*\)"), N_("the profile was changed back")),
    (re.compile(r"superseded by a later change \(.*\)"), N_("superseded by a later change")),
    (
        re.compile(r"no further change for (?P<span>.+): accepted as the current profile"),
        N_("no further change for %(span)s: accepted as the current profile"),
    ),
    (
        re.compile(r"older than the (?P<span>.+) look-back: no longer tracked"),
        N_("older than the %(span)s look-back: no longer tracked"),
    ),
    (
        re.compile(r"the post is now classed as (?P<language>\S+)"),
        N_("the post is now classed as %(language)s"),
    ),
    (re.compile(r"access confirmed by (?P<who>.+) \(.*\)"), N_("access confirmed by %(who)s")),
    (
        re.compile(r"(?P<linked>\d+) of (?P<total>\d+) posts now link to the university's web pages"),
        N_("%(linked)s of %(total)s posts now link to the university's web pages"),
    ),
)
_SPAN = re.compile(r"^(?:(?P<days>\d+) days?)? ?(?:(?P<hours>\d+) h)? ?(?:(?P<minutes>\d+) min)?$")


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
    "post-anomaly": N_(
        "A post is unlike the account's normal posting (a burst of posts, an unusual hour, scam wording or "
        "a link to a site the account has never linked). If nobody at the university posted it, the "
        "account may be hijacked: change the password, remove unknown sessions and apps, and tell the "
        "Communications team."
    ),
    "personal-data": N_(
        "A post or reply carries personal data (a personal e-mail address, a phone number that is not the "
        "university's, or a match of a personal-data pattern). Remove it or edit it out; if it was "
        "published by mistake, tell the person concerned."
    ),
    "clickable": N_(
        "Too few of the account's posts in the last 30 days link to the university's web pages. Where "
        "there is related content on the website, link to it."
    ),
    "access-review": N_(
        "The account's access is due for review. Check who has the password and that it is stored "
        "securely, then record the review with: socialmon accounts confirm-access."
    ),
    "coverage": N_(
        "socialmon cannot read part of this account (a permission is missing or the platform refuses it), "
        "so the checks that need it cannot see it. Grant what is missing, then check with: socialmon "
        "accounts verify."
    ),
    "credential-expiry": N_(
        "The account's access token expires soon; after that socialmon cannot read this account. Issue a "
        "new token (a system-user token does not expire), update the configuration and check with: "
        "socialmon accounts verify."
    ),
}

# Findings whose title asks something other than their check's usual advice.
TITLE_ADVICE: dict[str, str] = {
    "Welsh version not of a similar standard": N_(
        "The Welsh version of a post is not of a similar standard to the English (much shorter, or "
        "missing its links or hashtags). Give the Welsh version the same content."
    ),
    "English version not of a similar standard": N_(
        "The English version of a post is not of a similar standard to the Welsh (much shorter, or "
        "missing its links or hashtags). Give the English version the same content."
    ),
    "Someone left the account: remove their access and change the password": N_(
        "Someone with access to the account has left their role. Remove their access to the account and "
        "change its password, then record it with: socialmon accounts confirm-access."
    ),
    "Non-central account replied with information during an emergency": N_(
        "A non-central account replied with information during an emergency. Only the central accounts "
        "may give information: point the person to the central account instead."
    ),
}

_QUOTED = re.compile(r"“[^”]*”")


def quoted(detail: str) -> list[str]:
    """The quotes of posts, messages and profiles in a finding's detail (“...”)."""
    return _QUOTED.findall(detail or "")


def translate_detail(check: str, detail: str, t: Translator, title: str = "") -> str:
    """A finding's detail in `t`'s language: English as the check wrote it; otherwise the check's advice
    (or its title's, for a finding of another kind) followed by what the detail quotes."""
    if t.locale == "en" or not detail:
        return detail
    advice = TITLE_ADVICE.get(title) or CHECK_ADVICE.get(check)
    if advice is None:  # a check without advice: its own words are better than nothing
        return t.known(detail)
    return " ".join([t.known(advice), *quoted(detail)])


def translate_reason(reason: str, t: Translator) -> str:
    """A resolution reason in `t`'s language: a fixed one from the catalogue, one with figures through
    `_REASON_PATTERNS`; else as the check wrote it."""
    if t.locale == "en" or not reason:
        return reason
    known = t.known(reason)
    if known != reason:
        return known
    for pattern, message in _REASON_PATTERNS:
        match = pattern.fullmatch(reason)
        if match:
            params = match.groupdict()
            if "span" in params:
                params["span"] = _span(params["span"], t)
            return t.gettext(message, **params)
    return reason


def _span(text: str, t: Translator) -> str:
    """`span()`'s "7 days", "2 h 30 min" in `t`'s language."""
    match = _SPAN.fullmatch(text.strip())
    if not match or not any(match.groupdict().values()):
        return text
    parts = []
    if match["days"]:
        parts.append(t.ngettext("%(num)s day", "%(num)s days", int(match["days"])))
    if match["hours"]:
        parts.append(t.gettext("%(hours)s h", hours=match["hours"]))
    if match["minutes"]:
        parts.append(t.gettext("%(minutes)s min", minutes=match["minutes"]))
    return " ".join(parts)
