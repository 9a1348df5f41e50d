"""Emergency state, its notices (claimed once), and the `socialmon emergency` commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from monitor.cli.main import cli
from monitor.config import parse_config
from monitor.db import AlertRow, EmergencyRow, FindingRow, ScheduledPostRow
from monitor.emergency import (
    EmergencyError,
    active_emergency,
    pending_changes,
    send_summary,
    start_emergency,
    stop_emergency,
    take_up,
)
from monitor.store import Store

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

CONFIG = """
database: sqlite:///{db}
alerts:
  channels:
    oncall: {{type: teams, url: "http://127.0.0.1:9/hook"}}
  routes:
    emergency: {{channels: [oncall]}}
accounts:
  - {{id: central-x, platform: x, handle: Central, name: Central, role: central,
      language: {{mode: bilingual}}}}
  - {{id: dept-fb, platform: facebook, handle: Dept, name: Dept Page, language: {{mode: bilingual}}}}
  - {{id: central-fb, platform: facebook, handle: Hq, name: HQ Page, role: central,
      language: {{mode: bilingual}}}}
"""


@pytest.fixture
def config(tmp_path: Path):  # type: ignore[no-untyped-def]
    return parse_config(CONFIG.format(db=tmp_path / "test.db"), env={})


def emergency_rows(store: Store) -> list[AlertRow]:
    with store.session() as session:
        return list(
            session.scalars(select(AlertRow).where(AlertRow.route == "emergency").order_by(AlertRow.id))
        )


def test_start_stop_and_active(store: Store) -> None:
    assert _active(store) is None
    row = start_emergency(store, "Lockdown: campus incident", "duty-officer", now=T0)
    assert _active(store).id == row.id  # type: ignore[union-attr]
    with pytest.raises(EmergencyError, match="already active"):
        start_emergency(store, "again", "someone", now=T0)
    ended = stop_emergency(store, "duty-officer", now=T0 + timedelta(minutes=30))
    assert ended is not None and ended.ended_at == T0 + timedelta(minutes=30)
    assert _active(store) is None
    assert stop_emergency(store, "x", now=T0) is None


def test_a_reason_is_required(store: Store) -> None:
    with pytest.raises(EmergencyError, match="reason"):
        start_emergency(store, "   ", "me")


def _active(store: Store) -> EmergencyRow | None:
    with store.session() as session:
        return active_emergency(session)


def test_take_up_writes_the_notice_once_with_queued_non_central_posts(store: Store, config) -> None:  # type: ignore[no-untyped-def]
    with store.session() as session:
        for account, native, text in [
            ("dept-fb", "s1", "Open day tomorrow!"),
            ("central-fb", "s2", "Central announcement"),
        ]:
            session.add(
                ScheduledPostRow(
                    platform="facebook",
                    native_id=native,
                    account_id=account,
                    scheduled_for=T0 + timedelta(hours=2),
                    text=text,
                    url=f"https://facebook.example/{native}",
                    first_seen_at=T0,
                    last_seen_at=T0,
                    gone_at=None,
                )
            )
    row = start_emergency(store, "Lockdown", "duty", now=T0)
    with store.session() as session:
        assert pending_changes(session)[0].kind == "started"
    assert take_up(store, config, row.id, now=T0 + timedelta(seconds=2)) is True
    assert (
        take_up(store, config, row.id, now=T0 + timedelta(seconds=4)) is False
    )  # a second instance, or a restart
    alerts = emergency_rows(store)
    assert len(alerts) == 1
    text = alerts[0].payload["text"]
    assert alerts[0].severity == "critical" and alerts[0].channel == "oncall"
    assert "Open day tomorrow!" in text and "Dept Page" in text
    assert "Central announcement" not in text  # central accounts may keep posting
    assert "1 non-central account" in text
    with store.session() as session:
        assert session.get(EmergencyRow, row.id).taken_up_at == T0 + timedelta(seconds=2)
        assert pending_changes(session) == []


def test_summary_counts_non_central_posts_and_is_sent_once(store: Store, config) -> None:  # type: ignore[no-untyped-def]
    row = start_emergency(store, "Lockdown", "duty", now=T0)
    take_up(store, config, row.id, now=T0)
    with store.session() as session:
        session.add(
            FindingRow(
                fingerprint="f" * 16,
                check="emergency-posting",
                account_id="dept-fb",
                subject="post:facebook:1",
                severity="critical",
                status="open",
                title="Posted during the emergency",
                since=T0 + timedelta(minutes=5),
                opened_at=T0 + timedelta(minutes=5),
                last_seen_at=T0 + timedelta(minutes=5),
                immediate=True,
            )
        )
    assert send_summary(store, config, row.id, now=T0) is False  # not ended yet
    stop_emergency(store, "duty", now=T0 + timedelta(minutes=70))
    assert send_summary(store, config, row.id, now=T0 + timedelta(minutes=71)) is True
    assert send_summary(store, config, row.id, now=T0 + timedelta(minutes=72)) is False
    summary = emergency_rows(store)[-1]
    assert summary.subject == "Emergency over: 1 non-central post(s) seen"
    assert "1 h 10 min" in summary.payload["text"] and "Dept Page" in summary.payload["text"]
    # The finding is still open when the summary is written, but the checks that run next resolve it
    # with "the emergency ended" (and notify that): the summary says the same, never "still open".
    assert "(resolved: the emergency ended)" in summary.payload["text"]
    assert "still open" not in summary.payload["text"]


def test_summary_counts_queued_scheduled_posts_apart_from_posts(store: Store, config) -> None:  # type: ignore[no-untyped-def]
    row = start_emergency(store, "Lockdown", "duty", now=T0)
    take_up(store, config, row.id, now=T0)
    with store.session() as session:
        for n, (subject, title) in enumerate(
            [
                ("post:facebook:1", "Non-central account posted during an emergency"),
                (
                    "scheduled:facebook:9",
                    "Scheduled post queued on a non-central account during an emergency",
                ),
            ]
        ):
            session.add(
                FindingRow(
                    fingerprint=f"{n}" * 16,
                    check="emergency-posting",
                    account_id="dept-fb",
                    subject=subject,
                    severity="critical" if n == 0 else "high",
                    status="open",
                    title=title,
                    since=T0 + timedelta(minutes=5),
                    opened_at=T0 + timedelta(minutes=5),
                    last_seen_at=T0 + timedelta(minutes=5),
                    immediate=True,
                )
            )
    stop_emergency(store, "duty", now=T0 + timedelta(minutes=10))
    assert send_summary(store, config, row.id, now=T0 + timedelta(minutes=11)) is True
    summary = emergency_rows(store)[-1]
    # a queued post did not go out: it is not counted as a post seen
    assert summary.subject == "Emergency over: 1 non-central post(s) seen, 1 scheduled post(s) queued"
    text = summary.payload["text"]
    assert "Posts by non-central accounts during the emergency: 1." in text
    assert "Scheduled posts found queued on non-central accounts: 1." in text


def test_started_and_stopped_before_take_up_sends_only_the_summary(store: Store, config) -> None:  # type: ignore[no-untyped-def]
    row = start_emergency(store, "Drill", "duty", now=T0)
    stop_emergency(store, "duty", now=T0 + timedelta(seconds=1))
    assert take_up(store, config, row.id, now=T0 + timedelta(seconds=2)) is True
    assert emergency_rows(store) == []
    assert send_summary(store, config, row.id, now=T0 + timedelta(seconds=2)) is True
    assert [a.subject for a in emergency_rows(store)] == ["Emergency over: 0 non-central post(s) seen"]


def _cli_config(tmp_path: Path) -> Path:
    path = tmp_path / "socialmon.yaml"
    path.write_text(CONFIG.format(db=tmp_path / "cli.db"))
    Store(f"sqlite:///{tmp_path / 'cli.db'}").upgrade()
    return path


def test_cli_start_status_stop(tmp_path: Path) -> None:
    path = str(_cli_config(tmp_path))
    runner = CliRunner()
    out = runner.invoke(cli, ["emergency", "status", "-c", path, "--json"])
    assert out.exit_code == 0 and json.loads(out.stdout.splitlines()[-1]) == {"active": False}
    out = runner.invoke(
        cli, ["emergency", "start", "-c", path, "--reason", "Lockdown", "--by", "ops", "--json"]
    )
    assert out.exit_code == 0, out.output
    started = json.loads(out.stdout.splitlines()[-1])
    assert started["active"] and started["started_by"] == "ops" and started["reason"] == "Lockdown"
    assert "no running `socialmon run`" in started["daemon_warning"]
    again = runner.invoke(cli, ["emergency", "start", "-c", path, "--reason", "x"])
    assert again.exit_code == 1 and "already active" in again.output
    status = runner.invoke(cli, ["emergency", "status", "-c", path])
    assert "EMERGENCY ACTIVE" in status.output and "NOT yet taken up" in status.output
    stop = runner.invoke(cli, ["emergency", "stop", "-c", path, "--by", "ops", "--json"])
    assert stop.exit_code == 0 and json.loads(stop.stdout.splitlines()[-1])["ended_by"] == "ops"
    assert "no emergency is active" in runner.invoke(cli, ["emergency", "stop", "-c", path]).output
    assert "no emergency is active" in runner.invoke(cli, ["emergency", "status", "-c", path]).output


def test_cli_start_without_a_daemon_warns_and_promises_no_take_up(tmp_path: Path) -> None:
    path = str(_cli_config(tmp_path))
    out = CliRunner().invoke(cli, ["emergency", "start", "-c", path, "--reason", "Drill", "--by", "qa"])
    assert out.exit_code == 0, out.output
    assert "declared" in out.stdout
    assert "takes it up" not in out.output  # nothing would: no daemon has a heartbeat
    assert "no running `socialmon run` has a recent heartbeat" in out.stderr
    stop = CliRunner().invoke(cli, ["emergency", "stop", "-c", path, "--by", "qa"])
    assert stop.exit_code == 0, stop.output
    assert "the summary is sent when the daemon runs" in stop.stdout
    assert "the daemon sends the summary" not in stop.output
    assert "no running `socialmon run` has a recent heartbeat" in stop.stderr


def test_cli_start_needs_a_reason(tmp_path: Path) -> None:
    path = str(_cli_config(tmp_path))
    out = CliRunner().invoke(cli, ["emergency", "start", "-c", path])
    assert out.exit_code == 2 and "--reason" in out.output
