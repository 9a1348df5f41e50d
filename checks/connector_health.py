"""connector-health: the account could not be polled for longer than `policy.failure_tolerance`.

Keeps the monitor honest: while an account cannot be read, every other check about it is blind.
Routed to operations, at once. The finding says in plain words what is wrong and who can fix it;
it never carries the platform's error text (HTTP codes, endpoint paths), which also reaches the
comms digest: operators read that with `socialmon status` and in the logs.
"""

from __future__ import annotations

from checks.base import Check, CheckContext, when
from monitor.models import Finding

SUBJECT = "poll"
CREDENTIAL = "credential"

_OPERATORS = "the monitor's operators must"
_KIND_ADVICE = {
    "auth_expired": "the monitor's access to the account has expired or was withdrawn: the account's manager "
    f"or {_OPERATORS.removeprefix('the ')} issue a new token and update the credentials",
    "permission_missing": "the monitor lacks a permission it needs on this account: the account's manager "
    "must grant it to the monitor's app",
    "rate_limited": f"the platform is limiting how often the monitor may read: {_OPERATORS} check the "
    "polling interval and quota",
    "transient": f"the platform keeps failing to answer: {_OPERATORS} check the platform's status and "
    "the network",
    "bad_payload": f"the platform answers with data the monitor does not understand: {_OPERATORS} check "
    "the logs",
}
_KIND_WORDS = {
    "auth_expired": "expired access",
    "permission_missing": "a missing permission",
    "rate_limited": "the platform's rate limit",
    "transient": "the platform not answering",
    "bad_payload": "unreadable answers from the platform",
}


class ConnectorHealthCheck(Check):
    id = "connector-health"
    title = "Account cannot be polled"
    policy_section = "(keeps the monitor honest) - an account the monitor cannot read is not being checked"
    severity = "high"
    immediate = True
    route = "operations"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        return self._polling(ctx) + self._credential(ctx)

    def _credential(self, ctx: CheckContext) -> list[Finding]:
        """An expired credential, or a refresh the platform refused for good (with the fix)."""
        credential = ctx.credential
        if credential is None:
            return []
        if credential.refresh_failed:
            detail = f"The user token can no longer be refreshed: {credential.refresh_failed}."
            return [
                self.finding(ctx, CREDENTIAL, credential.checked_at, detail, title="Token refresh failed")
            ]
        expired = [
            t for t in (credential.expires_at, credential.data_access_expires_at) if t and t <= ctx.now
        ]
        if expired:
            detail = (
                f"The access token expired {when(min(expired), ctx)}: socialmon cannot read this account. "
                "Issue a new token, update the configuration and run `socialmon accounts verify`."
            )
            return [self.finding(ctx, CREDENTIAL, min(expired), detail, title="Access token expired")]
        return []

    def _polling(self, ctx: CheckContext) -> list[Finding]:
        poll = ctx.poll
        if poll is None or poll.failing_since is None:
            return []
        due = poll.failing_since + ctx.policy.failure_tolerance
        if ctx.now < due:
            return []
        kind = poll.last_status or "error"
        advice = _KIND_ADVICE.get(kind, "the monitor's operators must check the logs (socialmon status)")
        words = _KIND_WORDS.get(kind, "an error")
        last_ok = "; never polled successfully"
        if poll.last_ok_at:
            last_ok = f"; last good poll {when(poll.last_ok_at, ctx)}"
        detail = (
            f"The monitor has not been able to read this account since {when(poll.failing_since, ctx)} "
            f"({words}){last_ok}. Other checks cannot see it: {advice}. "
            "Operators: `socialmon status` shows the platform's error."
        )
        return [self.finding(ctx, SUBJECT, due, detail)]

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        if subject == CREDENTIAL:
            return "the credential works again"
        if ctx.poll is not None and ctx.poll.failing_since is None:
            return "polling works again"
        return "condition no longer holds"
