"""Structured logging (structlog) with one processor that redacts secrets everywhere."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from monitor.config import RESOLVED_SECRETS

_PATTERNS = (
    # query parameters that carry credentials
    (re.compile(r"(?i)\b(access_token|key|api_key|token|client_secret|password|sig|code|appsecret_proof)=([^&\s\"']+)"), r"\1=[REDACTED]"),
    # Authorization / bearer headers
    (re.compile(r"(?i)\b(authorization['\"]?\s*[:=]\s*['\"]?)(bearer|basic|oauth)?\s*[^\s'\",}]+"), r"\1[REDACTED]"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/%=-]{8,}"), "Bearer [REDACTED]"),
    # webhook URLs (Workflows, legacy connectors): the path itself is the secret
    (re.compile(r"(?i)https?://[^\s\"'<>]*(?:webhook|logic\.azure\.com|powerautomate|powerplatform|flow\.microsoft)[^\s\"'<>]*"), "[REDACTED-URL]"),
    # user:password@host in database and SMTP URLs
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/\s@]+):[^@\s/]+@"), r"\1:[REDACTED]@"),
)


def redact(text: str) -> str:
    """Remove every known secret value and secret-shaped substring from a text."""
    if not text:
        return text
    for secret in sorted(RESOLVED_SECRETS, key=len, reverse=True):
        if len(secret) >= 4 and secret in text:
            text = text.replace(secret, "[REDACTED]")
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(v) for v in value)
    if isinstance(value, BaseException):
        return redact(f"{type(value).__name__}: {value}")
    return value


def redact_processor(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if key.lower() in {"authorization", "password", "token", "access_token", "api_key", "bearer_token", "webhook_url"}:
            event_dict[key] = "[REDACTED]"
        else:
            event_dict[key] = _redact_value(value)
    return event_dict


def _redact_exc_info(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Render tracebacks to text first so the redactor sees them."""
    if "exception" in event_dict:
        event_dict["exception"] = redact(str(event_dict["exception"]))
    return event_dict


class _StdlibRedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


_configured = False


def configure_logging(level: str = "INFO", json: bool | None = None, stream: Any = None) -> None:
    """JSON lines when the stream is not a terminal, readable console otherwise."""
    global _configured
    stream = stream or sys.stderr
    if json is None:
        json = not (hasattr(stream, "isatty") and stream.isatty())
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _redact_exc_info,
            redact_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    # Libraries (urllib3, googleapiclient, tweepy) log through stdlib: redact those too.
    root = logging.getLogger()
    if not any(isinstance(f, _StdlibRedactFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler(stream)
        handler.addFilter(_StdlibRedactFilter())
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.handlers = [handler]
        root.setLevel(logging.WARNING)
    _configured = True


def get_logger(**bound: Any) -> Any:
    return structlog.get_logger("socialmon").bind(**bound)
