"""sd_notify: READY=1 once started, WATCHDOG=1 while healthy, STOPPING=1 on SIGTERM (Type=notify)."""

from __future__ import annotations

import contextlib
import signal
import socket
import time
from pathlib import Path

import pytest
from daemon_support import Daemon, FakeX, socialmon, write_config

from monitor.receivers import TeamsReceiver

pytestmark = pytest.mark.slow


def test_the_daemon_talks_to_systemd(tmp_path: Path) -> None:
    fake = FakeX(["CentralUni"]).start()
    teams = TeamsReceiver(tmp_path / "teams").start()
    notify_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(notify_path))
    sock.settimeout(0.5)
    config = write_config(
        tmp_path / "socialmon.yaml",
        database=f"sqlite:///{tmp_path / 'sm.db'}",
        x_url=fake.url,
        teams_url=teams.url,
        smtp_port=9,
        accounts=[("central-x", "CentralUni", "central")],
    )
    assert socialmon("db", "upgrade", config=config).returncode == 0
    daemon = Daemon(config, tmp_path / "daemon.log", env={"NOTIFY_SOCKET": str(notify_path)}).start()
    received: list[str] = []

    def drain(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                received.append(sock.recv(4096).decode())

    try:
        drain(6)
        assert received[0] == "READY=1", received
        assert "STATUS=leading" in received and received.count("WATCHDOG=1") >= 2
        daemon.signal(signal.SIGTERM)
        drain(2)
        assert "STOPPING=1" in received
        assert daemon.wait(10) == 0
    finally:
        daemon.kill()
        sock.close()
        fake.stop()
        teams.stop()
