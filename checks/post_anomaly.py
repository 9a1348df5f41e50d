"""post-anomaly: a post that breaks the account's normal behaviour clearly (a possible hijack).

A hijacker who leaves the profile alone (profile-changed would see that) is seen in the posts.
The account's normal behaviour is learnt from its stored original posts of the year before the
look-back (`PostingHistory`, loaded by `monitor.history`); each original post or quote of the
look-back is judged against it. A post is anomalous when one of these holds:

- burst: it starts a run of at least `BURST_POSTS` (5) posts within `BURST_WINDOW` (10 min), and
  that is more than twice the most the account ever posted in one 10-minute slot of the clock;
- new domain: it links to a domain the account has never linked, that is not one of the
  university's (`policy.official_domains`, subdomains included) nor a social platform's own, and
  that domain looks like a trap (it imitates a university domain, e.g. `bangor-ac-uk.help` or
  `bangor.ac.uk.example.com`; a link shortener; a bare IP address; punycode; or login, verify,
  prize, wallet words in the name) or the post breaks another rule too. Accounts link new, honest
  sites every month (a partner, a news story): a new domain alone is not a clear break;
- scam wording: crypto, wallet or "seed phrase" talk, or a giveaway/prize that asks people to
  claim, log in, verify or send a DM (English and Welsh);
- odd hour: it was posted in a UTC hour of day in which, nor in the `ODD_HOUR_MARGIN` (3) hours
  either side of it (the clock changes move local hours; an early start is not a hijack), the
  account has posted in the whole baseline year.

Few false alarms matter more than catching everything, so the history-based rules (burst, new
domain, odd hour) apply only to an account with a baseline of at least `MIN_BASELINE_POSTS`
posts spread over at least `MIN_BASELINE_DAYS` days; scam wording applies always. The finding
(high, alerted at once to the security route) names every rule the post breaks. It resolves
when the post is gone or older than the look-back.
"""

from __future__ import annotations

import re
from datetime import timedelta

from checks.base import Check, CheckContext, PostingHistory, excerpt, post_subject, when
from monitor.models import Finding, Post

BURST_POSTS = 5
BURST_WINDOW = timedelta(minutes=10)
MIN_BASELINE_POSTS = 50
MIN_BASELINE_DAYS = 90
ODD_HOUR_MARGIN = 3  # hours either side of a posting hour that are not odd (measured: bench/anomaly.py)
JUDGED_KINDS = ("original", "quote")
PLATFORM_DOMAINS = (
    "x.com", "twitter.com", "t.co", "facebook.com", "fb.com", "fb.me", "instagram.com",
    "youtube.com", "youtu.be",
)  # fmt: skip

_SCAM_ALONE = re.compile(
    r"\b(?:crypto(?:currency)?|bitcoin|btc|ethereum|usdt|nft\s*drop|airdrop|seed\s*phrase|wallet\s*connect"
    r"|connect\s+(?:your\s+)?wallet|double\s+your\s+(?:money|coins|crypto)|verify\s+your\s+account"
    r"|account\s+will\s+be\s+(?:suspended|disabled|deleted)"
    r"|cadarnhewch\s+eich\s+cyfrif|arian\s+cyfred\s+digidol)\b",
    re.IGNORECASE,
)
_PRIZE = re.compile(
    r"\b(?:giveaway|free\s+(?:iphone|ipad|gift\s*card|money)|you\s+(?:have\s+)?won|winner|gwobr|rhodd)\b",
    re.IGNORECASE,
)
_CLAIM = re.compile(
    r"\b(?:claim|log\s*in|login|sign\s*in|verify|dm\s+us|send\s+(?:us\s+)?a\s+dm|hawliwch|mewngofnodwch)\b",
    re.IGNORECASE,
)


def link_domain(url: str) -> str:
    from urllib.parse import urlsplit

    return (urlsplit(url if "://" in url else "https://" + url).hostname or "").lower().removeprefix("www.")


def _on(domain: str, domains: tuple[str, ...] | list[str] | frozenset[str]) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in domains)


def scam_wording(text: str) -> bool:
    return bool(_SCAM_ALONE.search(text) or (_PRIZE.search(text) and _CLAIM.search(text)))


def has_baseline(history: PostingHistory | None) -> bool:
    if history is None or history.start is None or history.end is None:
        return False
    return history.posts >= MIN_BASELINE_POSTS and history.end - history.start >= timedelta(
        days=MIN_BASELINE_DAYS
    )


