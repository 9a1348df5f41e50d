"""What the daemon benchmarks share: a sandbox with N Facebook Pages, a config, a daemon process.

Facebook Pages because the sandbox's Graph API reports low usage, so the rate budget lets every
Page be polled at the emergency interval (the sandbox's X windows, like X's, would not allow
20 accounts every 10 s, and the budget would rightly slow them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from monitor.receivers import TeamsReceiver  # noqa: E402
from monitor.sandbox.scenario import parse_scenario  # noqa: E402
from monitor.sandbox.server import SandboxServer  # noqa: E402

BIO = "Monitored Mon-Fri 09:00-17:00. Monitrir Llun-Gwener 09:00-17:00."


def page_key(i: int) -> str:
    return "hq-facebook" if i == 0 else f"dept{i:03d}-facebook"


def page_id(i: int) -> str:
    return f"{105_000_000_000_000 + i}"


def scenario_text(pages: int) -> str:
    lines = ["scenario: bench", "accounts:"]
    for i in range(pages + 1):
        lines += [
            f"  - key: {page_key(i)}",
            "    platform: facebook",
            f'    id: "{page_id(i)}"',
            f"    handle: Page{i:03d}",
            f"    name: Page {i:03d}",
            f'    bio: "{BIO}"',
            "    posts:",
            f'      - {{at: -20h, text: "Croeso / Welcome from page {i}"}}',
        ]
    return "\n".join(lines) + "\n"


def config_text(pages: int, sandbox_url: str, teams_url: str, database: str, emergency_interval: int) -> str:
    lines = [
        f'database: "{database}"',
        "platforms:",
        f'  facebook: {{base_url: "{sandbox_url}", graph_version: v25.0, timeout: 10s}}',
        f"policy: {{poll_interval: 15m, emergency_poll_interval: {emergency_interval}s}}",
        "service: {metrics_port: 0}",
        "alerts:",
        "  channels:",
        f'    oncall: {{type: teams, url: "{teams_url}"}}',
        "  routes:",
        "    emergency: {channels: [oncall]}",
        "accounts:",
    ]
    for i in range(pages + 1):
        role = "central" if i == 0 else "departmental"
        lines += [
            f'  - {{id: {page_key(i)}, platform: facebook, handle: Page{i:03d}, native_id: "{page_id(i)}",',
            f"     name: Page {i:03d}, role: {role}, language: {{mode: bilingual}},",
            "     monitoring_hours: 'Mon-Fri 09:00-17:00', people: [a@example.ac.uk, b@example.ac.uk],",
            f"     manager: m@example.ac.uk, credentials: {{access_token: sandbox-{page_key(i)}}}}}",
        ]
    return "\n".join(lines) + "\n"


@dataclass
class World:
    dir: Path
    sandbox: SandboxServer
    teams: TeamsReceiver
    config: Path
    env: dict[str, str]
    daemon: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "monitor.cli.main", *args, "-c", str(self.config)],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=REPO,
            timeout=1800,
        )

    def start_daemon(self) -> subprocess.Popen[bytes]:
        log = (self.dir / "daemon.log").open("ab")
        self.daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli.main", "run", "-c", str(self.config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=REPO,
        )
        deadline = time.monotonic() + 60
        while "scheduler started" not in (self.dir / "daemon.log").read_text(errors="replace"):
            if time.monotonic() > deadline or self.daemon.poll() is not None:
                raise RuntimeError("the daemon did not start:\n" + (self.dir / "daemon.log").read_text())
            time.sleep(0.2)
        return self.daemon

    def close(self) -> None:
        if self.dir.joinpath(".closed").exists():
            return
        self.dir.joinpath(".closed").touch()
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.terminate()
            try:
                self.daemon.wait(15)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
        self.sandbox.stop()
        self.teams.stop()


def webhooks_text(port: int) -> str:
    """A `webhooks:` section for the receiver on `port` (secrets from the environment)."""
    return (
        "webhooks:\n"
        f"  listen: 127.0.0.1:{port}\n"
        f"  public_url: http://127.0.0.1:{port}\n"
        '  meta: {app_secret: "${META_APP_SECRET}", verify_token: "${META_VERIFY_TOKEN}"}\n'
        '  youtube: {secret: "${WEBSUB_SECRET}"}\n'
    )


BENCH_SECRETS = {
    "META_APP_SECRET": "bench-app-secret-0123456789",
    "META_VERIFY_TOKEN": "bench-verify-token-0123456789",
    "WEBSUB_SECRET": "bench-websub-secret-0123456789",
}


def make_world(
    pages: int, emergency_interval: int = 10, keep: str | None = None, hooks_port: int | None = None
) -> World:
    directory = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="socialmon-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    sandbox = SandboxServer(parse_scenario(scenario_text(pages), "bench")).start()
    teams = TeamsReceiver(directory / "teams").start()
    config = directory / "socialmon.yaml"
    database = f"sqlite:///{directory / 'bench.db'}"
    text = config_text(pages, sandbox.url, teams.url, database, emergency_interval)
    if hooks_port is not None:
        text += webhooks_text(hooks_port)
    config.write_text(text)
    env: dict[str, Any] = {**os.environ, **BENCH_SECRETS, "SOCIALMON_DATA_DIR": str(directory)}
    world = World(directory, sandbox, teams, config, env)
    upgraded = world.cli("db", "upgrade")
    if upgraded.returncode != 0:
        raise RuntimeError(upgraded.stderr)
    return world
