"""`run --once` (cron-style): one account failing never stops the others, and once it has failed
for longer than its tolerance the operations route hears about it (connector-health)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from daemon_support import FakeX, socialmon, wait_for, write_config

from monitor.db import AccountStateRow
from monitor.receivers import SmtpSink, TeamsReceiver
from monitor.store import Store

pytestmark = pytest.mark.slow


def failing_since(db: Path, account_id: str) -> datetime | None:
    store = Store(f"sqlite:///{db}")
    try:
        with store.session() as session:
            row = session.get(AccountStateRow, account_id)
            return row.failing_since if row is not None else None
    finally:
        store.dispose()


def test_a_failing_account_is_reported_to_operations_and_the_others_still_polled(tmp_path: Path) -> None:
    fake = FakeX(["CentralUni", "DeptA"]).start()  # "GoneDept" is unknown to the platform
    fake.post("DeptA", "Welcome back, everyone")
    teams = TeamsReceiver(tmp_path / "teams").start()
    smtp = SmtpSink(tmp_path / "mail")
    smtp.start()
    try:
        config = write_config(
            tmp_path / "socialmon.yaml",
            database=f"sqlite:///{tmp_path / 'sm.db'}",
            x_url=fake.url,
            teams_url=teams.url,
            smtp_port=smtp.port,
            extra="",
            accounts=[
                ("central-x", "CentralUni", "central"),
                ("dept-a", "DeptA", "departmental"),
                ("gone-dept", "GoneDept", "departmental"),
            ],
        )
        text = config.read_text().replace(
            "emergency_poll_interval: 2s}", "emergency_poll_interval: 2s, failure_tolerance: 1s}"
        )
        config.write_text(text)
        assert socialmon("db", "upgrade", config=config).returncode == 0

        first = socialmon("run", "--once", "--json", config=config)
        assert first.returncode == 1, first.stderr  # a poll failed: cron sees it
        report = json.loads(first.stdout.strip().splitlines()[-1])
        assert report["polled"]["central-x"] == "ok" and report["polled"]["dept-a"] == "ok"
        assert report["polled"]["gone-dept"] not in {"ok", "warning"}
        # connector-health fires once the account has failed for longer than the 1 s tolerance.
        since = failing_since(tmp_path / "sm.db", "gone-dept")
        assert since is not None
        assert wait_for(lambda: datetime.now(UTC) > since + timedelta(seconds=1), 5)
        second = socialmon("run", "--once", config=config)
        assert second.returncode == 1
        assert wait_for(lambda: any("gone-dept" in str(m) or "GoneDept" in str(m) for m in smtp.messages), 10)
        status = json.loads(socialmon("status", "--json", config=config).stdout.strip().splitlines()[-1])
        gone = next(a for a in status["accounts"] if a["id"] == "gone-dept")
        assert gone["open_findings"] >= 1 and gone["outcome"] not in {"ok", "warning"}
        assert status["outbox"]["pending"] == 0  # `--once` delivered what it queued
    finally:
        fake.stop()
        teams.stop()
        smtp.stop()
