"""What the daemon tests share: a local X API v2 server, a config writer, a daemon process.

`FakeX` answers the endpoints `connectors/x.py` documents (users, users/:id/tweets,
users/:id/mentions, dm_events) in X's JSON shape, with `x-rate-limit-*` headers. Tests add
tweets while the daemon runs, can hold requests open (a poll "in flight") and can answer 429
with a reset time. It records when every request arrived.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from monitor.localhttp import LocalServer

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Tweet:
    id: int
    user: str
    text: str
    created_at: datetime


@dataclass
class Hit:
    at: float  # time.time()
    path: str
    status: int


@dataclass
class FakeX:
    handles: list[str]
    rate_limit: int = 10_000
    tweets: list[Tweet] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    hold: threading.Event = field(default_factory=threading.Event)  # set: requests wait for release
    release: threading.Event = field(default_factory=threading.Event)
    held: threading.Event = field(default_factory=threading.Event)  # a request is being held now
    reset_at: float | None = None  # answer 429 until this time.time()
    limit_for: float | None = None  # the next request starts a 429 window this long (sets reset_at)
    _next_id: int = 1_000_000
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: LocalServer | None = None

    def user_id(self, handle: str) -> str:
        return str(100 + self.handles.index(handle))

    def post(self, handle: str, text: str) -> Tweet:
        with self._lock:
            self._next_id += 1
            tweet = Tweet(self._next_id, handle, text, datetime.now(UTC))
            self.tweets.append(tweet)
        return tweet

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

    def start(self) -> FakeX:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = LocalServer(Handler, name="fake-x").start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.stop()

    def requests_between(self, start: float, end: float) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if start <= h.at < end]

    def timeline_requests(self, handle: str, since: float) -> list[Hit]:
        """Requests for `handle`'s timeline since `since`: one per poll of that account."""
        path = f"/2/users/{self.user_id(handle)}/tweets"
        with self._lock:
            return [h for h in self.hits if h.at >= since and h.path == path]

    # -- answering ----------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        arrived = time.time()
        if self.hold.is_set():
            self.held.set()
            self.release.wait(120)
        parts = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        status, body = self._answer(parts.path, query, arrived)
        with self._lock:
            self.hits.append(Hit(arrived, parts.path, status))
        payload = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(payload)))
        reset = int(self.reset_at) if status == 429 and self.reset_at else int(arrived) + 900
        request.send_header("x-rate-limit-limit", str(self.rate_limit))
        request.send_header("x-rate-limit-remaining", "0" if status == 429 else str(self.rate_limit - 1))
        request.send_header("x-rate-limit-reset", str(reset))
        request.end_headers()
        request.wfile.write(payload)

    def _answer(self, path: str, query: dict[str, str], arrived: float) -> tuple[int, Any]:
        with self._lock:
            if self.limit_for is not None and self.reset_at is None:
                # x-rate-limit-reset is in whole seconds: a window that ends on one.
                self.reset_at = float(math.ceil(arrived + self.limit_for))
        if self.reset_at is not None and arrived < self.reset_at:
            return 429, {
                "title": "Too Many Requests",
                "detail": "Too Many Requests",
                "type": "about:blank",
                "status": 429,
            }
        match = re.fullmatch(r"/2/users/by/username/(\w+)", path)
        if match:
            return self._user(match[1])
        match = re.fullmatch(r"/2/users/(\d+)(/tweets|/mentions)?", path)
        if match:
            handle = next((h for h in self.handles if self.user_id(h) == match[1]), None)
            if handle is None:
                return 404, {"errors": [{"detail": "Could not find user"}], "title": "Not Found Error"}
            if match[2] == "/tweets":
                return self._timeline(handle, query)
            if match[2] == "/mentions":
                return 200, {"meta": {"result_count": 0}}
            return self._user(handle)
        if path == "/2/dm_events":
            return 200, {"meta": {"result_count": 0}}
        return 404, {"title": "Not Found Error", "detail": path}

    def _user(self, handle: str) -> tuple[int, Any]:
        if handle not in self.handles:
            return 200, {"errors": [{"detail": f"Could not find user with username: [{handle}]."}]}
        return 200, {
            "data": {
                "id": self.user_id(handle),
                "name": f"Account {handle}",
                "username": handle,
                "description": "Monitored Mon-Fri 09:00-17:00 / Monitrir Llun-Gwener 09:00-17:00",
                "profile_image_url": f"https://pbs.twimg.com/profile_images/{handle}.jpg",
            }
        }

    def _timeline(self, handle: str, query: dict[str, str]) -> tuple[int, Any]:
        since = int(query.get("since_id") or 0)
        start = query.get("start_time")
        start_at = datetime.fromisoformat(start.replace("Z", "+00:00")) if start else None
        with self._lock:
            mine = [t for t in self.tweets if t.user == handle and t.id > since]
        if start_at is not None:
            mine = [t for t in mine if t.created_at >= start_at]
        mine.sort(key=lambda t: t.id, reverse=True)
        data = [
            {
                "id": str(t.id),
                "text": t.text,
                "created_at": t.created_at.strftime("%Y-%m-%dT%H:%M:%S.")
                + f"{t.created_at.microsecond // 1000:03d}Z",
                "author_id": self.user_id(handle),
                "conversation_id": str(t.id),
                "edit_history_tweet_ids": [str(t.id)],
            }
            for t in mine
        ]
        meta: dict[str, Any] = {"result_count": len(data)}
        if data:
            meta.update(newest_id=data[0]["id"], oldest_id=data[-1]["id"])
        return 200, ({"data": data, "meta": meta} if data else {"meta": meta})


