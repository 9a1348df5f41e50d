"""emergency-posting: while an emergency is declared, only the central accounts post.

Every post (original, reply, share or quote) by a non-central account created at or after the
emergency's start is a critical finding, alerted at once, unless it is a permitted redirect. The
account's comments and replies count the same (a Page's comment on its own or anyone's post, an
Instagram comment reply, an X reply): subject "reply:<platform>:<id>" (an X reply that is also
stored as a post is reported once, as the post).

The redirect rule. The policy recommends "a post ... directing followers to the corporate
account". A post is a permitted redirect when all of these hold:
1. it points to a central account: it @mentions a central account's handle, or links to a
   central account's profile (x.com/<handle>, twitter.com/<handle>, facebook.com/<handle>,
   instagram.com/<handle>, youtube.com/@<handle>);
2. it carries no other link: every link in it goes to a central account's profile;
3. it is short: once links, @mentions and #hashtags are removed, at most
   `policy.redirect_max_chars` characters and at most `REDIRECT_MAX_WORDS` words, so there is
   little room for an update of its own;
4. it has no video.
A rule on length cannot tell a one-line update from a redirect ("Library closed; follow
@BangorUni"): such a post passes, which errs on the side of the redirect the policy asks for.
The language does not matter: "Follow @BangorUni for updates" and "Dilynwch @PrifysgolBangor
am y wybodaeth ddiweddaraf" are both redirects.

Posts queued on a non-central account (platform scheduled posts still pending) are findings
of their own (subject "scheduled:<platform>:<id>", high): they would go out during the incident.
Every finding of this check resolves when the emergency ends; a queued post's finding also
resolves when it leaves the queue (published: then it is a post; or deleted).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from checks.base import Check, CheckContext, excerpt, post_subject, scheduled_subject, when
from monitor.config import Account
from monitor.models import Finding, Post, Reply

REDIRECT_MAX_WORDS = 20

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"')]+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@(\w{1,50})")
_HASHTAG = re.compile(r"(?<![\w#])#\w+")
_PROFILE_HOSTS = {
    "x.com", "twitter.com", "mobile.twitter.com", "facebook.com", "m.facebook.com", "fb.com",
    "instagram.com", "youtube.com", "m.youtube.com",
}  # fmt: skip


def central_handles(accounts: Iterable[Account]) -> set[str]:
    handles = set()
    for account in accounts:
        for value in (account.handle, account.native_id):
            if value:
                handles.add(value.lstrip("@").lower())
    return handles


def _links(post: Post | Reply) -> list[str]:
    # Connectors give expanded links; the text may hold short links (t.co) for the same ones.
    links = post.links if isinstance(post, Post) else ()
    return list(links) if links else _URL.findall(post.text or "")


def links_to_central(url: str, handles: set[str]) -> bool:
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    if host not in _PROFILE_HOSTS:
        return False
    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        return False
    first = segments[0].lstrip("@").lower()
    if first in ("channel", "c", "user") and len(segments) > 1:
        first = segments[1].lower()
    return first in handles


def is_permitted_redirect(post: Post | Reply, central: Iterable[Account], max_chars: int) -> bool:
    """The redirect rule of the module docstring (a comment or reply is judged the same way)."""
    handles = central_handles(central)
    if (isinstance(post, Post) and post.has_video) or not handles:
        return False
    links = _links(post)
    if any(not links_to_central(link, handles) for link in links):
        return False
    mentions = {m.lower() for m in _MENTION.findall(post.text or "")}
    if not (mentions & handles or links):
        return False
    own_words = _HASHTAG.sub(" ", _MENTION.sub(" ", _URL.sub(" ", post.text or "")))
    own_words = " ".join(own_words.split())
    return len(own_words) <= max_chars and len(own_words.split()) <= REDIRECT_MAX_WORDS


class EmergencyPostingCheck(Check):
    id = "emergency-posting"
    title = "Non-central account posted during an emergency"
    policy_section = (
        "Social media in an emergency - “it is vital that no other corporate social media accounts are used "
        "to post information or updates during a live incident”"
    )
    severity = "critical"
    immediate = True
    route = "emergency"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        emergency = ctx.emergency
        if emergency is None or ctx.account.is_central:
            return []
        findings = []
        limit = ctx.policy.redirect_max_chars
        # Platforms give post times in whole seconds: a post in the declaration's own second counts.
        start = emergency.started_at.replace(microsecond=0)
        for post in ctx.posts:
            if post.created_at < start:
                continue
            if is_permitted_redirect(post, ctx.central_accounts, limit):
                continue
            detail = (
                f"Posted {when(post.created_at, ctx)}, during the emergency declared "
                f"{when(emergency.started_at, ctx)}: {excerpt(post.text)}. Only the central accounts may "
                "post; remove it or replace it with a short post pointing followers to the central account."
            )
            findings.append(self.finding(ctx, post_subject(post), post.created_at, detail, url=post.url))
        findings.extend(self._replies(ctx, start, {p.native_id for p in ctx.posts}))
        for item in ctx.scheduled:
            at = f"for {when(item.scheduled_for, ctx)}" if item.scheduled_for else "with no time given"
            detail = (
                f"A post is queued {at} {excerpt(item.text)}; it would go out during the emergency. "
                "Unschedule it until the emergency is over."
            )
            findings.append(
                self.finding(
                    ctx,
                    scheduled_subject(item),
                    emergency.started_at,
                    detail,
                    url=item.url,
                    severity="high",
                    title="Scheduled post queued on a non-central account during an emergency",
                )
            )
        return findings

    def _replies(self, ctx: CheckContext, start: datetime, posted: set[str]) -> list[Finding]:
        """The account's comments and replies during the emergency, judged like posts."""
        emergency = ctx.emergency
        assert emergency is not None
        findings = []
        for reply in ctx.replies:
            if reply.created_at < start or reply.native_id in posted:
                continue
            if is_permitted_redirect(reply, ctx.central_accounts, ctx.policy.redirect_max_chars):
                continue
            detail = (
                f"Replied {when(reply.created_at, ctx)}, during the emergency declared "
                f"{when(emergency.started_at, ctx)}: {excerpt(reply.text)}. Only the central accounts may "
                "give information, in comments and replies too; delete it or reply only pointing to the "
                "central account."
            )
            findings.append(
                self.finding(
                    ctx,
                    f"reply:{reply.platform}:{reply.native_id}",
                    reply.created_at,
                    detail,
                    title="Non-central account replied with information during an emergency",
                )
            )
        return findings

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        if ctx.emergency is None:
            return "the emergency ended"
        if subject.startswith("scheduled:"):
            return "no longer queued (published or unscheduled)"
        if ctx.account.is_central:
            return "the account is now central"
        return "condition no longer holds"
