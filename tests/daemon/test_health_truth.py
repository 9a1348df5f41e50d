"""/healthz tells the truth: when the database cannot be written, it answers 503 within a minute and
says why, and the systemd watchdog is no longer fed (so systemd restarts the service).

Before: the heartbeat failure was only logged; /healthz stayed 200 and WATCHDOG=1 kept coming.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sqlite3
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from daemon_support import Daemon, FakeX, socialmon, wait_for, write_config

from monitor.receivers import TeamsReceiver

pytestmark = pytest.mark.slow


def _healthz(port: int) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_healthz_503_and_no_watchdog_while_the_database_is_locked(tmp_path: Path) -> None:
    fake = FakeX(["CentralUni"]).start()
    teams = TeamsReceiver(tmp_path / "teams").start()
    notify_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(notify_path))
    sock.settimeout(0.2)
    db = tmp_path / "sm.db"
    config = write_config(
        tmp_path / "socialmon.yaml",
        database=f"sqlite:///{db}",
        x_url=fake.url,
        teams_url=teams.url,
        smtp_port=9,
        accounts=[("central-x", "CentralUni", "central")],
        heartbeat_interval="1s",  # the database probe; production's 10 s only makes the test wait
    )
    assert socialmon("db", "upgrade", config=config).returncode == 0
    daemon = Daemon(config, tmp_path / "daemon.log", env={"NOTIFY_SOCKET": str(notify_path)}).start()
    locker: sqlite3.Connection | None = None
    received: list[tuple[float, str]] = []

    def drain(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                received.append((time.monotonic(), sock.recv(4096).decode()))

    try:
        assert daemon.wait_log(r"metrics listening", 20), daemon.log()
        match = re.search(r"127\.0\.0\.1:(\d+)/metrics", daemon.log())
        assert match, daemon.log()
        port = int(match[1])
        assert wait_for(lambda: _healthz(port)[0] == 200, 20)

        locker = sqlite3.connect(db, timeout=1, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")  # no other writer until we let go
        locked_at = time.monotonic()
        unhealthy_at = None
        # The first 503 may name the control jobs that the lock also stalls (a truthful reason on a
        # loaded machine); within the minute the body must also say the database is the cause.
        while time.monotonic() - locked_at < 60:
            drain(0.5)
            code, body = _healthz(port)
            if code == 503 and unhealthy_at is None:
                unhealthy_at = time.monotonic()
            if code == 503 and body.get("database"):
                break
        assert unhealthy_at is not None, "no 503 within a minute of the database becoming unwritable"
        assert "not writable" in str(body.get("database")) and "locked" in str(body.get("database"))
        drain(4)
        assert not [s for t, s in received if t > unhealthy_at + 0.5 and s == "WATCHDOG=1"]

        locker.execute("ROLLBACK")
        assert wait_for(lambda: _healthz(port)[0] == 200, 40), "healthy again once writable"
    finally:
        if locker is not None:
            locker.close()
        daemon.kill()
        sock.close()
        fake.stop()
        teams.stop()
