"""On-call first: a dead channel delays only itself, emergency goes before digest, and a channel that
keeps timing out is marked broken and reported to operations. SQLite and PostgreSQL.

Before: deliveries ran one after another, so a mail server that accepted the connection and never
answered held every on-call Teams alert claimed after it for the whole SMTP timeout.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from alerts_support import NOW, email_channel, make_config, teams_channel
from sqlalchemy import select

from monitor.channel_health import BROKEN_AFTER
from monitor.db import AlertRow, ChannelHealthRow
from monitor.outbox import claim_due, send_due
from monitor.receivers import TeamsReceiver
from monitor.routing import enqueue_alert
from monitor.store import Store
from tests.faults_support import blackhole_server


@pytest.fixture
def teams(tmp_path: Path) -> Any:
    with TeamsReceiver(tmp_path / "teams") as receiver:
        yield receiver


def _queue(store: Store, config: Any, route: str, n: int, subject: str) -> list[int]:
    ids: list[int] = []
    with store.session() as session:
        for i in range(n):
            ids += enqueue_alert(
                session,
                config,
                route,
                "first",
                "critical",
                f"{subject} {i}",
                "body",
                now=NOW,
                kind="notice",
                dedup_key=f"t:{route}:{subject}:{i}",
            )
    return ids


def _config(teams_url: str, smtp_port: int, email_timeout: str = "2s") -> Any:
    return make_config(
        {
            "oncall-teams": teams_channel(teams_url),
            "oncall-email": email_channel(smtp_port).replace("timeout: 5s", f"timeout: {email_timeout}"),
            "ops-teams": teams_channel(teams_url),
        },
        {
            "emergency": "{channels: [oncall-teams, oncall-email]}",
            "digest": '{channels: [oncall-teams], at: "08:30"}',
            "operations": "{channels: [ops-teams, oncall-email]}",
        },
    )


def test_a_black_holed_mail_server_does_not_delay_on_call_teams(any_store: Store, teams: Any) -> None:
    with blackhole_server() as smtp_port:
        config = _config(teams.url, smtp_port, email_timeout="1.5s")
        _queue(any_store, config, "emergency", 3, "Emergency")
        arrived: list[float] = []
        started = time.monotonic()
        done = threading.Event()

        def watch() -> None:
            seen = 0
            while not done.is_set():
                if len(teams.messages) > seen:
                    arrived.extend([time.monotonic() - started] * (len(teams.messages) - seen))
                    seen = len(teams.messages)
                time.sleep(0.01)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        report = send_due(config, any_store, now=NOW, instance_id="test")
        done.set()
        watcher.join(2)

    assert len(arrived) == 3
    assert max(arrived) < 1.2, arrived  # before: 1.5, 3 and 4.5 s (one SMTP timeout each)
    assert report.delivered == 3 and report.retried == 1 and report.released == 2
    with any_store.session() as session:
        email_rows = session.scalars(select(AlertRow).where(AlertRow.channel == "oncall-email")).all()
        assert sorted(r.attempts for r in email_rows) == [0, 0, 1]  # the rest untried, not failed
        assert all(r.status == "pending" for r in email_rows)


def test_emergency_and_security_are_claimed_before_digest_and_operations(
    any_store: Store, teams: Any
) -> None:
    config = _config(teams.url, 9)
    digest = _queue(any_store, config, "digest", 2, "Digest")  # older rows, same due time
    emergency = _queue(any_store, config, "emergency", 1, "Emergency")
    claimed = claim_due(any_store, NOW, "test", limit=2)
    assert [r.route for r in claimed] == ["emergency", "emergency"]
    assert not set(digest) & {r.id for r in claimed} and set(emergency) <= {r.id for r in claimed}


def test_a_channel_that_keeps_timing_out_is_marked_broken_and_reported(any_store: Store, teams: Any) -> None:
    with blackhole_server() as smtp_port:
        config = _config(teams.url, smtp_port, email_timeout="0.3s")  # BROKEN_AFTER timeouts, 0.3 s each
        _queue(any_store, config, "emergency", 1, "Emergency")
        for _ in range(BROKEN_AFTER):
            send_due(config, any_store, now=NOW, instance_id="test", ids=None)
            with any_store.session() as session:  # due again at once, as a later run would find it
                for row in session.scalars(select(AlertRow).where(AlertRow.channel == "oncall-email")):
                    row.next_attempt_at = NOW
        with any_store.session() as session:
            health = session.get(ChannelHealthRow, "oncall-email")
            assert health is not None and health.broken_since == NOW
            assert health.consecutive_timeouts == BROKEN_AFTER
            ops = session.scalars(select(AlertRow).where(AlertRow.route == "operations")).all()
            assert [r.channel for r in ops] == ["ops-teams"]  # never through the broken channel
            assert "marked broken" in ops[0].subject
        send_due(config, any_store, now=NOW, instance_id="test")
    assert any("marked broken" in str(m) for m in teams.messages)
