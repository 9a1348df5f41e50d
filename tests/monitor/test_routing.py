"""Routing: which route hears about which finding, once, with repeats and one resolution."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alerts_support import NOW, add_finding, make_config
from sqlalchemy import select

from monitor.db import AlertRow
from monitor.routing import enqueue_alert, route_findings, routes_for

CHANNELS = {
    "mail": "{type: email, host: 127.0.0.1, port: 25, security: none, from: s@uni.ac.uk, to: [a@uni.ac.uk]}",
    "ops-mail": "{type: email, host: 127.0.0.1, port: 25, security: none, from: s@uni.ac.uk, "
    "to: [ops@uni.ac.uk]}",
}
ROUTES = {
    "emergency": "{channels: [mail], repeat: 15m}",
    "security": "{channels: [mail]}",
    "operations": "{channels: [ops-mail]}",
    "digest": '{channels: [mail], at: "08:30"}',
}


def rows(store) -> list[AlertRow]:
    with store.session() as session:
        return list(session.scalars(select(AlertRow).order_by(AlertRow.id)))


@pytest.mark.parametrize(
    ("check", "severity", "expected"),
    [
        ("emergency-posting", "critical", ["emergency"]),
        ("profile-changed", "high", ["security"]),
        ("connector-health", "high", ["operations"]),
        ("welsh-unanswered", "high", []),  # digest only
        ("cadence", "warning", []),
    ],
)
def test_builtin_routes_take_their_checks_and_nothing_else(
    check: str, severity: str, expected: list[str]
) -> None:
    config = make_config(CHANNELS, ROUTES)
    assert routes_for(config, check, "physics-en", severity) == expected


def test_custom_route_filters_by_check_account_and_severity() -> None:
    routes = {
        **ROUTES,
        "welsh-desk": "{channels: [mail], checks: [welsh-unanswered], min_severity: high}",
        "physics-team": "{channels: [mail], accounts: [physics-en, physics-cy]}",
        "catch-nothing": "{channels: [mail]}",
    }
    config = make_config(CHANNELS, routes)
    assert routes_for(config, "welsh-unanswered", "central", "high") == ["welsh-desk"]
    assert routes_for(config, "welsh-unanswered", "central", "warning") == []
    assert routes_for(config, "cadence", "physics-cy", "warning") == ["physics-team"]
    assert routes_for(config, "cadence", "central", "warning") == []


def test_route_absent_from_config_is_skipped(store) -> None:
    config = make_config(CHANNELS, {"digest": '{channels: [mail], at: "08:30"}'})
    with store.session() as session:
        add_finding(session, "emergency-posting")
    assert route_findings(config, store, NOW) == 0
    assert rows(store) == []


def test_first_alert_once_per_finding_and_channel(any_store) -> None:
    config = make_config(CHANNELS, ROUTES)
    with any_store.session() as session:
        add_finding(session, "emergency-posting", title="Posted in lockdown")
        add_finding(session, "cadence", severity="warning", subject="account")
    assert route_findings(config, any_store, NOW) == 1
    assert route_findings(config, any_store, NOW + timedelta(minutes=1)) == 0
    [row] = rows(any_store)
    assert (row.route, row.channel, row.reason, row.severity) == ("emergency", "mail", "first", "critical")
    assert row.subject == "[CRITICAL] Posted in lockdown - Physics (facebook:111)"  # what, then where
    assert row.payload["thread"].startswith("socialmon.") and row.payload["kind"] == "finding"
    assert row.dedup_key == f"finding:{row.finding_id}:emergency:first:mail"
    assert "password" not in str(row.payload) and "host" not in row.payload  # no channel config in rows


def test_repeat_only_while_open_and_at_the_interval(store) -> None:
    config = make_config(CHANNELS, ROUTES)
    with store.session() as session:
        finding_id = add_finding(session, "emergency-posting").id
        add_finding(session, "profile-changed", severity="high", subject="profile")  # security: no repeat set
    assert route_findings(config, store, NOW) == 2
    assert route_findings(config, store, NOW + timedelta(minutes=14)) == 0
    assert route_findings(config, store, NOW + timedelta(minutes=15)) == 1
    assert route_findings(config, store, NOW + timedelta(minutes=16)) == 0
    # down for an hour: one reminder, not four
    assert route_findings(config, store, NOW + timedelta(minutes=75)) == 1
    reasons = [(r.route, r.reason) for r in rows(store)]
    assert reasons == [
        ("emergency", "first"),
        ("security", "first"),
        ("emergency", "repeat"),
        ("emergency", "repeat"),
    ]
    with store.session() as session:
        from monitor.db import FindingRow

        finding = session.get(FindingRow, finding_id)
        finding.status, finding.resolved_at, finding.resolve_reason = (
            "resolved",
            NOW + timedelta(minutes=80),
            "deleted",
        )
    assert route_findings(config, store, NOW + timedelta(minutes=95)) == 1  # the resolution, no repeat
    assert route_findings(config, store, NOW + timedelta(minutes=200)) == 0  # said once
    last = rows(store)[-1]
    assert (last.reason, last.route) == ("resolved", "emergency")
    assert last.subject == "[RESOLVED] A finding - Physics (facebook:111)"
    assert ["How", "deleted"] in last.payload["facts"]
    assert last.payload["thread"] == rows(store)[0].payload["thread"]  # threads with the first alert


def test_only_critical_findings_repeat(store) -> None:
    config = make_config(CHANNELS, ROUTES)
    with store.session() as session:
        # a queued scheduled post during an emergency is high, not critical: said once
        add_finding(session, "emergency-posting", severity="high", subject="scheduled:facebook:1")
    assert route_findings(config, store, NOW) == 1
    assert route_findings(config, store, NOW + timedelta(minutes=45)) == 0


def test_resolution_is_announced_only_where_the_finding_was_alerted(store) -> None:
    config = make_config(CHANNELS, ROUTES)
    with store.session() as session:
        add_finding(
            session, "cadence", severity="warning", subject="account", status="resolved", resolved_at=NOW
        )
    assert route_findings(config, store, NOW) == 0


def test_reopened_breach_is_a_new_first_alert(store) -> None:
    config = make_config(CHANNELS, ROUTES)
    with store.session() as session:
        add_finding(
            session,
            "profile-changed",
            severity="high",
            subject="profile",
            status="resolved",
            opened_at=NOW - timedelta(days=1),
            resolved_at=NOW - timedelta(hours=1),
        )
    with store.session() as session:
        add_finding(session, "profile-changed", severity="high", subject="profile")
    route_findings(config, store, NOW)
    firsts = [r for r in rows(store) if r.reason == "first"]
    assert len(firsts) == 1 and firsts[0].payload["thread"].endswith(str(int(NOW.timestamp())))


def test_manager_routing_copies_immediate_findings_to_the_accounts_manager(store) -> None:
    config = make_config(CHANNELS, ROUTES, "  manager_routing: true\n  manager_channel: mail")
    with store.session() as session:
        add_finding(session, "profile-changed", severity="high", subject="profile", account_id="physics-en")
        add_finding(session, "connector-health", severity="high", subject="poll", account_id="physics-en")
        add_finding(session, "cadence", severity="warning", subject="account", account_id="physics-en")
    route_findings(config, store, NOW)
    manager_rows = [r for r in rows(store) if r.route == "manager"]
    assert len(manager_rows) == 1
    assert manager_rows[0].payload["to"] == ["physics.manager@uni.ac.uk"]
    assert manager_rows[0].payload["check"] == "profile-changed"


def test_enqueue_alert_with_dedup_key_is_idempotent(any_store) -> None:
    config = make_config(CHANNELS, {**ROUTES, "operations": "{channels: [ops-mail, mail]}"})
    with any_store.session() as session:
        first = enqueue_alert(
            session,
            config,
            "operations",
            "operations",
            "high",
            "Token expired",
            "text",
            now=NOW,
            dedup_key="ops:1",
        )
        again = enqueue_alert(
            session,
            config,
            "operations",
            "operations",
            "high",
            "Token expired",
            "text",
            now=NOW,
            dedup_key="ops:1",
        )
        missing = enqueue_alert(session, config, "nowhere", "operations", "high", "x", now=NOW)
    assert len(first) == 2 and again == [] and missing == []
