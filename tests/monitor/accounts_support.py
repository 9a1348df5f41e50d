"""A sandbox and a config for the `accounts` commands: Meta system user, reduced permissions,
expiring tokens, X OAuth 2.0, a Page nobody registered."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import requests

from monitor.config import Config, load_config
from monitor.sandbox import SandboxServer, parse_scenario
from monitor.store import Store

SCENARIO = """
scenario: accounts
system_users:
  - token: sandbox-system-user
    pages: [uni-fb, sport-fb, secret-fb]
    expires: +20d
accounts:
  - key: uni-fb
    platform: facebook
    id: "100000000000101"
    handle: AberUni
    name: Aber University
    token_expires: +2d
    posts:
      - {ref: f1, at: -1h, text: "Hello"}
  - key: sport-fb
    platform: facebook
    id: "100000000000102"
    handle: AberSport
    name: Aber Sport
    scopes: [pages_show_list, pages_read_engagement, pages_read_user_content]
    posts:
      - {ref: s1, at: -1h, text: "Match day"}
  - key: secret-fb
    platform: facebook
    id: "100000000000103"
    handle: AberSecretSoc
    name: Aber Secret Society
  - key: uni-ig
    platform: instagram
    id: "17841400000000201"
    handle: aberuni
    name: Aber University
    linked_page: uni-fb
  - key: uni-x
    platform: x
    id: "1290000000000000301"
    handle: AberX
    name: Aber on X
    inbox:
      - {ref: d1, channel: dm, at: -30m, author: Bob, text: "Helo?"}
  - key: uni-yt
    platform: youtube
    id: UCaberaberaberaberaber01
    handle: AberTube
    name: Aber Tube
"""


def config_text(url: str, database: str, extra: str = "") -> str:
    return f"""
database: "{database}"
platforms:
  x: {{base_url: "{url}", bearer_token: sandbox-uni-x, client_id: sandbox-client,
      redirect_uri: "http://127.0.0.1:8976/callback", authorize_url: "{url}/i/oauth2/authorize"}}
  facebook: {{base_url: "{url}", access_token: sandbox-system-user, page_tokens: true}}
  instagram: {{base_url: "{url}", access_token: sandbox-uni-ig}}
  youtube: {{base_url: "{url}", api_key: sandbox-key}}
policy: {{token_warning: 14d}}
{extra}
accounts:
  - {{id: uni-fb, platform: facebook, handle: AberUni, name: Aber University Facebook, role: central,
      language: {{mode: bilingual}}}}
  - {{id: sport-fb, platform: facebook, native_id: "100000000000102", name: Sport Facebook,
      language: {{mode: bilingual}}, credentials: {{access_token: sandbox-sport-fb}}}}
  - {{id: uni-ig, platform: instagram, native_id: "17841400000000201", name: Aber Instagram,
      language: {{mode: bilingual}}}}
  - {{id: uni-x, platform: x, handle: AberX, native_id: "1290000000000000301", name: Aber X,
      language: {{mode: bilingual}}}}
  - {{id: uni-yt, platform: youtube, handle: AberTube, name: Aber Tube, language: {{mode: bilingual}}}}
"""


@contextmanager
def accounts_rig(tmp_path: Path, extra: str = "") -> Iterator[tuple[SandboxServer, Config, Path, Store]]:
    server = SandboxServer(parse_scenario(SCENARIO, "accounts", now=datetime.now(UTC))).start()
    path = tmp_path / "socialmon.yaml"
    path.write_text(config_text(server.url, f"sqlite:///{tmp_path / 'sm.db'}", extra), encoding="utf-8")
    config = load_config(str(path))
    store = Store(config.database_url())
    store.upgrade()
    try:
        yield server, config, path, store
    finally:
        store.dispose()
        server.stop()


def authorize_by_hand(config_path: Path, account_id: str, key: str, approve_as: str = "AberX") -> str:
    """Run `socialmon accounts authorize` as an operator would: read the printed address, approve
    it in the sandbox (as the account), paste the address X sends back; returns the command's output."""
    env = {**os.environ, "SOCIALMON_TOKEN_KEY": key, "PYTHONPATH": str(Path(__file__).parents[2])}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "monitor.cli.main",
            "accounts",
            "authorize",
            "-c",
            str(config_path),
            "--account",
            account_id,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None and process.stdin is not None
    url = process.stdout.readline().strip()
    approved = requests.get(url + f"&as={approve_as}", allow_redirects=False, timeout=10)
    assert approved.status_code == 302, approved.text
    out, err = process.communicate(approved.headers["location"] + "\n", timeout=60)
    assert process.returncode == 0, err
    return out
