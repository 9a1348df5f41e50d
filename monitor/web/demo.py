"""`socialmon demo --web`: the dashboard over the demo's data, on loopback, with a one-off login.

The demo's configuration has no `web:` section (it is the same file as config/demo.yaml); the
dashboard here gets its own: local sign-in, one admin user whose password is made fresh for this
run and printed, so nothing reusable is written anywhere.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEMO_USER = "demo@aberwen.ac.uk"


@dataclass
class DemoDashboard:
    server: Any
    store: Any
    user: str
    password: str

    @property
    def url(self) -> str:
        return str(self.server.url)

    def to_json(self) -> dict[str, str]:
        return {"url": self.url, "user": self.user, "password": self.password}

    def stop(self) -> None:
        self.server.stop()
        self.store.dispose()


def demo_web_settings(password: str) -> Any:
    from monitor.web.auth import hash_password
    from monitor.web_config import Web

    return Web.model_validate(
        {
            "listen": "127.0.0.1:8080",
            "auth": {
                "mode": "local",
                "users": [{"name": DEMO_USER, "password_hash": hash_password(password)}],
            },
            "roles": {DEMO_USER: "admin"},
        }
    )


def start_demo_dashboard(config_path: str | Path, port: int = 0) -> DemoDashboard:
    """Serve the dashboard over the demo database at http://127.0.0.1:<port>/ (0: any free port)."""
    from monitor.config import load_config
    from monitor.demo import TEAMS_ENV
    from monitor.store import Store
    from monitor.web.app import create_app
    from monitor.web.server import WebServer

    # The config names the demo's Teams receiver, gone now; the dashboard sends nothing.
    env = {**os.environ, TEAMS_ENV: os.environ.get(TEAMS_ENV) or "http://127.0.0.1:9/teams"}
    config = load_config(config_path, env=env)
    store = Store(config.database_url())
    password = secrets.token_urlsafe(12)
    app = create_app(config, store, web=demo_web_settings(password), secret_key=secrets.token_bytes(32))
    server = WebServer(app, "127.0.0.1", port).start()
    return DemoDashboard(server, store, DEMO_USER, password)