def odd_hour(post: Post, history: PostingHistory) -> bool:
    hour = post.created_at.astimezone(post.created_at.tzinfo).utctimetuple().tm_hour
    margin = range(-ODD_HOUR_MARGIN, ODD_HOUR_MARGIN + 1)
    return not any((hour + shift) % 24 in history.hours_utc for shift in margin)


def new_domains(post: Post, history: PostingHistory, official: list[str]) -> list[str]:
    found = []
    for link in post.links:
        domain = link_domain(link)
        if not domain or domain in history.domains or _on(domain, official) or _on(domain, PLATFORM_DOMAINS):
            continue
        if domain not in found:
            found.append(domain)
    return found


SHORTENERS = frozenset({"bit.ly", "tinyurl.com", "t.ly", "cutt.ly", "is.gd", "rb.gy", "shorturl.at", "goo.gl",
                        "ow.ly", "buff.ly", "tiny.cc", "s.id"})  # fmt: skip
_TRAP_WORDS = re.compile(
    r"login|log-in|signin|verify|secure|prize|giveaway|claim|reward|wallet|airdrop|crypto|bonus"
)
_IP = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def looks_like_a_trap(domain: str, official: list[str]) -> bool:
    """A domain name of the kind phishing uses: imitating the university's, hidden, or selling."""
    if domain in SHORTENERS or _IP.fullmatch(domain) or "xn--" in domain or _TRAP_WORDS.search(domain):
        return True
    for name in official:
        label = name.split(".")[0]
        if len(label) >= 4 and label in domain:  # bangor-ac-uk.help, bangor.ac.uk.example.com
            return True
    return False


def burst_starts(posts: list[Post], history: PostingHistory) -> dict[str, int]:
    """native id of the first post of each burst -> how many posts the burst has."""
    starts: dict[str, int] = {}
    limit = max(BURST_POSTS, 2 * history.max_per_10min + 1)
    index = 0
    while index < len(posts):
        end = index
        while end + 1 < len(posts) and posts[end + 1].created_at - posts[index].created_at <= BURST_WINDOW:
            end += 1
        count = end - index + 1
        if count >= limit:
            starts[posts[index].native_id] = count
            index = end + 1
        else:
            index += 1
    return starts


class PostAnomalyCheck(Check):
    id = "post-anomaly"
    title = "Post unlike the account's normal posting: possible hijack"
    policy_section = (
        "Account security - “Social media accounts are at risk of hacking which can cause significant "
        "reputational damage”; Escalating concerns - “If a social media account has been hacked ... staff "
        "should flag this with the Communications team”"
    )
    severity = "high"
    immediate = True
    route = "security"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        history = ctx.history
        learnt = has_baseline(history)
        start = history.end if history is not None and history.end is not None else ctx.now - ctx.lookback
        posts = [p for p in ctx.posts if p.kind in JUDGED_KINDS and start <= p.created_at <= ctx.now]
        # A burst is named by its first post: posts of the same second are ordered by id, so the
        # finding does not move to another post when the records come in another order.
        posts.sort(key=lambda p: (p.created_at, p.native_id))
        bursts = burst_starts(posts, history) if learnt and history is not None else {}
        findings = []
        for post in posts:
            reasons = []
            if post.native_id in bursts:
                most = history.max_per_10min if history is not None else 0
                reasons.append(
                    f"{bursts[post.native_id]} posts within {int(BURST_WINDOW.total_seconds() // 60)} min, "
                    f"where the account never posted more than {most} in 10 minutes"
                )
            new: list[str] = []
            if learnt and history is not None:
                new = new_domains(post, history, ctx.policy.official_domains)
                if odd_hour(post, history):
                    reasons.append(
                        f"posted at {when(post.created_at, ctx)}, an hour it has not posted in a year"
                    )
            if scam_wording(post.text or ""):
                reasons.append("crypto, giveaway or log-in wording of the kind hijackers post")
            official = ctx.policy.official_domains
            if new and (reasons or any(looks_like_a_trap(d, official) for d in new)):
                reasons.append(f"a link to {', '.join(new)}, a site the account has never linked")
            if reasons:
                findings.append(self._finding(ctx, post, reasons))
        return findings

    def _finding(self, ctx: CheckContext, post: Post, reasons: list[str]) -> Finding:
        detail = (
            f"Post of {when(post.created_at, ctx)} {excerpt(post.text, 80)} is unlike the account's normal "
            f"posting: {'; '.join(reasons)}. If nobody at the university posted it, the account may be "
            "hijacked: change the password, remove unknown sessions and apps, and tell the Communications "
            "team."
        )
        return self.finding(ctx, post_subject(post), post.created_at, detail, url=post.url)

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        return "the post is gone or older than the look-back"
