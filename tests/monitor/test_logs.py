"""Every kind of secret is gone from log output: structlog and stdlib, fields, messages, tracebacks."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from monitor.config import RESOLVED_SECRETS, parse_config
from monitor.logs import configure_logging, get_logger, redact

CONFIG = """\
platforms:
  x: {bearer_token: "${X_BEARER_TOKEN}"}
accounts:
  - {id: a, platform: x, handle: a, name: A, role: central, language: {mode: bilingual}}
alerts:
  channels:
    t: {type: teams, url: "${TEAMS_URL}"}
    e: {type: email, host: smtp.example.ac.uk, password: "${SMTP_PASSWORD}",
        from: a@example.ac.uk, to: [b@example.ac.uk]}
"""
SECRETS = {
    "X_BEARER_TOKEN": "AAAAAAAAAAAAAAAAAAAAAbearer-from-config",
    "TEAMS_URL": "http://127.0.0.1:9/hook/loopback-path-from-config",
    "SMTP_PASSWORD": "smtp-pw-from-config",
}
# Shaped like secrets, never seen by the config.
ACCESS_TOKEN_URL = (
    "https://graph.facebook.com/v25.0/me/posts?fields=id&access_token=EAAGshapedtoken123&limit=25"
)
KEY_URL = "https://www.googleapis.com/youtube/v3/videos?part=snippet&key=AIzaShapedKey456"
WORKFLOW_URL = "https://prod-07.westeurope.logic.azure.com:443/workflows/0a1b/triggers/manual/paths/invoke?sp=x&sig=Sig789"
LEGACY_WEBHOOK = "https://bangorac.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456"
DB_URL = "postgresql+psycopg://socialmon:db-pass-987@db.example.ac.uk/socialmon"
NEVER = [
    *SECRETS.values(),
    "EAAGshapedtoken123",
    "AIzaShapedKey456",
    "Sig789",
    "0a1b/triggers",
    "webhookb2/abc",
    "db-pass-987",
    "bearer-header-654",
]


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    parse_config(CONFIG, "t.yaml", env=SECRETS)  # resolves the secrets, which the redactor then knows
    stream = io.StringIO()
    configure_logging(level="DEBUG", json=True, stream=stream)
    yield stream
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not getattr(h, "_socialmon", False)]
    structlog.reset_defaults()


def _assert_clean(text: str) -> None:
    leaked = [secret for secret in NEVER if secret in text]
    assert leaked == [], text


def test_resolved_config_secrets_are_known_to_the_redactor(output: io.StringIO) -> None:
    assert set(SECRETS.values()) <= RESOLVED_SECRETS


def test_structlog_fields_and_messages(output: io.StringIO) -> None:
    log = get_logger(account="bangor-x-en")
    log.info(f"calling {ACCESS_TOKEN_URL}", url=KEY_URL)
    log.warning("teams failed", webhook=WORKFLOW_URL, legacy=LEGACY_WEBHOOK, loopback=SECRETS["TEAMS_URL"])
    log.info("headers", headers={"Authorization": "Bearer bearer-header-654", "Accept": "application/json"})
    log.info("raw header", line="Authorization: Bearer bearer-header-654")
    log.info(
        "db", database=DB_URL, token=SECRETS["X_BEARER_TOKEN"], nested=[{"pw": SECRETS["SMTP_PASSWORD"]}]
    )
    text = output.getvalue()
    _assert_clean(text)
    lines = [json.loads(line) for line in text.splitlines()]  # JSON lines when not a terminal
    assert len(lines) == 5
    assert lines[0]["account"] == "bangor-x-en" and "access_token=[REDACTED]" in lines[0]["event"]
    assert lines[2]["headers"] == {"Authorization": "[REDACTED]", "Accept": "application/json"}
    assert "socialmon:[REDACTED]@db.example.ac.uk" in lines[4]["database"]


def test_stdlib_logging_from_libraries(output: io.StringIO) -> None:
    lib = logging.getLogger("urllib3.connectionpool")
    lib.warning("GET %s -> 500", ACCESS_TOKEN_URL)
    lib.warning("POST %s failed", WORKFLOW_URL)
    lib.warning("send with %s", {"authorization": "Bearer bearer-header-654"})
    logging.getLogger("smtplib").error("login failed for password %s", SECRETS["SMTP_PASSWORD"])
    text = output.getvalue()
    _assert_clean(text)
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 4 and lines[0]["logger"] == "urllib3.connectionpool"


def _fail_with_secrets() -> None:
    token = SECRETS["X_BEARER_TOKEN"]
    raise RuntimeError(f"401 for {KEY_URL} with Bearer {token} and {DB_URL}")


def test_tracebacks_through_structlog(output: io.StringIO) -> None:
    try:
        _fail_with_secrets()
    except RuntimeError:
        get_logger().exception("poll failed")
    text = output.getvalue()
    _assert_clean(text)
    assert "Traceback" in json.loads(text)["exception"] and "_fail_with_secrets" in text


def test_tracebacks_through_stdlib(output: io.StringIO) -> None:
    try:
        _fail_with_secrets()
    except RuntimeError:
        logging.getLogger("googleapiclient.http").exception("request failed")
    text = output.getvalue()
    _assert_clean(text)
    assert "Traceback" in json.loads(text)["exception"]


def test_exception_objects_as_fields(output: io.StringIO) -> None:
    try:
        _fail_with_secrets()
    except RuntimeError as exc:
        get_logger().error("delivery failed", error=exc)
    _assert_clean(output.getvalue())


def test_console_rendering_on_a_terminal_is_redacted_too() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    parse_config(CONFIG, "t.yaml", env=SECRETS)
    stream = Terminal()
    configure_logging(stream=stream)
    try:
        try:
            _fail_with_secrets()
        except RuntimeError:
            get_logger().exception("poll failed", url=ACCESS_TOKEN_URL)
        text = stream.getvalue()
    finally:
        structlog.reset_defaults()
        root = logging.getLogger()
        root.handlers = [h for h in root.handlers if not getattr(h, "_socialmon", False)]
    _assert_clean(text)
    assert not text.lstrip().startswith("{") and "poll failed" in text and "Traceback" in text


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "Posted https://www.bangor.ac.uk/news?id=5 for monkey=banana at 09:00"
    assert redact(text) == text
