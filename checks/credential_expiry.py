"""credential-expiry: the account's credential expires within `policy.token_warning` (default 14 days).

Meta tokens say when they expire (`expires_at`) and when their data access ends
(`data_access_expires_at`), as `accounts verify` last learnt; a warning from `token_warning` before,
high from three days before. Once expired it is a connector-health finding instead. X user tokens
are refreshed automatically and do not appear here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from checks.base import Check, CheckContext, when
from monitor.models import Finding, Severity

HIGH_FROM = timedelta(days=3)


class CredentialExpiryCheck(Check):
    id = "credential-expiry"
    title = "Access token expires soon"
    policy_section = "(keeps the monitor honest) - an expired token stops the monitor reading the account"
    severity = "warning"
    immediate = True
    route = "operations"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        credential = ctx.credential
        if credential is None or not credential.valid:
            return []
        findings = []
        for subject, expires_at, what in (
            ("credential", credential.expires_at, "The access token expires"),
            ("credential:data-access", credential.data_access_expires_at, "The token's data access expires"),
        ):
            finding = self._expiring(ctx, subject, expires_at, what)
            if finding is not None:
                findings.append(finding)
        return findings

    def _expiring(
        self, ctx: CheckContext, subject: str, expires_at: datetime | None, what: str
    ) -> Finding | None:
        if expires_at is None or expires_at <= ctx.now:
            return None  # never, or already: connector-health says so
        warn_from = expires_at - ctx.policy.token_warning
        if ctx.now < warn_from:
            return None
        severity: Severity = "high" if expires_at - ctx.now <= HIGH_FROM else "warning"
        detail = (
            f"{what} {when(expires_at, ctx)}; after that socialmon cannot read this account. "
            "Issue a new token (a system-user token does not expire: see docs/ONBOARDING.md), "
            "update the configuration and run `socialmon accounts verify`."
        )
        return self.finding(ctx, subject, warn_from, detail, severity=severity)

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        return "the credential was renewed"
