"""`socialmon status`: what operators see, from real rows in a real store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli.main import cli
from monitor.cli.status_cmd import collect_status
from monitor.config import parse_config
from monitor.db import AccountStateRow, AlertRow, FindingRow, InstanceRow, PollRunRow
from monitor.emergency import start_emergency
from monitor.store import Store

CONFIG = """
database: sqlite:///{db}
accounts:
  - {{id: central-x, platform: x, handle: Central, name: Central, role: central,
      language: {{mode: bilingual}}}}
  - {{id: dept-fb, platform: facebook, handle: Dept, name: Dept, language: {{mode: bilingual}}}}
"""
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(autouse=True)
def _fresh_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """`status` judges heartbeats against the real clock: NOW must be this test's now, not import time."""
    monkeypatch.setitem(globals(), "NOW", datetime.now(UTC).replace(microsecond=0))


def fill(store: Store) -> None:
    with store.session() as session:
        session.add(PollRunRow(account_id="central-x", started_at=NOW - timedelta(minutes=20), status="ok"))
        session.add(
            PollRunRow(
                account_id="central-x",
                started_at=NOW - timedelta(minutes=5),
                status="auth_expired",
                error="X: token expired",
            )
        )
        session.add(
            AccountStateRow(account_id="central-x", next_poll_at=NOW + timedelta(minutes=10), slowed=True)
        )
        session.add(
            FindingRow(
                fingerprint="a" * 16,
                check="cadence",
                account_id="central-x",
                subject="account",
                severity="warning",
                since=NOW,
                opened_at=NOW,
                last_seen_at=NOW,
            )
        )
        for status in ("pending", "pending", "failed", "delivered"):
            session.add(
                AlertRow(
                    route="digest",
                    channel="mail",
                    reason="first",
                    status=status,
                    created_at=NOW - timedelta(minutes=3),
                    next_attempt_at=NOW,
                )
            )
        session.add(InstanceRow(instance_id="h:1:a", started_at=NOW, heartbeat_at=NOW, is_leader=True))
        session.add(InstanceRow(instance_id="h:2:b", started_at=NOW, heartbeat_at=NOW, is_leader=False))
        session.add(InstanceRow(instance_id="h:3:old", started_at=NOW, heartbeat_at=NOW - timedelta(hours=1)))


def test_collect_status(store: Store, tmp_path: Path) -> None:
    config = parse_config(CONFIG.format(db=tmp_path / "x.db"), env={})
    fill(store)
    start_emergency(store, "Lockdown", "ops")
    info = collect_status(config, store, now=NOW)
    central, dept = info["accounts"]
    assert central["outcome"] == "auth_expired" and central["error"] == "X: token expired"
    assert central["last_poll"] == (NOW - timedelta(minutes=5)).isoformat()
    assert central["next_poll"] == (NOW + timedelta(minutes=10)).isoformat()
    assert central["open_findings"] == 1 and central["slowed"] is True
    assert dept["last_poll"] is None and dept["open_findings"] == 0
    assert info["outbox"]["pending"] == 2 and info["outbox"]["failed"] == 1
    assert info["emergency"]["active"] and info["emergency"]["reason"] == "Lockdown"
    assert info["leader"] == "h:1:a"
    assert [i["stale"] for i in info["instances"]] == [False, False, True]


def test_status_command_text_and_json(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG.format(db=tmp_path / "s.db"))
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.upgrade()
    fill(store)
    runner = CliRunner()
    out = runner.invoke(cli, ["status", "-c", str(path), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout.splitlines()[-1])["outbox"]["pending"] == 2
    text = runner.invoke(cli, ["status", "-c", str(path)]).stdout
    assert "emergency: none" in text and "leader: h:1:a" in text and "standby: h:2:b" in text
    assert "outbox: 2 pending, 0 sending, 1 failed" in text
    assert "auth_expired (slowed)" in text
    # a long outcome does not push its row's later columns out of line with the header
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("account "))
    slowed = next(line for line in lines if "auth_expired (slowed)" in line)
    assert slowed.index("auth_expired") == header.index("outcome")
    assert slowed.rstrip().rindex(" ") + 1 == header.index("open")


def test_status_on_an_unmigrated_database_says_what_to_run(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG.format(db=tmp_path / "empty.db"))
    out = CliRunner().invoke(cli, ["status", "-c", str(path)])
    assert out.exit_code == 2 and "socialmon db upgrade" in out.output


def test_a_row_whose_last_poll_is_older_than_twice_the_interval_is_stale_not_ok(tmp_path: Path) -> None:
    """Before: a daemon that stopped polling (database unwritable) left every row saying "ok"."""
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG.format(db=tmp_path / "s.db") + "policy: {poll_interval: 15m}\n")
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.upgrade()
    with store.session() as session:
        session.add(PollRunRow(account_id="central-x", started_at=NOW - timedelta(minutes=31), status="ok"))
        session.add(PollRunRow(account_id="dept-fb", started_at=NOW - timedelta(minutes=29), status="ok"))
    runner = CliRunner()
    info = json.loads(runner.invoke(cli, ["status", "-c", str(path), "--json"]).stdout.splitlines()[-1])
    assert [(a["id"], a["stale"]) for a in info["accounts"]] == [("central-x", True), ("dept-fb", False)]
    text = runner.invoke(cli, ["status", "-c", str(path)]).stdout
    central = next(line for line in text.splitlines() if line.startswith("central-x"))
    dept = next(line for line in text.splitlines() if line.startswith("dept-fb"))
    assert "STALE (last: ok)" in central and "STALE" not in dept
