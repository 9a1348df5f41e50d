"""Secrets that cannot leak and configs that would leak refused: `${file:...}` limits, multi-line
secrets, every escaped form masked, insecure settings refused unless `allow_insecure: true`."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from click.testing import CliRunner

from monitor.cli.main import cli
from monitor.config import RESOLVED_SECRETS, ConfigError, parse_config
from monitor.logs import redact

ACCOUNT = """
accounts:
  - {id: uni-x, platform: x, handle: uni, name: X, role: central, language: {mode: bilingual}}
"""


def _with_token(ref: str) -> str:
    return f'platforms:\n  x: {{bearer_token: "{ref}"}}\n{ACCOUNT}'


def _secret_file(tmp_path: Path, content: str, mode: int = 0o600) -> Path:
    path = tmp_path / "token"
    path.write_text(content, encoding="utf-8")
    path.chmod(mode)
    return path


# --- ${file:...} -----------------------------------------------------------------------------


def test_one_trailing_newline_is_stripped_from_a_secret_file(tmp_path: Path) -> None:
    path = _secret_file(tmp_path, "single-line-token-1234\n")
    config = parse_config(_with_token(f"${{file:{path}}}"), "c.yaml", env={})
    assert config.platforms.x.bearer_token is not None
    assert config.platforms.x.bearer_token.get_secret_value() == "single-line-token-1234"
    assert config.load_warnings == ()


def test_a_two_line_secret_is_refused_and_neither_line_is_shown(tmp_path: Path) -> None:
    path = _secret_file(tmp_path, "first-line-AAAA1111\nsecond-line-BBBB2222\n")
    with pytest.raises(ConfigError) as caught:
        parse_config(_with_token(f"${{file:{path}}}"), "c.yaml", env={})
    text = str(caught.value)
    assert "line break" in text
    assert "first-line-AAAA1111" not in text and "second-line-BBBB2222" not in text


def test_an_environment_secret_with_a_line_break_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(_with_token("${TOKEN}"), "c.yaml", env={"TOKEN": "abcd1234\r\nefgh5678"})
    assert "environment variable TOKEN contains a line break" in str(caught.value)


def test_dev_zero_is_refused_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        parse_config(_with_token("${file:/dev/zero}"), "c.yaml", env={})
    assert "not a regular file" in str(caught.value)
    assert time.monotonic() - started < 2


def test_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    outcome: list[str] = []

    def load() -> None:
        try:
            parse_config(_with_token(f"${{file:{fifo}}}"), "c.yaml", env={})
        except ConfigError as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(5)
    assert not thread.is_alive(), "check-config hung on a FIFO"
    assert outcome and "not a regular file" in outcome[0]


def test_a_file_over_64_kb_is_refused(tmp_path: Path) -> None:
    path = _secret_file(tmp_path, "x" * (64 * 1024 + 1))
    with pytest.raises(ConfigError) as caught:
        parse_config(_with_token(f"${{file:{path}}}"), "c.yaml", env={})
    assert "larger than 64 KB" in str(caught.value)


def test_a_group_readable_secret_file_is_a_warning(tmp_path: Path) -> None:
    path = _secret_file(tmp_path, "readable-token-5678\n", mode=0o644)
    config = parse_config(_with_token(f"${{file:{path}}}"), "c.yaml", env={})
    assert any("readable by its group and others" in w for w in config.load_warnings)


def test_systemd_credentials_directory_in_a_file_path(tmp_path: Path) -> None:
    _secret_file(tmp_path, "credential-token-9012\n")
    config = parse_config(
        _with_token("${file:${CREDENTIALS_DIRECTORY}/token}"),
        "c.yaml",
        env={"CREDENTIALS_DIRECTORY": str(tmp_path)},
    )
    assert config.platforms.x.bearer_token is not None
    assert config.platforms.x.bearer_token.get_secret_value() == "credential-token-9012"


# --- masking every form -----------------------------------------------------------------------


def test_every_line_and_escaped_form_of_a_secret_is_masked() -> None:
    secret = "tok/en+with spaces&more\nsecond-line-zzzz"
    RESOLVED_SECRETS.add(secret)
    try:
        forms = [
            secret,
            "second-line-zzzz",
            "tok/en+with spaces&more",
            json.dumps(secret),
            json.dumps({"t": secret}),
            quote(secret, safe=""),
            quote_plus(secret),
            repr(secret),
        ]
        for form in forms:
            masked = redact(f"before {form} after")
            assert "second-line-zzzz" not in masked
            assert "tok/en+with" not in masked and "tok%2Fen" not in masked
            assert "before" in masked and "after" in masked
    finally:
        RESOLVED_SECRETS.discard(secret)


# --- insecure settings --------------------------------------------------------------------------

ROUTES = "  routes:\n    emergency: {channels: [c]}\n"


def _channel(spec: str) -> str:
    return f"{ACCOUNT}alerts:\n  channels:\n    c: {spec}\n{ROUTES}"


@pytest.mark.parametrize(
    "url",
    [
        "https://prod-23.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke",
        "https://0123.09.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/a",
        "https://uni.webhook.office.com/webhookb2/abc",
        "http://127.0.0.1:8080/teams",
    ],
)
def test_microsoft_and_loopback_webhook_hosts_are_accepted(url: str) -> None:
    parse_config(_channel(f'{{type: teams, url: "{url}"}}'), "c.yaml", env={})


def test_a_webhook_host_that_is_not_microsoft_is_refused_unless_allowed() -> None:
    url = "https://hooks.attacker.example/teams"
    with pytest.raises(ConfigError) as caught:
        parse_config(_channel(f'{{type: teams, url: "{url}"}}'), "c.yaml", env={})
    assert "alerts.channels.c.url" in str(caught.value) and "not a Microsoft webhook host" in str(
        caught.value
    )
    parse_config(_channel(f'{{type: teams, url: "{url}", allow_insecure: true}}'), "c.yaml", env={})


def test_an_smtp_password_in_clear_to_a_remote_host_is_refused_unless_allowed() -> None:
    spec = (
        "{type: email, host: smtp.example.ac.uk, port: 25, security: none, username: u, "
        'password: "pw-12345678", from: a@uni.ac.uk, to: [b@uni.ac.uk]%s}'
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(_channel(spec % ""), "c.yaml", env={})
    assert "alerts.channels.c.security" in str(caught.value) and "pw-12345678" not in str(caught.value)
    parse_config(_channel(spec % ", allow_insecure: true"), "c.yaml", env={})
    parse_config(_channel((spec % "").replace("smtp.example.ac.uk", "127.0.0.1")), "c.yaml", env={})


def test_a_plain_http_platform_base_url_to_a_remote_host_is_refused_unless_allowed() -> None:
    text = f'platforms:\n  x: {{base_url: "http://proxy.example.ac.uk:8080"%s}}\n{ACCOUNT}'
    with pytest.raises(ConfigError) as caught:
        parse_config(text % "", "c.yaml", env={})
    assert "platforms.x.base_url" in str(caught.value)
    parse_config(text % ", allow_insecure: true", "c.yaml", env={})


def test_risky_settings_are_warnings_in_check_config(tmp_path: Path) -> None:
    config = tmp_path / "socialmon.yaml"
    config.write_text(
        'database: "postgresql+psycopg://socialmon:written-here@db.example.ac.uk/socialmon"\n'
        'platforms:\n  x: {base_url: "http://127.0.0.1:8765"}\n'
        "service: {metrics_host: 0.0.0.0}\n"
        "alerts:\n  channels:\n    c: {type: email, host: smtp.example.ac.uk, security: starttls, "
        "verify_tls: false, from: a@uni.ac.uk, to: [b@uni.ac.uk]}\n"
        f"{ROUTES}{ACCOUNT}",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["check-config", str(config)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "warning:" in out and "verify_tls: false" in out
    assert "a password is written in the database URL" in out and "written-here" not in out
    assert "service.metrics_host" in out and "without authentication" in out
    assert "platforms.x.base_url" in out and "the sandbox?" in out
