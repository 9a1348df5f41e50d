"""A platform answering 429 with a reset time: the daemon sends no request before the reset."""

from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from daemon_support import Daemon, FakeX, Hit, socialmon, wait_for, write_config

from monitor.receivers import TeamsReceiver

pytestmark = pytest.mark.slow

WINDOW = 2.5  # at least this many seconds of 429s from the daemon's first request (to a whole second)


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
    # One poll records the platform's rate-limit headers (10,000 a window), so the budget lets an
    # emergency poll the non-central accounts every second: the most eager the daemon gets. With
    # X's documented 450 for mentions it would poll them only every 5 s, too seldom for the window.
    with ThreadPoolExecutor(2) as pool:  # independent: side by side
        polled = pool.submit(socialmon, "poll", "--account", "dept-a", config=config)
        declared = pool.submit(socialmon, "emergency", "start", "--reason", "drill", config=config)
        assert polled.result().returncode == 0 and declared.result().returncode == 0
    fake.limit_for = WINDOW  # the daemon's first request starts the 429s
    daemon = Daemon(config, tmp_path / "daemon.log").start()
    try:
        assert wait_for(lambda: any(h.status == 429 for h in fake.hits), 20), daemon.log()
        assert fake.reset_at is not None
        reset = fake.reset_at
        first_429 = min(h.at for h in fake.hits if h.status == 429)

        # Polls already in flight when the first 429 came back may still land; nothing new after that.
        def resumed() -> list[Hit]:
            return fake.timeline_requests("DeptA", reset)

        # Polling resumes after the reset (at reset + 1 s and a per-account stagger of up to 5 s),
        # every second: so, unblocked, dept-a would have been polled inside the window too.
        assert wait_for(lambda: len(resumed()) >= 2, reset + 10 - time.time()), daemon.log()
        first, second = resumed()[:2]
        assert first.status == second.status == 200 and second.at - first.at < 2.5, (first, second)
        early = fake.requests_between(first_429 + 1.0, reset)
        assert early == [], f"{len(early)} request(s) before the reset: {early[:3]}"
        assert "platform rate limited" in daemon.log()
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(10) == 0
    finally:
        daemon.kill()
        fake.stop()
        teams.stop()
