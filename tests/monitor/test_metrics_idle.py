"""The metrics/health server closes idle connections (before: each held a thread forever)."""

from __future__ import annotations

import socket
import threading
import time

from monitor.metrics import Metrics, MetricsServer


def test_an_idle_connection_is_closed_and_requests_still_answered() -> None:
    server = MetricsServer(Metrics(), lambda: (True, {}), "127.0.0.1", 0, idle_timeout=0.5)
    server.start()
    try:
        before = threading.active_count()
        idle = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(5)]
        started = time.monotonic()
        for conn in idle:
            assert conn.recv(1) == b""  # the server hung up on a client that never spoke
        assert time.monotonic() - started < 4
        for conn in idle:
            conn.close()
        deadline = time.monotonic() + 3
        while threading.active_count() > before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert threading.active_count() <= before  # no thread left holding a dead client
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
            conn.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
            assert conn.recv(100).startswith(b"HTTP/1.0 200")
    finally:
        server.stop()
