"""coverage, credential-expiry, connector-health for credentials, registry's unregistered accounts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from check_factories import CENTRAL, NOW, account, ago, context

from checks.connector_health import ConnectorHealthCheck
from checks.coverage import CoverageCheck
from checks.credential_expiry import CredentialExpiryCheck
from checks.registry import RegistryCheck
from monitor.config import Policy
from monitor.coverage import CoverageGap, CredentialState, DiscoveredAccount

EXPIRY = CredentialExpiryCheck()


def credential(**overrides: object) -> CredentialState:
    values: dict[str, object] = {"account_id": "acct", "checked_at": ago(hours=1), "valid": True}
    values.update(overrides)
    return CredentialState(**values)  # type: ignore[arg-type]


def test_coverage_one_finding_per_unreadable_feature_with_the_fix() -> None:
    gaps = (
        CoverageGap(
            "acct", "scheduled_posts", "the queue is refused", "grant pages_manage_posts", ago(days=1)
        ),
        CoverageGap(
            "acct", "direct_messages", "no user token", "run `socialmon accounts authorize`", ago(hours=2)
        ),
    )
    findings = CoverageCheck().evaluate(context(coverage_gaps=gaps))
    assert [f.subject for f in findings] == ["coverage:scheduled_posts", "coverage:direct_messages"]
    queue = findings[0]
    assert queue.severity == "warning" and queue.since == ago(days=1) and queue.immediate
    assert "queued posts" in queue.detail and "grant pages_manage_posts" in queue.detail
    assert CoverageCheck().evaluate(context()) == []


@pytest.mark.parametrize(
    ("left", "severity"),
    [
        (timedelta(days=30), None),
        (timedelta(days=14, minutes=1), None),
        (timedelta(days=14), "warning"),
        (timedelta(days=3, minutes=1), "warning"),
        (timedelta(days=3), "high"),
        (timedelta(minutes=5), "high"),
        (timedelta(0), None),  # expired: connector-health's
        (-timedelta(days=1), None),
    ],
)
def test_credential_expiry_warns_from_token_warning_and_is_high_from_three_days(
    left: timedelta, severity: str | None
) -> None:
    findings = EXPIRY.evaluate(context(credential=credential(expires_at=NOW + left)))
    if severity is None:
        assert findings == []
        return
    (finding,) = findings
    assert finding.severity == severity and finding.subject == "credential"
    assert finding.since == NOW + left - timedelta(days=14)


def test_credential_expiry_follows_policy_token_warning_and_data_access() -> None:
    policy = Policy(token_warning=timedelta(days=30))
    ctx = context(
        policy=policy,
        credential=credential(
            expires_at=NOW + timedelta(days=20), data_access_expires_at=NOW + timedelta(days=2)
        ),
    )
    findings = {f.subject: f.severity for f in EXPIRY.evaluate(ctx)}
    assert findings == {"credential": "warning", "credential:data-access": "high"}
    assert EXPIRY.evaluate(context(credential=credential(expires_at=None))) == []


def test_connector_health_for_an_expired_token_and_a_refused_refresh() -> None:
    health = ConnectorHealthCheck()
    (expired,) = health.evaluate(context(credential=credential(expires_at=ago(hours=3))))
    assert expired.subject == "credential" and expired.severity == "high" and expired.since == ago(hours=3)
    fix = "the platform refused the refresh token: run `socialmon accounts authorize --account acct`"
    (refused,) = health.evaluate(context(credential=credential(refresh_failed=fix)))
    assert "socialmon accounts authorize --account acct" in refused.detail
    assert health.evaluate(context(credential=credential(expires_at=NOW + timedelta(days=1)))) == []


def test_registry_raises_each_unregistered_account_once_on_the_first_central_account() -> None:
    found = (DiscoveredAccount("facebook", "100000000000103", "Aber Secret Society", "AberSecretSoc"),)
    complete = {"people": ["a@example.ac.uk", "b@example.ac.uk"], "manager": "m@example.ac.uk"}
    on_central = RegistryCheck().evaluate(context(CENTRAL.model_copy(update=complete), unregistered=found))
    (finding,) = on_central
    assert (
        finding.subject == "unregistered:facebook:100000000000103" and finding.title == "Unregistered account"
    )
    assert '"facebook:100000000000103" to discovery.ignore' in finding.detail
    elsewhere = RegistryCheck().evaluate(context(account(**complete), unregistered=found))
    assert elsewhere == []
