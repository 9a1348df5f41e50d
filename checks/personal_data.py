"""personal-data: a post or reply by the account carries personal data about an individual.

The policy forbids posts that "include confidential information about an individual". What a
machine can see, in the account's own posts and replies of the look-back:
- a personal email address: any address that is not a role address on one of the university's
  domains (`policy.official_domains`, subdomains included). A role address has a single-word
  local part ("admissions@", "student-services@", "llyfrgell@"); a local part with a dot, an
  underscore or a digit ("a.jones@", "abc12def@") names a person or a student account;
- a UK phone number (found with `phonenumbers`, region GB) that is not one of the university's
  listed numbers (`policy.official_phone_numbers`; an entry ending in `*` is a prefix) and not a
  number the account's own profile gives;
- a match of a pattern in `policy.personal_data_patterns` (e.g. student numbers).

The matched value is never stored: the finding names what kind of data was found and a masked
form ("a•••@gmail.com", "07•••••••21"), and quotes no post text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers

from checks.base import Check, CheckContext, post_subject, when
from monitor.models import Finding, Post, Reply

_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-]+)@([a-z0-9-]+(?:\.[a-z0-9-]+)+)", re.IGNORECASE)
_ROLE_LOCAL = re.compile(r"[a-z]+(?:-[a-z]+)*", re.IGNORECASE)
_DIGITS = re.compile(r"\D")


@dataclass(frozen=True)
class Match:
    kind: str  # "a personal email address", "a UK phone number", "a match of a personal-data pattern"
    masked: str


def mask(value: str, keep: int = 2) -> str:
    """The first and last `keep` characters, the rest as dots: never the value itself."""
    value = value.strip()
    if len(value) <= 2 * keep + 1:
        return value[:1] + "•" * max(len(value) - 1, 1)
    return value[:keep] + "•" * (len(value) - 2 * keep) + value[-keep:]


def on_domains(domain: str, domains: Iterable[str]) -> bool:
    domain = domain.lower()
    return any(domain == d or domain.endswith("." + d) for d in domains)


def personal_emails(text: str, official: list[str]) -> list[Match]:
    found = []
    for local, domain in _EMAIL.findall(text):
        if on_domains(domain, official) and _ROLE_LOCAL.fullmatch(local):
            continue  # a role address on the university's domains
        found.append(Match("a personal email address", f"{local[:1]}•••@{domain.lower()}"))
    return found


def _digits(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def listed(e164: str, entries: Iterable[str]) -> bool:
    for entry in entries:
        prefix = entry.endswith("*")
        try:
            wanted = _digits(phonenumbers.parse(entry.rstrip("*"), "GB")) if not prefix else None
        except phonenumbers.NumberParseException:
            wanted = None
        if wanted == e164:
            return True
        if prefix:
            digits = _DIGITS.sub("", entry)
            national = "+44" + digits[1:] if digits.startswith("0") else "+" + digits
            if e164.startswith(national):
                return True
    return False


def uk_numbers(text: str) -> list[str]:
    """UK numbers in the text, in E.164."""
    return [
        _digits(m.number)
        for m in phonenumbers.PhoneNumberMatcher(text, "GB")
        if phonenumbers.region_code_for_number(m.number) in ("GB", "GG", "JE", "IM")
    ]


def personal_phones(text: str, allowed: list[str]) -> list[Match]:
    found = []
    for e164 in uk_numbers(text):
        if not listed(e164, allowed):
            national = "0" + e164[3:]
            found.append(Match("a UK phone number", mask(national)))
    return found


def pattern_matches(text: str, patterns: list[str]) -> list[Match]:
    found = []
    for pattern in patterns:
        for hit in re.finditer(pattern, text):
            found.append(Match("a match of a personal-data pattern", mask(hit.group(0), 1)))
    return found


def personal_data(text: str, ctx: CheckContext, profile_numbers: list[str]) -> list[Match]:
    policy = ctx.policy
    found = [
        *personal_emails(text, policy.official_domains),
        *personal_phones(text, [*policy.official_phone_numbers, *profile_numbers]),
        *pattern_matches(text, policy.personal_data_patterns),
    ]
    return list(dict.fromkeys(found))  # a bilingual post gives the same number twice


class PersonalDataCheck(Check):
    id = "personal-data"
    title = "Post carries personal data"
    policy_section = (
        "Corporate Social media posts - those posting content on corporate social media accounts must not "
        "“include confidential information about an individual or organisation”"
    )
    severity = "high"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        horizon = ctx.now - ctx.lookback
        profile_numbers = uk_numbers(ctx.profiles[0].text) if ctx.profiles else []
        findings = []
        seen: set[str] = set()
        items: list[Post | Reply] = [*ctx.posts, *ctx.replies]
        for item in items:
            if item.account_id != ctx.account.id or item.created_at < horizon or item.native_id in seen:
                continue
            seen.add(item.native_id)
            matches = personal_data(item.text or "", ctx, profile_numbers)
            if matches:
                findings.append(self._finding(ctx, item, matches))
        return findings

    def _finding(self, ctx: CheckContext, item: Post | Reply, matches: list[Match]) -> Finding:
        what = "; ".join(f"{m.kind} ({m.masked})" for m in matches)
        noun = "Post" if isinstance(item, Post) else "Reply"
        detail = (
            f"{noun} of {when(item.created_at, ctx)} carries {what}. Remove it or edit it out; if it "
            "was published by mistake, tell the person concerned."
        )
        if isinstance(item, Post):
            return self.finding(ctx, post_subject(item), item.created_at, detail, url=item.url)
        return self.finding(ctx, f"reply:{item.platform}:{item.native_id}", item.created_at, detail)

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        return "the post no longer carries personal data (edited, deleted, or older than the look-back)"
