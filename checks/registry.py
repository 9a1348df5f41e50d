"""registry: the account's registry entry lacks two named people, an account manager or monitoring hours."""

from __future__ import annotations

from checks.base import Check, CheckContext
from monitor.models import Finding

SUBJECT = "registry"
UNREGISTERED = "unregistered:"


class RegistryCheck(Check):
    id = "registry"
    title = "Account registry entry incomplete"
    policy_section = (
        "Corporate Social Media Accounts - “the login names must be known to at least two people”; "
        "“there must be an agreed overall account manager”"
    )
    severity = "warning"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        findings = self._unregistered(ctx)
        gaps = registry_gaps(ctx)
        if not gaps:
            return findings
        detail = f"The registry entry has {'; '.join(gaps)}. Update the account's entry in the configuration."
        # The gap exists as long as the entry has; the run that first sees it is the best we know.
        return [self.finding(ctx, SUBJECT, ctx.now, detail), *findings]

    def _unregistered(self, ctx: CheckContext) -> list[Finding]:
        """Accounts the credentials see that the registry lacks: raised once, on the first central
        account (the communications team owns the registry)."""
        if not ctx.unregistered or not ctx.central_accounts or ctx.central_accounts[0].id != ctx.account.id:
            return []
        findings = []
        for found in ctx.unregistered:
            handle = f" (@{found.handle})" if found.handle else ""
            detail = (
                f"{found.platform} account {found.name}{handle}, id {found.native_id}, is visible to "
                "socialmon's credentials but is not in the registry. Register it (add it to `accounts`) or, "
                f'if it is not a corporate account, add "{found.platform}:{found.native_id}" '
                "to discovery.ignore."
            )
            findings.append(
                self.finding(
                    ctx,
                    f"{UNREGISTERED}{found.platform}:{found.native_id}",
                    ctx.now,
                    detail,
                    title="Unregistered account",
                )
            )
        return findings

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        if subject.startswith(UNREGISTERED):
            return "the account is registered or ignored"
        return "the registry entry is now complete"


def registry_gaps(ctx: CheckContext) -> list[str]:
    account = ctx.account
    gaps = []
    people = {p.lower() for p in account.people}
    if len(people) < 2:
        gaps.append(f"{len(people)} named {'person' if len(people) == 1 else 'people'} (at least two needed)")
    if not account.manager:
        gaps.append("no account manager")
    if not account.monitoring_hours:
        gaps.append("no monitoring hours (reply deadlines assume Mon-Fri 09:00-17:00)")
    return gaps
