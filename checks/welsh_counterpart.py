"""welsh-counterpart: each post has a version in the other language, posted at about the same time.

- Bilingual account: an English-only post (`en`; a `cy+en` post is already bilingual) needs a
  Welsh (`cy`) post on the same account within the window (policy.counterpart_window, default
  30 min, before or after). Missing Welsh is high.
- Paired accounts: a post on the English account needs a Welsh or bilingual post on its Welsh
  pair within the window (missing Welsh: high); a Welsh post on the Welsh account needs an
  English or bilingual post on its English pair (missing English: low).
- Exempt accounts (audience outside Wales) are skipped and listed as exempt.

Matching is one-to-one: one Welsh post clears at most one English post. Candidate pairs within
the window are ranked by what they share (links, media, hashtags) and then by how close in time
they are, and taken greedily. Each account of a pair is judged from its own side with the same
ranking, so the two sides agree except on exact ties.
Only originals and quotes are judged (replies and plain shares are conversations and other
people's content). Posts whose language is `unknown` (a link, an emoji) or `other` are not judged.
A counterpart must be of a similar standard (the policy's "to a similar standard in both content
and style"): it carries the same links (the same target, or its Welsh-language variant: a `/cy/`
or `/en/` path segment, `?lang=cy`; a link to the same site marked Welsh, such as
`/cy/diwrnod-agored` for `/open-day`, stands for the Welsh page whatever its slug), at least as
many media, and at least `policy.counterpart_min_share` (default 0.5) of the other post's text
length (links, @mentions and #hashtags left out; judged when that text has at least 30 characters). A matched
counterpart that is thinner does not clear the post: the finding says why ("Welsh version has
no link", "Welsh version is 18 % of the English length").
A post younger than the window is not yet a finding; a post older than the look-back is no
longer tracked (its finding, if any, resolves saying so).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from checks.base import Check, CheckContext, excerpt, post_subject, span, subject_native_id, when
from monitor.models import Finding, Post

JUDGED_KINDS = ("original", "quote")


MIN_JUDGED_LENGTH = 30  # shorter texts ("News" / "Newyddion") vary too much in length to compare
_LANGUAGE_SEGMENTS = frozenset({"cy", "en", "cym", "eng", "cymraeg", "english"})
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_TAGS = re.compile(r"(?<![\w@#])[@#]\w+")


def link_target(url: str) -> str:
    """A link with its language variant removed: bangor.ac.uk/cy/news and /news are one target."""
    parts = urlsplit(url if "://" in url else "https://" + url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    segments = [s for s in parts.path.lower().split("/") if s and s not in _LANGUAGE_SEGMENTS]
    query = "&".join(
        sorted(q for q in parts.query.split("&") if q and q.split("=")[0].lower() not in ("lang", "language"))
    )
    return host + "/" + "/".join(segments) + (f"?{query}" if query else "")


def _targets(post: Post) -> set[str]:
    return {link_target(link) for link in post.links}


def _welsh_pages(post: Post) -> set[str]:
    """Hosts the post links to with a Welsh-language marker (a `/cy/` path, `?lang=cy`, a `cy.` host):
    such a link stands for the same host's page in the other language, whatever its Welsh slug."""
    hosts = set()
    for link in post.links:
        parts = urlsplit(link if "://" in link else "https://" + link)
        host = (parts.hostname or "").lower().removeprefix("www.")
        segments = {s for s in parts.path.lower().split("/") if s}
        if {"cy", "cym", "cymraeg"} & segments or "lang=cy" in parts.query.lower() or host.startswith("cy."):
            hosts.add(host.removeprefix("cy."))
    return hosts


def _missing_links(original: Post, counterpart: Post) -> set[str]:
    missing = _targets(original) - _targets(counterpart)
    # Excused: the counterpart links to the same site, and one of the two links is marked Welsh.
    welsh = _welsh_pages(original) | _welsh_pages(counterpart)
    linked = {t.split("/", 1)[0].removeprefix("cy.") for t in _targets(counterpart)}
    return {t for t in missing if not ({t.split("/", 1)[0].removeprefix("cy.")} <= welsh & linked)}


def text_length(post: Post) -> int:
    """The length of what the post says in words: links, @mentions and #hashtags left out."""
    return len(" ".join(_TAGS.sub(" ", _URL.sub(" ", post.text or "")).split()))


def standard_gaps(original: Post, counterpart: Post, min_share: float, language: str) -> list[str]:
    """How the counterpart falls short of the original ([] when it is of a similar standard)."""
    gaps = []
    missing = _missing_links(original, counterpart)
    if missing and not counterpart.links:
        gaps.append(f"{language} version has no link")
    elif missing:
        gaps.append(f"{language} version lacks the link to {sorted(missing)[0]}")
    if len(counterpart.media) < len(original.media):
        have = len(counterpart.media)
        gaps.append(
            f"{language} version has {have or 'no'} image{'s' if have != 1 else ''}/video "
            f"of the {len(original.media)} in the original"
        )
    full = text_length(original)
    if full >= MIN_JUDGED_LENGTH and text_length(counterpart) < min_share * full:
        share = round(100 * text_length(counterpart) / full)
        other = "English" if language == "Welsh" else "Welsh"
        gaps.append(f"{language} version is {share} % of the {other} length")
    return gaps


