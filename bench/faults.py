"""Failing surroundings: four figures, each against a real local misbehaving peer.

1. Polls that still succeed for an account fed one poisoned item (a lone surrogate and a NUL)
   among 100 good ones, through the real X connector and a real store (want 100 %).
2. On-call Teams delay while the mail server black-holes (accepts, never answers): the extra
   seconds before each of three emergency Teams alerts arrives, SMTP timeout 10 s (want <= 2 s).
3. /healthz seconds to 503 after the database becomes unwritable: a real `socialmon run`, its
   SQLite database then locked by another process (want <= 60 s).
4. Poll wall time against a server that sends one byte a second, timeout 3 s (want <= 4 s).

    python -m bench.faults [--polls 20] [--postgres ADMIN_URL]  (figure 1 also on PostgreSQL)

(`-m` from the repository root: run as a script, bench/checks.py would shadow the `checks` package.)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from connectors import get_connector
from monitor.config import parse_config
from monitor.logs import configure_logging
from monitor.outbox import send_due
from monitor.poll import poll_account
from monitor.receivers import TeamsReceiver
from monitor.routing import enqueue_alert
from monitor.store import Store

REPO = Path(__file__).resolve().parents[1]
USER_ID = "2351222345"
NOW = datetime.now(UTC).replace(microsecond=0)


# --- 1. one poisoned item among 100 -----------------------------------------------------------


def _tweets() -> dict[str, Any]:
    now = NOW - timedelta(hours=1)
    data = [
        {"id": str(1_300_000_000_000_000_000 + i), "text": f"Good post {i}", "created_at": _iso(now)}
        for i in range(100)
    ]
    data.append({"id": "1300000000000000100", "text": "poison \ud800 and \x00 here", "created_at": _iso(now)})
    return {"data": data, "meta": {"result_count": len(data), "newest_id": data[-1]["id"]}}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@contextmanager
def _x_server() -> Iterator[str]:
    user = {"data": {"id": USER_ID, "name": "Uni", "username": "uni"}}
    tweets = json.dumps(_tweets()).encode()  # \ud800 is written as a JSON escape, as a platform may
    empty = json.dumps({"meta": {"result_count": 0}}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            body = (
                tweets
                if path.endswith("/tweets")
                else json.dumps(user).encode()
                if path == f"/2/users/{USER_ID}"
                else empty
            )
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def poisoned_polls(url: str, polls: int) -> tuple[int, int]:
    store = Store(url)
    store.upgrade()
    with _x_server() as base:
        config = parse_config(
            f"""
platforms:
  x: {{base_url: "{base}", bearer_token: bench-token-1234}}
accounts:
  - {{id: uni-x, platform: x, native_id: "{USER_ID}", name: X, role: central, language: {{mode: bilingual}}}}
""",
            "bench.yaml",
            env={},
        )
        account = config.account("uni-x")
        connector = get_connector("x", config)
        ok = 0
        for i in range(polls):
            outcome = poll_account(
                config, store, account, now=NOW + timedelta(minutes=15 * i), connector=connector
            )
            ok += outcome.status in {"ok", "warning"}
    store.dispose()
    return ok, polls


# --- 2. on-call Teams while SMTP black-holes ------------------------------------------------------


@contextmanager
def _blackhole() -> Iterator[int]:
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()


def oncall_delay(url: str, tmp: Path) -> list[float]:
    store = Store(url)
    store.upgrade()
    with TeamsReceiver(tmp / "teams") as teams, _blackhole() as smtp_port:
        config = parse_config(
            f"""
accounts:
  - {{id: uni-x, platform: x, handle: uni, name: X, role: central, language: {{mode: bilingual}}}}
alerts:
  channels:
    oncall-teams: {{type: teams, url: "{teams.url}", timeout: 10s}}
    oncall-email: {{type: email, host: 127.0.0.1, port: {smtp_port}, security: none,
                   from: s@uni.ac.uk, to: [oncall@uni.ac.uk], timeout: 10s}}
  routes:
    emergency: {{channels: [oncall-teams, oncall-email]}}
""",
            "bench.yaml",
            env={},
        )
        with store.session() as session:
            for i in range(3):
                enqueue_alert(
                    session,
                    config,
                    "emergency",
                    "first",
                    "critical",
                    f"Emergency {i}",
                    "body",
                    now=NOW,
                    kind="notice",
                    dedup_key=f"bench:{i}",
                )
        started = time.monotonic()
        arrived: list[float] = []
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                while len(arrived) < len(teams.messages):
                    arrived.append(time.monotonic() - started)
                time.sleep(0.005)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        send_due(config, store, instance_id="bench")
        done.set()
        watcher.join(2)
    store.dispose()
    return arrived


# --- 3. /healthz after the database becomes unwritable -----------------------------------------


def healthz_seconds(tmp: Path) -> float | None:
    db = tmp / "daemon.db"
    config = tmp / "daemon.yaml"
    config.write_text(
        f"""
