"""clickable: most of an account's posts link to the university's official web pages.

The policy's content principle "Clickable - where possible there should be a link to related
content on our official web pages". Over the account's original posts (and quotes) of the last
30 days, the share that carry a link to one of `policy.official_domains` (subdomains included);
below `policy.clickable_min_share` (default 0.5) it is an info finding, for the digest only. Not
judged: no official domains configured, or fewer than `MIN_POSTS` posts in the 30 days (a share of
two posts says little). The digest's account table shows the share (`clickable_share`).
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from checks.base import Check, CheckContext, PostingHistory
from monitor.models import Finding

SUBJECT = "clickable"
WINDOW = timedelta(days=30)
MIN_POSTS = 4


def on_official_domain(url: str, domains: list[str]) -> bool:
    host = (urlsplit(url if "://" in url else "https://" + url).hostname or "").lower().removeprefix("www.")
    return any(host == d or host.endswith("." + d) for d in domains)


def clickable_share(history: PostingHistory | None, domains: list[str]) -> tuple[int, int]:
    """(posts linking to an official page, posts) over the last 30 days of original posts."""
    if history is None or not domains:
        return 0, 0
    posts = [links for _, links in history.recent_originals]
    linked = sum(1 for links in posts if any(on_official_domain(link, domains) for link in links))
    return linked, len(posts)


class ClickableCheck(Check):
    id = "clickable"
    title = "Few posts link to the university's web pages"
    policy_section = (
        "Content principles: Clickable - “where possible there should be a link to related content on our "
        "official web pages”"
    )
    severity = "info"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        domains = ctx.policy.official_domains
        linked, total = clickable_share(ctx.history, domains)
        if total < MIN_POSTS:
            return []
        share = linked / total
        minimum = ctx.policy.clickable_min_share
        if share >= minimum:
            return []
        detail = (
            f"{linked} of the {total} posts of the last 30 days ({round(100 * share)} %) link to the "
            f"university's web pages ({', '.join(domains)}); the policy setting asks for at least "
            f"{round(100 * minimum)} %. Where there is related content on the website, link to it."
        )
        return [self.finding(ctx, SUBJECT, ctx.now, detail)]

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        linked, total = clickable_share(ctx.history, ctx.policy.official_domains)
        if total < MIN_POSTS:
            return "too few posts in the last 30 days to judge"
        return f"{linked} of {total} posts now link to the university's web pages"