def _shared_features(a: Post, b: Post) -> int:
    links = len(_targets(a) & _targets(b))
    media = len(set(a.media) & set(b.media))
    tags = len({t.lower() for t in a.hashtags} & {t.lower() for t in b.hashtags})
    return links * 4 + media * 4 + tags


def match_counterparts(
    needing: Sequence[Post], offering: Sequence[Post], window: timedelta
) -> dict[tuple[str, str], Post]:
    """A one-to-one matching of posts needing a counterpart to posts that can be one."""
    if not needing or not offering:
        return {}
    offer_sorted = sorted(offering, key=lambda p: p.created_at)
    times = [p.created_at for p in offer_sorted]
    candidates: list[tuple[int, timedelta, str, str, Post, Post]] = []
    from bisect import bisect_left, bisect_right

    for post in needing:
        lo = bisect_left(times, post.created_at - window)
        hi = bisect_right(times, post.created_at + window)
        for other in offer_sorted[lo:hi]:
            gap = abs(other.created_at - post.created_at)
            score = -_shared_features(post, other)
            candidates.append((score, gap, post.native_id, other.native_id, post, other))
    candidates.sort(key=lambda c: c[:4])
    matched: dict[tuple[str, str], Post] = {}
    taken: set[tuple[str, str]] = set()
    for *_, post, other in candidates:
        key, other_key = (post.platform, post.native_id), (other.platform, other.native_id)
        if key in matched or other_key in taken:
            continue
        matched[key] = other
        taken.add(other_key)
    return matched


class WelshCounterpartCheck(Check):
    id = "welsh-counterpart"
    title = "Post without a version in the other language"
    policy_section = (
        "Language Policy - “messages must be posted in both languages simultaneously and to a similar "
        "standard in both content and style”"
    )
    severity = "high"

    def exemption(self, ctx: CheckContext) -> str | None:
        language = ctx.account.language
        if language.mode == "exempt":
            return getattr(language, "reason", "exempt")
        return None

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        if self.exemption(ctx) is not None:
            return []
        mode = ctx.account.language.mode
        if mode == "bilingual":
            needing = self._judged(ctx, ctx.posts, {"en"})
            offering = [p for p in ctx.posts if p.language == "cy" and p.kind in JUDGED_KINDS]
            return self._missing(ctx, needing, offering, "Welsh", "the same account", "high")
        if ctx.pair is None:
            return []
        if ctx.account.own_language == "en":
            needing = self._judged(ctx, ctx.posts, {"en"})
            offering = [p for p in ctx.pair_posts if p.language in ("cy", "cy+en") and p.kind in JUDGED_KINDS]
            return self._missing(ctx, needing, offering, "Welsh", f"its Welsh pair {ctx.pair.id}", "high")
        needing = self._judged(ctx, ctx.posts, {"cy"})
        offering = [p for p in ctx.pair_posts if p.language in ("en", "cy+en") and p.kind in JUDGED_KINDS]
        return self._missing(ctx, needing, offering, "English", f"its English pair {ctx.pair.id}", "low")

    def _judged(self, ctx: CheckContext, posts: Sequence[Post], languages: set[str]) -> list[Post]:
        horizon = ctx.now - ctx.lookback
        return [
            p for p in posts if p.kind in JUDGED_KINDS and p.language in languages and p.created_at >= horizon
        ]

    def _missing(
        self,
        ctx: CheckContext,
        needing: list[Post],
        offering: list[Post],
        language: str,
        where: str,
        severity: str,
    ) -> list[Finding]:
        window = ctx.counterpart_window
        matched = match_counterparts(needing, offering, window)
        findings = []
        for post in needing:
            since: datetime = post.created_at + window
            if ctx.now < since:
                continue
            counterpart = matched.get((post.platform, post.native_id))
            if counterpart is not None:
                gaps = standard_gaps(post, counterpart, ctx.policy.counterpart_min_share, language)
                if gaps:
                    findings.append(self._thinner(ctx, post, counterpart, gaps, language, severity))
                continue
            detail = (
                f"Post of {when(post.created_at, ctx)} {excerpt(post.text, 70)} has no {language} version on "
                f"{where} within {span(window)}. Publish the {language} version alongside it."
            )
            findings.append(
                self.finding(ctx, post_subject(post), since, detail, url=post.url, severity=severity)  # type: ignore[arg-type]
            )
        return findings

    def _thinner(
        self, ctx: CheckContext, post: Post, counterpart: Post, gaps: list[str], language: str, severity: str
    ) -> Finding:
        detail = (
            f"Post of {when(post.created_at, ctx)} {excerpt(post.text, 70)} has "
            f"{'an' if language == 'English' else 'a'} {language} version "
            f"({when(counterpart.created_at, ctx)}) {excerpt(counterpart.text, 50)} that is not of a similar "
            f"standard: {'; '.join(gaps)}. Give the {language} version the same content."
        )
        return self.finding(
            ctx,
            post_subject(post),
            post.created_at + ctx.counterpart_window,
            detail,
            url=post.url,
            severity=severity,  # type: ignore[arg-type]
            title=f"{language} version not of a similar standard",
        )

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        native_id = subject_native_id(subject)
        post = next((p for p in ctx.posts if p.native_id == native_id), None)
        if post is None or post.created_at < ctx.now - ctx.lookback:
            return f"older than the {span(ctx.lookback)} look-back: no longer tracked"
        if self.exemption(ctx) is not None:
            return "the account is now exempt"
        if post.language not in ("en", "cy"):
            return f"the post is now classed as {post.language}"
        return "counterpart posted"