database: "sqlite:///{db}"
platforms:
  x: {{base_url: "http://127.0.0.1:9", bearer_token: bench-token-1234}}
service: {{metrics_port: 0}}
accounts:
  - {{id: uni-x, platform: x, handle: uni, name: X, role: central, language: {{mode: bilingual}}}}
""",
        encoding="utf-8",
    )
    env = {**os.environ, "SOCIALMON_DATA_DIR": str(tmp), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "monitor.cli.main"]
    subprocess.run([*command, "db", "upgrade", "-c", str(config)], check=True, env=env, capture_output=True)
    log = (tmp / "daemon.log").open("wb")
    daemon = subprocess.Popen(
        [*command, "run", "-c", str(config)], stdout=log, stderr=subprocess.STDOUT, env=env
    )
    locker: sqlite3.Connection | None = None
    try:
        port = None
        deadline = time.monotonic() + 30
        while port is None and time.monotonic() < deadline:
            match = re.search(r"127\.0\.0\.1:(\d+)/metrics", (tmp / "daemon.log").read_text(errors="replace"))
            port = int(match[1]) if match else None
            time.sleep(0.1)
        if port is None:
            return None
        while _healthz(port) != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        locker = sqlite3.connect(db, timeout=1, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        locked = time.monotonic()
        while time.monotonic() - locked < 120:
            if _healthz(port) == 503:
                return time.monotonic() - locked
            time.sleep(0.25)
        return None
    finally:
        if locker is not None:
            locker.close()
        daemon.kill()
        daemon.wait(10)


def _healthz(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


# --- 4. a server that sends one byte a second -----------------------------------------------------


@contextmanager
def _trickle() -> Iterator[str]:
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    body = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n" + b" " * 100000
    )

    def serve(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                for byte in body:
                    if stop.wait(1.0):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()


def trickle_poll_seconds(url: str) -> tuple[float, str]:
    store = Store(url)
    store.upgrade()
    with _trickle() as base:
        config = parse_config(
            f"""
platforms:
  x: {{base_url: "{base}", bearer_token: bench-token-1234, timeout: 3s}}
accounts:
  - {{id: uni-x, platform: x, native_id: "{USER_ID}", name: X, role: central, language: {{mode: bilingual}}}}
""",
            "bench.yaml",
            env={},
        )
        started = time.monotonic()
        outcome = poll_account(config, store, config.account("uni-x"), now=NOW)
        elapsed = time.monotonic() - started
    store.dispose()
    return elapsed, outcome.status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=20)
    parser.add_argument(
        "--postgres",
        default=None,
        metavar="URL",
        help="also run 1 on a throw-away database on this PostgreSQL server",
    )
    args = parser.parse_args()
    configure_logging(level="CRITICAL")
    tmp = Path(tempfile.mkdtemp(prefix="socialmon-faults-"))

    ok, total = poisoned_polls(f"sqlite:///{tmp / 'poison.db'}", args.polls)
    print(
        f"1. polls succeeding with 1 poisoned item in 101 (SQLite): {ok}/{total} = {100 * ok / total:.0f} %"
    )
    if args.postgres:
        from bench.outbox import _create_database, _drop_database

        url = _create_database(args.postgres)
        try:
            ok, total = poisoned_polls(url, args.polls)
        finally:
            _drop_database(args.postgres, url)
        print(f"   (PostgreSQL): {ok}/{total} = {100 * ok / total:.0f} %")

    arrived = oncall_delay(f"sqlite:///{tmp / 'outbox.db'}", tmp)
    extra = max(arrived) if arrived else float("nan")
    print(
        f"2. on-call Teams while SMTP black-holes (timeout 10 s): {len(arrived)}/3 arrived after "
        f"{', '.join(f'{a:.2f}' for a in arrived)} s; worst extra delay {extra:.2f} s"
    )

    seconds = healthz_seconds(tmp)
    shown = f"{seconds:.1f} s" if seconds is not None else "no 503 within 120 s"
    print(f"3. /healthz 503 after the database became unwritable (locked): {shown}")

    elapsed, status = trickle_poll_seconds(f"sqlite:///{tmp / 'trickle.db'}")
    print(f"4. poll against a 1-byte-per-second server, timeout 3 s: {elapsed:.2f} s, outcome {status}")


if __name__ == "__main__":
    main()