def account_line(account_id: str, handle: str, role: str) -> str:
    return (
        f"  - {{id: {account_id}, platform: x, handle: {handle}, name: Account {handle}, role: {role},\n"
        "     language: {mode: bilingual}, monitoring_hours: 'Mon-Fri 09:00-17:00',\n"
        "     people: [a@example.ac.uk, b@example.ac.uk], manager: m@example.ac.uk}"
    )


def write_config(
    path: Path,
    *,
    database: str,
    x_url: str,
    teams_url: str,
    smtp_port: int,
    accounts: list[tuple[str, str, str]],
    poll_interval: str = "15m",
    emergency_interval: str = "2s",
    sender_interval: str = "1s",
    repeat: str | None = None,
    heartbeat_interval: str = "10s",
    extra: str = "",
    **service: str,
) -> Path:
    """A config for the daemon tests. `service` adds `service.*` settings (e.g. shutdown_grace="2s"):
    the tests shorten the production intervals they would otherwise wait out."""
    repeat_line = f", repeat: {repeat}" if repeat else ""
    service_extra = "".join(f", {key}: {value}" for key, value in service.items())
    text = (
        f"""
database: "{database}"
platforms:
  x: {{base_url: "{x_url}", bearer_token: test-bearer-token-123}}
policy: {{poll_interval: {poll_interval}, emergency_poll_interval: {emergency_interval}}}
service: {{emergency_check_interval: 1s, sender_interval: {sender_interval}, metrics_port: 0,
          heartbeat_interval: {heartbeat_interval}{service_extra}}}
alerts:
  channels:
    oncall: {{type: teams, url: "{teams_url}"}}
    mail: {{type: email, host: 127.0.0.1, port: {smtp_port}, security: none, from: socialmon@example.ac.uk,
           to: [oncall@example.ac.uk]}}
  routes:
    emergency: {{channels: [oncall, mail]{repeat_line}}}
    operations: {{channels: [mail]}}
{extra}
accounts:
"""
        + "\n".join(account_line(*a) for a in accounts)
        + "\n"
    )
    path.write_text(text)
    return path


class Daemon:
    """`socialmon run` as a child process, its log in a file."""

    def __init__(self, config: Path, log: Path, env: dict[str, str] | None = None):
        self.config, self.log_path = config, log
        self.env = {**os.environ, "SOCIALMON_DATA_DIR": str(config.parent), **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Daemon:
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli.main", "run", "-c", str(self.config)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=REPO,
        )
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, pattern: str, timeout: float = 20.0, count: int = 1) -> bool:
        """Wait until the log has `count` lines matching `pattern`."""
        return wait_for(lambda: self.count_log(pattern) >= count, timeout)

    def wait_line(self, *fragments: str, timeout: float = 20.0) -> bool:
        """Wait for one log line that holds every fragment (JSON keys come in any order)."""
        return wait_for(
            lambda: any(all(f in line for f in fragments) for line in self.log().splitlines()), timeout
        )

    def count_log(self, pattern: str) -> int:
        return len(re.findall(pattern, self.log()))

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


def socialmon(*args: str, config: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOCIALMON_DATA_DIR": str(config.parent)}
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli.main", *args, "-c", str(config)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=timeout,
    )


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def teams_texts(receiver: Any) -> list[str]:
    """Every accepted Teams body flattened to text (for matching what an alert said)."""
    return [json.dumps(body, ensure_ascii=False) for body in list(receiver.messages)]
