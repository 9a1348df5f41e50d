"""connector-health: the account could not be polled for longer than `policy.failure_tolerance`.

Keeps the monitor honest: while an account cannot be read, every other check about it is blind.
Routed to operations, at once.
"""

from __future__ import annotations

from checks.base import Check, CheckContext, when
from monitor.models import Finding

SUBJECT = "poll"

_KIND_ADVICE = {
    "auth_expired": "the access token expired or was revoked: issue a new token and update the credentials",
    "permission_missing": "a permission the monitor needs is missing: grant it to the app or token",
    "rate_limited": "the platform's rate limit or quota is exhausted: check the polling interval and quota",
    "transient": "the platform keeps failing: check the platform status and the network",
    "bad_payload": "the platform answers with data the connector does not understand: check the logs",
}


class ConnectorHealthCheck(Check):
    id = "connector-health"
    title = "Account cannot be polled"
    policy_section = "(keeps the monitor honest) - an account the monitor cannot read is not being checked"
    severity = "high"
    immediate = True
    route = "operations"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        poll = ctx.poll
        if poll is None or poll.failing_since is None:
            return []
        due = poll.failing_since + ctx.policy.failure_tolerance
        if ctx.now < due:
            return []
        kind = poll.last_status or "error"
        advice = _KIND_ADVICE.get(kind, "check the logs for the error")
        error = f" ({poll.last_error})" if poll.last_error else ""
        last_ok = "; never polled successfully"
        if poll.last_ok_at:
            last_ok = f"; last good poll {when(poll.last_ok_at, ctx)}"
        detail = (
            f"Polling has failed since {when(poll.failing_since, ctx)} with {kind}{error}{last_ok}. "
            f"Other checks cannot see this account: {advice}."
        )
        return [self.finding(ctx, SUBJECT, due, detail)]

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        if ctx.poll is not None and ctx.poll.failing_since is None:
            return "polling works again"
        return "condition no longer holds"
