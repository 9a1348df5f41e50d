"""What the webhook tests share: a small world (two Pages, an Instagram account, a channel), its
config with `webhooks:` on, and a running sandbox."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from monitor.config import Config, parse_config
from monitor.sandbox import SandboxServer, parse_scenario

APP_SECRET = "meta-app-secret-0123456789"
VERIFY_TOKEN = "meta-verify-token-0123456789"
WEBSUB_SECRET = "websub-secret-0123456789abcdef"
HQ_PAGE = "104000000000001"
DEPT_PAGE = "104000000000002"
IG_USER = "17841400000000001"
CHANNEL = "UCdeptchannel000000000001"

SCENARIO = f"""
scenario: hooks
accounts:
  - key: hq-facebook
    platform: facebook
    id: "{HQ_PAGE}"
    handle: HQ
    name: HQ
    bio: "Monitored Mon-Fri 09:00-17:00. Monitrir Llun-Gwener 09:00-17:00."
    posts: [{{at: -20h, text: "Croeso / Welcome"}}]
  - key: dept-facebook
    platform: facebook
    id: "{DEPT_PAGE}"
    handle: Dept
    name: Dept
    bio: "Monitored Mon-Fri 09:00-17:00. Monitrir Llun-Gwener 09:00-17:00."
    posts: [{{ref: first, at: -20h, text: "Croeso / Welcome"}}]
  - key: dept-instagram
    platform: instagram
    id: "{IG_USER}"
    handle: deptig
    name: Dept IG
    linked_page: dept-facebook
    posts: [{{ref: media1, at: -20h, text: "Croeso / Welcome"}}]
  - key: dept-youtube
    platform: youtube
    id: "{CHANNEL}"
    handle: DeptTube
    name: Dept Tube
    posts: [{{at: -20h, title: "Croeso / Welcome", text: "Croeso / Welcome"}}]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config_text(sandbox_url: str, database: str, port: int, *, hooks: bool = True, extra: str = "") -> str:
    lines = [
        f'database: "{database}"',
        "platforms:",
        f'  facebook: {{base_url: "{sandbox_url}", graph_version: v25.0, timeout: 10s}}',
        f'  instagram: {{base_url: "{sandbox_url}", graph_version: v25.0, timeout: 10s}}',
        f'  youtube: {{base_url: "{sandbox_url}", api_key: sandbox-key, timeout: 10s}}',
        "policy: {poll_interval: 15m, emergency_poll_interval: 15m}",
        "service: {metrics_port: 0, emergency_check_interval: 1s, sender_interval: 1s}",
        "accounts:",
    ]
    people = "people: [a@example.ac.uk, b@example.ac.uk], manager: m@example.ac.uk"
    for key, platform, native, role in (
        ("hq-facebook", "facebook", HQ_PAGE, "central"),
        ("dept-facebook", "facebook", DEPT_PAGE, "departmental"),
        ("dept-instagram", "instagram", IG_USER, "departmental"),
        ("dept-youtube", "youtube", CHANNEL, "departmental"),
    ):
        token = "" if platform == "youtube" else f", credentials: {{access_token: sandbox-{key}}}"
        lines.append(
            f'  - {{id: {key}, platform: {platform}, native_id: "{native}", name: {key}, role: {role}, '
            f"language: {{mode: bilingual}}, monitoring_hours: 'Mon-Fri 09:00-17:00', {people}{token}}}"
        )
    if hooks:
        lines += [
            "webhooks:",
            f"  listen: 127.0.0.1:{port}",
            f"  public_url: http://127.0.0.1:{port}",
            '  meta: {app_secret: "${META_APP_SECRET}", verify_token: "${META_VERIFY_TOKEN}"}',
            '  youtube: {secret: "${WEBSUB_SECRET}"}',
        ]
    return "\n".join(lines) + "\n" + extra


ENV = {"META_APP_SECRET": APP_SECRET, "META_VERIFY_TOKEN": VERIFY_TOKEN, "WEBSUB_SECRET": WEBSUB_SECRET}


def make_config(sandbox_url: str, database: str, port: int, **kwargs: Any) -> Config:
    return parse_config(config_text(sandbox_url, database, port, **kwargs), "hooks.yaml", env=ENV)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(parse_scenario(SCENARIO, "hooks")).start()
    try:
        yield server
    finally:
        server.stop()
