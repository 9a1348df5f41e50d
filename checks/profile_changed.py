"""profile-changed: display name, handle, profile text or avatar changed since the previous snapshot.

The store keeps a new profile snapshot only when one of those four changes, so the newest two
snapshots differ by construction once there are two; the first snapshot is the baseline and no
finding. Each change is its own finding (subject "profile:<time of the change>"), so a second
change while the first is open alerts again. A change finding resolves when:
- the profile is changed back to what it was before ("changed back"; the revert is no finding);
- a later change supersedes it (that change is the new finding);
- it has stood for `SETTLE` (7 days) with no further change: accepted as the new profile.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from checks.base import Check, CheckContext, excerpt, span, when
from monitor.models import Finding, ProfileSnapshot

SETTLE = timedelta(days=7)


def change_subject(snapshot: ProfileSnapshot) -> str:
    return "profile:" + snapshot.taken_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def describe_changes(before: ProfileSnapshot, after: ProfileSnapshot) -> list[str]:
    changes = []
    if before.name != after.name:
        changes.append(f"display name {excerpt(before.name, 40)} → {excerpt(after.name, 40)}")
    if before.handle != after.handle:
        changes.append(f"handle {excerpt(before.handle, 30)} → {excerpt(after.handle, 30)}")
    if before.text != after.text:
        changes.append(f"profile text now {excerpt(after.text, 60)}")
    if before.avatar_fingerprint != after.avatar_fingerprint:
        changes.append("avatar image")
    return changes


class ProfileChangedCheck(Check):
    id = "profile-changed"
    title = "Profile changed: possible hijack"
    policy_section = (
        "Account security - “Social media accounts are at risk of hacking which can cause significant "
        "reputational damage”"
    )
    severity = "high"
    immediate = True
    route = "security"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        if len(ctx.profiles) < 2:
            return []
        latest, previous = ctx.profiles[0], ctx.profiles[1]
        if len(ctx.profiles) > 2 and latest.identity() == ctx.profiles[2].identity():
            return []  # changed back to what it was: the owners fixed it
        if ctx.now - latest.taken_at >= SETTLE:
            return []
        changes = describe_changes(previous, latest)
        if not changes:
            return []
        detail = (
            f"Changed {when(latest.taken_at, ctx)}: {'; '.join(changes)}. If the account manager did not "
            "make this change, treat the account as compromised: change the password and sign out "
            "other sessions."
        )
        return [self.finding(ctx, change_subject(latest), latest.taken_at, detail, url=latest.url)]

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        if not ctx.profiles:
            return "no profile is stored"
        latest = ctx.profiles[0]
        if change_subject(latest) != subject:
            if len(ctx.profiles) > 2 and latest.identity() == ctx.profiles[2].identity():
                return f"the profile was changed back ({when(latest.taken_at, ctx)})"
            return f"superseded by a later change ({when(latest.taken_at, ctx)})"
        return f"no further change for {span(SETTLE)}: accepted as the current profile"
