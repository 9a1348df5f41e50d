"""Helpers for connector tests: real recorded payloads, a config, and a recording local HTTP server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from monitor.config import Config, parse_config
from monitor.localhttp import LocalServer

FIXTURES = Path(__file__).parents[1] / "fixtures" / "connectors"


def load(name: str) -> Any:
    """A recorded response body from tests/fixtures/connectors (see its README for provenance)."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def raw(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


ACCOUNTS_YAML = """
accounts:
  - id: uni-x
    platform: x
    native_id: "2351222345"
    name: University on X
    role: central
    language: {mode: bilingual}
  - id: uni-fb
    platform: facebook
    native_id: "20531316728"
    name: University on Facebook
    language: {mode: bilingual}
  - id: uni-ig
    platform: instagram
    native_id: "17841407673135339"
    name: University on Instagram
    language: {mode: bilingual}
  - id: uni-yt
    platform: youtube
    native_id: UC_x5XG1OV2P6uZZ5FSM9Ttw
    name: University on YouTube
    language: {mode: bilingual}
"""

SECRETS = {
    "X_TOKEN": "x-secret-bearer-token-123",
    "META_TOKEN": "EAAmetasecrettoken456",
    "YT_KEY": "AIzaYouTubeSecretKey789",
}


def make_config(base_url: str | None = None, backfill: str = "7d", graph_version: str = "v25.0") -> Config:
    bases = {
        "x": base_url or "https://api.twitter.com",
        "graph": base_url or "https://graph.facebook.com",
        "yt": base_url or "https://www.googleapis.com",
    }
    text = f"""
policy: {{backfill: {backfill}}}
platforms:
  x: {{base_url: "{bases["x"]}", bearer_token: "${{X_TOKEN}}"}}
  facebook: {{base_url: "{bases["graph"]}", access_token: "${{META_TOKEN}}", graph_version: {graph_version}}}
  instagram: {{base_url: "{bases["graph"]}", access_token: "${{META_TOKEN}}", graph_version: {graph_version}}}
  youtube: {{base_url: "{bases["yt"]}", api_key: "${{YT_KEY}}"}}
{ACCOUNTS_YAML}
"""
    return parse_config(text, "test.yaml", env=SECRETS)


class Sleeps(list[float]):
    """Records retry sleeps instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


# --- a recording HTTP server on loopback ---------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    body: dict[str, str]
    headers: dict[str, str]


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class RecordingServer:
    """Answers each (method, path) from a queue of replies (the last one repeats) and records requests."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Reply]] = {}
        self.seen: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                server.seen.append(
                    Seen(
                        self.command,
                        parts.path,
                        dict(parse_qsl(parts.query, keep_blank_values=True)),
                        dict(parse_qsl(body, keep_blank_values=True)),
                        {k.lower(): v for k, v in self.headers.items()},
                    )
                )
                queue = server.routes.get((self.command, parts.path))
                if not queue:
                    reply = Reply(404, {"error": {"message": f"no route {self.command} {parts.path}"}})
                else:
                    reply = queue.pop(0) if len(queue) > 1 else queue[0]
                payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                data = payload.encode()
                self.send_response(reply.status)
                headers = {"content-type": "application/json; charset=UTF-8", **reply.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _serve
            do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.local = LocalServer(Handler, name="recording-server")

    @property
    def url(self) -> str:
        return self.local.url

    def add(
        self, method: str, path: str, body: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        self.routes.setdefault((method, path), []).append(Reply(status, body, headers or {}))

    def paths(self) -> list[str]:
        return [s.path for s in self.seen]

    def start(self) -> RecordingServer:
        self.local.start()
        return self

    def stop(self) -> None:
        self.local.stop()


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    srv = RecordingServer().start()
    yield srv
    srv.stop()
