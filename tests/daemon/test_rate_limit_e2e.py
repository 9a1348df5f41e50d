"""A platform answering 429 with a reset time: the daemon sends no request before the reset."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from daemon_support import Daemon, FakeX, socialmon, wait_for, write_config

from monitor.receivers import TeamsReceiver

pytestmark = pytest.mark.slow


def test_no_request_before_the_reset_then_polling_resumes(tmp_path: Path) -> None:
    fake = FakeX(["CentralUni", "DeptA", "DeptB"]).start()
    teams = TeamsReceiver(tmp_path / "teams").start()
    config = write_config(
        tmp_path / "socialmon.yaml",
        database=f"sqlite:///{tmp_path / 'sm.db'}",
        x_url=fake.url,
        teams_url=teams.url,
        smtp_port=9,
        emergency_interval="1s",
        accounts=[
            ("central-x", "CentralUni", "central"),
            ("dept-a", "DeptA", "departmental"),
            ("dept-b", "DeptB", "departmental"),
        ],
    )
    assert socialmon("db", "upgrade", config=config).returncode == 0
    # An emergency polls the non-central accounts every second: the most eager the daemon gets.
    assert socialmon("emergency", "start", "--reason", "drill", config=config).returncode == 0
    reset = int(time.time()) + 9
    fake.reset_at = reset
    daemon = Daemon(config, tmp_path / "daemon.log").start()
    try:
        assert wait_for(lambda: any(h.status == 429 for h in fake.hits), 20), daemon.log()
        first_429 = min(h.at for h in fake.hits if h.status == 429)
        # Polls already in flight when the first 429 came back may still land; nothing new after that.
        assert wait_for(lambda: time.time() > reset + 4, 15)
        early = fake.requests_between(first_429 + 1.0, reset)
        assert early == [], f"{len(early)} request(s) before the reset: {early[:3]}"
        assert any(h.status == 200 for h in fake.requests_between(reset, reset + 4)), "polling resumed"
        assert "platform rate limited" in daemon.log()
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(10) == 0
    finally:
        daemon.kill()
        fake.stop()
        teams.stop()
