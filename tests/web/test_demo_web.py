"""`socialmon demo --web`: the demo runs, then its dashboard stays up on loopback with a login it prints."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.daemon.daemon_support import REPO

pytestmark = pytest.mark.slow


def test_demo_web_serves_the_demo_data(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "monitor.cli.main",
            "demo",
            "--web",
            "--json",
            "--dir",
            str(tmp_path / "demo"),
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As from a shell: Ctrl-C (SIGINT) interrupts. An xdist worker ignores SIGINT, a child
        # inherits that, and Python then never raises KeyboardInterrupt.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        summary = json.loads(line)
        web = summary["web"]
        assert web["url"].startswith("http://127.0.0.1:") and web["user"] == "demo@aberwen.ac.uk"
        session = requests.Session()
        login = session.get(web["url"] + "login", timeout=10)
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert token
        signed_in = session.post(
            web["url"] + "login",
            data={"name": web["user"], "password": web["password"], "csrf_token": token[1]},
            timeout=30,
        )
        assert signed_in.status_code == 200 and "Aberwen University" in signed_in.text
        findings = session.get(web["url"] + "findings?status=all", timeout=10)
        assert findings.status_code == 200 and "/findings/1" in findings.text
        wrong = requests.Session()
        token = re.search(
            r'name="csrf_token" value="([^"]+)"', wrong.get(web["url"] + "login", timeout=10).text
        )
        assert token
        refused = wrong.post(
            web["url"] + "login",
            data={"name": web["user"], "password": "not-it", "csrf_token": token[1]},
            timeout=30,
        )
        assert refused.status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
