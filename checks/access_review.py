"""access-review: access is reviewed when people leave an account, and at least every so often.

The policy: when a member of staff no longer has responsibility for an account, their access must
be removed, and "the password must be changed whenever one of those staff members leaves their
role". A finding (warning) when:
- someone left the account's `people`, or the manager changed, since the last confirmed review
  (`monitor.access` records the registry between runs): it names who left, in which role and
  when it was seen; subject "access-left";
- otherwise, the last confirmed review (or, before any, the day the registry was first recorded)
  is older than `policy.access_review` (default 180 days); subject "access-review".
Both resolve when someone records the review: `socialmon accounts confirm-access --account ID
--by NAME [--note TEXT]` (kept in the database with who and when).
"""

from __future__ import annotations

from checks.base import Check, CheckContext, span, when
from monitor.models import Finding

LEFT = "access-left"
REVIEW = "access-review"
ROLE_VERBS = {"manager": "stopped being the manager", "person": "left the named people"}


class AccessReviewCheck(Check):
    id = "access-review"
    title = "Account access to review"
    policy_section = (
        "Account security - “the password must be changed whenever one of those staff members leaves their "
        "role”; Corporate Social Media Accounts - the line manager “must arrange to have their access to any "
        "University Social Media Accounts removed”"
    )
    severity = "warning"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        access = ctx.access
        if access is None:
            return []
        confirm = f"socialmon accounts confirm-access --account {ctx.account.id} --by NAME"
        if access.changes:
            who = "; ".join(
                f"{c.person} {ROLE_VERBS.get(c.role, 'left')} (seen {when(c.at, ctx)})"
                for c in access.changes
            )
            detail = (
                f"{who}. Remove their access to the account and change its password, "
                f"then record it: {confirm}."
            )
            title = "Someone left the account: remove their access and change the password"
            return [self.finding(ctx, LEFT, access.changes[0].at, detail, title=title)]
        last = access.last_confirmed_at or access.first_seen_at
        due = last + ctx.policy.access_review
        if ctx.now < due:
            return []
        since_what = (
            f"the last confirmed review ({when(last, ctx)}, by {access.last_confirmed_by})"
            if access.last_confirmed_at
            else f"no review has been confirmed since the registry was first recorded ({when(last, ctx)})"
        )
        detail = (
            f"Access is due for review: {since_what}; the policy setting asks for one every "
            f"{span(ctx.policy.access_review)}. Check who has the password and that it is stored securely, "
            f"then record it: {confirm}."
        )
        return [self.finding(ctx, REVIEW, due, detail)]

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        access = ctx.access
        if access is not None and access.last_confirmed_at is not None:
            return f"access confirmed by {access.last_confirmed_by} ({when(access.last_confirmed_at, ctx)})"
        return "condition no longer holds"
