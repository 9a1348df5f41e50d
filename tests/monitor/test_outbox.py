"""The outbox sender against real local receivers, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from alerts_support import NOW, email_channel, make_config, teams_channel
from sqlalchemy import select
from structlog.testing import capture_logs

from monitor.db import AlertAttemptRow, AlertRow
from monitor.outbox import RetryPolicy, send_due
from monitor.receivers import SmtpSink, TeamsReceiver, free_port
from monitor.routing import enqueue_alert
from monitor.store import Store

FAST = RetryPolicy(
    base=timedelta(seconds=10), cap=timedelta(minutes=10), max_attempts=4, lease=timedelta(minutes=5)
)


@pytest.fixture
def teams(tmp_path: Path):
    with TeamsReceiver(tmp_path / "teams") as receiver:
        yield receiver


def queue(store, config, route: str = "emergency", n: int = 1, subject: str = "Alert") -> list[int]:
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
                dedup_key=f"test:{subject}:{i}",
            )
    return ids


def alert(store, alert_id: int) -> AlertRow:
    with store.session() as session:
        row = session.get(AlertRow, alert_id)
        session.expunge(row)
        return row


def attempts(store, alert_id: int) -> list[AlertAttemptRow]:
    with store.session() as session:
        return list(
            session.scalars(
                select(AlertAttemptRow)
                .where(AlertAttemptRow.alert_id == alert_id)
                .order_by(AlertAttemptRow.id)
            )
        )


def test_delivers_and_records_the_attempt(any_store, teams) -> None:
    config = make_config({"teams": teams_channel(teams.url)}, {"emergency": "{channels: [teams]}"})
    [alert_id] = queue(any_store, config)
    report = send_due(config, any_store, NOW, "test-1")
    assert (report.claimed, report.delivered) == (1, 1)
    assert len(teams.messages) == 1
    row = alert(any_store, alert_id)
    assert (row.status, row.attempts, row.delivered_at, row.claimed_by) == ("delivered", 1, NOW, None)
    assert [a.outcome for a in attempts(any_store, alert_id)] == ["delivered"]
    assert send_due(config, any_store, NOW + timedelta(hours=1)).claimed == 0  # never twice


def test_transient_failure_backs_off_then_delivers(any_store, teams) -> None:
    config = make_config({"teams": teams_channel(teams.url)}, {"emergency": "{channels: [teams]}"})
    [alert_id] = queue(any_store, config)
    teams.script(500, 503)
    first = send_due(config, any_store, NOW, policy=FAST)
    assert first.retried == 1
    row = alert(any_store, alert_id)
    assert row.status == "pending" and row.attempts == 1
    assert NOW + timedelta(seconds=5) <= row.next_attempt_at <= NOW + timedelta(seconds=10)
    assert send_due(config, any_store, NOW + timedelta(seconds=4), policy=FAST).claimed == 0  # not due yet
    second = send_due(config, any_store, NOW + timedelta(seconds=10), policy=FAST)
    assert second.retried == 1
    row = alert(any_store, alert_id)
    step = row.next_attempt_at - (NOW + timedelta(seconds=10))
    assert timedelta(seconds=10) <= step <= timedelta(seconds=20)  # the second step doubles
    third = send_due(config, any_store, NOW + timedelta(minutes=1), policy=FAST)
    assert third.delivered == 1
    assert [a.outcome for a in attempts(any_store, alert_id)] == ["retry", "retry", "delivered"]
    assert len(teams.messages) == 1


def test_429_retry_after_is_honoured(any_store, teams) -> None:
    config = make_config({"teams": teams_channel(teams.url)}, {"emergency": "{channels: [teams]}"})
    [alert_id] = queue(any_store, config)
    teams.script((429, {"Retry-After": "120"}))
    report = send_due(config, any_store, NOW, policy=FAST)
    assert report.retried == 1
    row = alert(any_store, alert_id)
    assert row.next_attempt_at == NOW + timedelta(seconds=120)
    assert "HTTP 429" in row.last_error


def test_gives_up_after_max_attempts_and_tells_operations(any_store, teams, tmp_path: Path) -> None:
    with SmtpSink(tmp_path / "mail") as sink:
        config = make_config(
            {"teams": teams_channel(teams.url), "ops-mail": email_channel(sink.port)},
            {"emergency": "{channels: [teams]}", "operations": "{channels: [teams, ops-mail]}"},
        )
        [alert_id] = queue(any_store, config)
        teams.default_status = 500
        when = NOW
        for _ in range(FAST.max_attempts):
            send_due(config, any_store, when, policy=FAST, ids=[alert_id])
            when += FAST.cap
        row = alert(any_store, alert_id)
        assert row.status == "failed" and row.attempts == FAST.max_attempts
        assert row.last_error.startswith(f"gave up after {FAST.max_attempts} attempts")
        teams.default_status = 202
        send_due(config, any_store, when, policy=FAST)
        assert len(sink.messages) == 1  # the operations notice, through the *other* channel only
        assert "Alert channel 'teams' is failing" in sink.messages[0]["Subject"]
        assert teams.messages == []


def test_permanent_failure_fails_at_once_and_raises_one_operations_alert_a_day(
    any_store, teams, tmp_path: Path
) -> None:
    with SmtpSink(tmp_path / "mail") as sink:
        config = make_config(
            {"teams": teams_channel(teams.url), "ops-mail": email_channel(sink.port)},
            {"emergency": "{channels: [teams]}", "operations": "{channels: [ops-mail]}"},
        )
        ids = queue(any_store, config, n=3)
        teams.script(404, 403, 401)
        report = send_due(config, any_store, NOW, ids=ids)
        assert report.failed == 3
        assert all(alert(any_store, i).status == "failed" for i in ids)
        assert "check the channel's URL" in alert(any_store, ids[0]).last_error
        send_due(config, any_store, NOW)
        assert len(sink.messages) == 1  # one notice for the channel, not one per alert


def test_400_is_permanent_and_500_is_not(any_store, teams) -> None:
    config = make_config({"teams": teams_channel(teams.url)}, {"emergency": "{channels: [teams]}"})
    bad, flaky = queue(any_store, config, n=2)
    teams.script((400, {}, "Bad payload"), 500)
    report = send_due(config, any_store, NOW)
    outcomes = {r.alert_id: r.outcome for r in report.results}
    assert outcomes == {bad: "failed", flaky: "retry"}


def test_row_stuck_in_sending_is_reclaimed_after_the_lease(any_store, teams) -> None:
    config = make_config({"teams": teams_channel(teams.url)}, {"emergency": "{channels: [teams]}"})
    [alert_id] = queue(any_store, config)
    with any_store.session() as session:
        row = session.get(AlertRow, alert_id)
        row.status, row.claimed_at, row.claimed_by = "sending", NOW, "dead-host:1"
    assert send_due(config, any_store, NOW + timedelta(minutes=4), policy=FAST).claimed == 0  # lease holds
    report = send_due(config, any_store, NOW + timedelta(minutes=6), policy=FAST)
    assert (report.reclaimed, report.delivered) == (1, 1)
    assert [a.outcome for a in attempts(any_store, alert_id)] == ["interrupted", "delivered"]


CLAIM_AND_HANG = textwrap.dedent(
    """
    import sys, time
    from datetime import datetime
    from monitor.outbox import claim_due
    from monitor.store import Store

    store = Store(sys.argv[1])
    rows = claim_due(store, datetime.fromisoformat(sys.argv[2]), "doomed:1", 100)
    print("claimed", len(rows), flush=True)
    time.sleep(600)  # killed here: between claim and delivery
    """
)


def test_crash_between_claim_and_delivery_delivers_once_after_restart(any_store, teams) -> None:
    config = make_config({"teams": teams_channel(teams.url)}, {"emergency": "{channels: [teams]}"})
    ids = queue(any_store, config, n=3)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        [sys.executable, "-c", CLAIM_AND_HANG, any_store.url, NOW.isoformat()],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "claimed 3"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert {alert(any_store, i).status for i in ids} == {"sending"}
    assert send_due(config, any_store, NOW + timedelta(minutes=1)).claimed == 0  # within the lease
    report = send_due(config, any_store, NOW + timedelta(minutes=6))
    assert report.delivered == 3 and report.reclaimed == 3
    assert send_due(config, any_store, NOW + timedelta(hours=2)).claimed == 0
    subjects = sorted(m["attachments"][0]["content"]["body"][0]["text"] for m in teams.messages)
    assert subjects == ["Alert 0", "Alert 1", "Alert 2"]  # each exactly once


def test_two_concurrent_senders_never_send_the_same_row(any_store, teams) -> None:
    config = make_config({"teams": teams_channel(teams.url)}, {"emergency": "{channels: [teams]}"})
    queue(any_store, config, n=120)
    barrier = threading.Barrier(2)
    reports = []

    def sender(name: str) -> None:
        store = Store(any_store.url)  # its own engine and connections, like another process
        try:
            barrier.wait()
            while True:
                report = send_due(config, store, NOW, name, limit=7)
                reports.append((name, report.delivered))
                if report.claimed == 0:
                    break
        finally:
            store.dispose()

    threads = [threading.Thread(target=sender, args=(f"sender-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    texts = [m["attachments"][0]["content"]["body"][0]["text"] for m in teams.messages]
    assert len(texts) == 120 and len(set(texts)) == 120
    assert sum(d for _, d in reports) == 120
    with any_store.session() as session:
        assert set(session.scalars(select(AlertRow.status))) == {"delivered"}
        assert len(list(session.scalars(select(AlertAttemptRow)))) == 120


def test_secrets_never_reach_logs_attempts_or_errors(any_store, teams, tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}/webhookb2/{teams.secret}-closed/IncomingWebhook"
    with SmtpSink(tmp_path / "mail", credentials={"socialmon": "right-password"}) as sink:
        config = make_config(
            {
                "teams": teams_channel(teams.url),
                "gone": teams_channel(closed),
                "mail": email_channel(sink.port, extra="username: socialmon, password: s3cret-Pa55word"),
            },
            {"emergency": "{channels: [teams, gone, mail]}"},
        )
        ids = queue(any_store, config)
        teams.script((404, {}, f"no webhook at {teams.url}"))
        with capture_logs() as logs:
            report = send_due(config, any_store, NOW)
    assert report.delivered == 0 and len(ids) == 3
    with any_store.session() as session:
        stored = [r.last_error or "" for r in session.scalars(select(AlertRow))]
        stored += [a.error or "" for a in session.scalars(select(AlertAttemptRow))]
    everything = "\n".join(stored + [str(entry) for entry in logs] + [r.error or "" for r in report.results])
    assert "HTTP 404" in everything and "cannot connect" in everything and "login refused" in everything
    for secret in (teams.secret, teams.url, closed, "s3cret-Pa55word", "webhookb2/"):
        assert secret not in everything
