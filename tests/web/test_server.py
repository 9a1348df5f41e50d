"""The dashboard over real HTTP: `socialmon web`, `socialmon run` with `web:`, `web hash-password`."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from monitor.cli.main import cli
from monitor.store import Store
from monitor.web.auth import verify_password
from monitor.web.server import start_for
from tests.daemon.daemon_support import REPO, Daemon, FakeX, wait_for, write_config
from tests.web.web_support import config_text, make_config, seed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_server_in_a_thread_serves_pages_and_static_files(store: Store, tmp_path: Path) -> None:
    config = make_config(tmp_path / "unused.db", mode="proxy")
    seed(store)
    server = start_for(config, store, port=0)
    try:
        headers = {"X-Forwarded-Email": "viewer@example.ac.uk"}
        page = requests.get(server.url, headers=headers, timeout=10)
        assert page.status_code == 200 and "Aberwen University" in page.text
        assert page.headers["Server"] == "socialmon"
        css = requests.get(server.url + "static/style.css", timeout=10)
        assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
        assert requests.get(server.url, timeout=10).status_code == 403  # no identity header
    finally:
        server.stop()


@pytest.mark.slow  # starts `socialmon` server processes
def test_web_command_serves_the_dashboard(tmp_path: Path) -> None:
    db = tmp_path / "web.db"
    config_path = tmp_path / "config.yaml"
    config_path.write_text(config_text(db, mode="proxy"))
    env = {**os.environ, "TEAMS_URL": "https://example.webhook.office.com/x", "FB_TOKEN": "token-abcdef"}
    subprocess.run(
        [sys.executable, "-m", "monitor.cli.main", "db", "upgrade", "-c", str(config_path)],
        check=True,
        env=env,
        cwd=REPO,
        capture_output=True,
    )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli.main", "web", "-c", str(config_path), "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in first, first
        response = requests.get(
            f"http://127.0.0.1:{port}/operations",
            headers={"X-Forwarded-Email": "admin@example.ac.uk"},
            timeout=10,
        )
        assert response.status_code == 200 and "Operations" in response.text
    finally:
        proc.terminate()
        proc.wait(10)


def test_web_command_needs_a_web_section(tmp_path: Path) -> None:
    config_path = tmp_path / "config.yaml"
    text = config_text(tmp_path / "w.db", mode="proxy")
    config_path.write_text(text[: text.index("web:")])
    result = CliRunner().invoke(
        cli,
        ["web", "-c", str(config_path)],
        env={"TEAMS_URL": "https://a.webhook.office.com/x", "FB_TOKEN": "tok-12345"},
    )
    assert result.exit_code == 2
    assert "web: is not configured" in result.output and "Traceback" not in result.output


def test_hash_password_makes_an_argon2id_hash() -> None:
    result = CliRunner().invoke(
        cli, ["web", "hash-password", "--password-stdin"], input="a long enough secret\n"
    )
    assert result.exit_code == 0, result.output
    made = result.output.strip()
    assert made.startswith("$argon2id$") and "a long enough secret" not in made
    assert verify_password(made, "a long enough secret") and not verify_password(made, "another")
    short = CliRunner().invoke(cli, ["web", "hash-password", "--password-stdin"], input="short\n")
    assert short.exit_code == 2 and "at least 12" in short.output


def test_scrypt_hashes_are_accepted() -> None:
    from werkzeug.security import generate_password_hash

    made = generate_password_hash("a long enough secret", method="scrypt")
    assert verify_password(made, "a long enough secret") and not verify_password(made, "nope")
    assert not verify_password("plain text", "plain text")


@pytest.mark.slow  # starts `socialmon` server processes
def test_run_serves_the_dashboard_when_configured(tmp_path: Path) -> None:
    fake = FakeX(["Central"]).start()
    port = free_port()
    try:
        config = write_config(
            tmp_path / "config.yaml",
            database=f"sqlite:///{tmp_path / 'run.db'}",
            x_url=fake.url,
            teams_url="http://127.0.0.1:9/teams",
            smtp_port=9,
            accounts=[("central-x", "Central", "central")],
            extra=(
                f"web:\n  listen: 127.0.0.1:{port}\n  auth: {{mode: proxy, trusted_proxies: [127.0.0.1]}}\n"
                "  roles: {ops@example.ac.uk: admin}\n"
            ),
        )
        subprocess.run(
            [sys.executable, "-m", "monitor.cli.main", "db", "upgrade", "-c", str(config)],
            check=True,
            cwd=REPO,
            capture_output=True,
        )
        daemon = Daemon(config, tmp_path / "daemon.log").start()
        try:
            assert daemon.wait_log("dashboard listening"), daemon.log()
            url = f"http://127.0.0.1:{port}/"
            assert re.search(re.escape(url), daemon.log())
            ok = wait_for(
                lambda: (
                    requests.get(
                        url, headers={"X-Forwarded-Email": "ops@example.ac.uk"}, timeout=5
                    ).status_code
                    == 200
                )
            )
            assert ok
            page = requests.get(url, headers={"X-Forwarded-Email": "ops@example.ac.uk"}, timeout=5)
            assert "Account Central" in page.text
        finally:
            daemon.signal(15)
            assert daemon.wait(15) == 0
    finally:
        fake.stop()
