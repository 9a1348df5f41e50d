"""sd_notify: READY=1 once started, WATCHDOG=1 while healthy, STOPPING=1 on SIGTERM (Type=notify)."""

from __future__ import annotations

import contextlib
import signal
import socket
import time
from collections.abc import Callable
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
    sock.settimeout(0.2)
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

    def drain_until(done: Callable[[], bool], seconds: float) -> bool:
        """Collect notifications until `done()` holds, or `seconds` have passed."""
        deadline = time.monotonic() + seconds
        while not done() and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                received.append(sock.recv(4096).decode())
        return done()

    try:
        # The watchdog is fed once a second while healthy: two pings after "leading" show it repeats.
        def leading_and_fed() -> bool:
            return (
                "STATUS=leading" in received
                and received[received.index("STATUS=leading") :].count("WATCHDOG=1") >= 2
            )

        assert drain_until(leading_and_fed, 20), received
        assert received[0] == "READY=1", received
        daemon.signal(signal.SIGTERM)
        assert drain_until(lambda: "STOPPING=1" in received, 10), received
        assert daemon.wait(10) == 0
    finally:
        daemon.kill()
        sock.close()
        fake.stop()
        teams.stop()
