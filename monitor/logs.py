"""Structured logging (structlog) with one processor that redacts secrets everywhere.

Our own code logs through structlog; libraries (urllib3, googleapiclient, tweepy, alembic) log
through the standard library, whose records are rendered by the same processors. Both end in
`redact_processor`, which masks every secret value the config resolved and anything shaped
like a credential (`access_token=` / `key=` in URLs, Authorization headers, Teams webhook
URLs, passwords in database URLs), in messages, fields and tracebacks alike.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from monitor.config import RESOLVED_SECRETS
from monitor.secrets import mask_secrets

_PATTERNS = (
    # query parameters and key=value pairs that carry credentials
    (
        re.compile(
            r"(?i)\b(access_token|key|api_key|apikey|token|client_secret|password|passwd|sig|code|appsecret_proof"
            r"|refresh_token|bearer_token|input_token|code_verifier)=([^&\s\"']+)"
        ),
        r"\1=[REDACTED]",
    ),
    # Authorization / bearer headers, in any rendering (dict repr, JSON, raw HTTP)
    (
        re.compile(r"(?i)\b(authorization['\"]?\s*[:=]\s*['\"]?)(bearer|basic|oauth)?\s*[^\s'\",}]+"),
        r"\1[REDACTED]",
    ),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/%=-]{8,}"), "Bearer [REDACTED]"),
    # webhook URLs (Workflows, legacy connectors): the path itself is the secret
    (
        re.compile(
            r"(?i)https?://[^\s\"'<>]*(?:webhook|logic\.azure\.com|powerautomate|powerplatform|flow\.microsoft)"
            r"[^\s\"'<>]*"
        ),
        "[REDACTED-URL]",
    ),
    # user:password@host in database and SMTP URLs
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/\s@]+):[^@\s/]+@"), r"\1:[REDACTED]@"),
)

# Field names whose value is a secret whatever it looks like.
_SECRET_KEYS = frozenset(
    {
        "authorization",
        "password",
        "passwd",
        "token",
        "access_token",
        "api_key",
        "bearer_token",
        "webhook_url",
        "secret",
        "client_secret",
        "refresh_token",
        "cookie",
        "set-cookie",
        "x-api-key",
    }
)


def redact(text: str) -> str:
    """Remove every known secret value and secret-shaped substring from a text."""
    if not text:
        return text
    # Every form of each secret: each of its lines, JSON-escaped, URL-encoded, repr.
    text = mask_secrets(text, frozenset(RESOLVED_SECRETS))
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return redact(value)
    if depth > 8:  # a pathological structure: its text form, redacted, is enough for a log
        return redact(repr(value))
    if isinstance(value, dict):
        return {
            k: "[REDACTED]" if str(k).lower() in _SECRET_KEYS else _redact_value(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return (
            [_redact_value(v, depth + 1) for v in value]
            if not isinstance(value, tuple)
            else tuple(_redact_value(v, depth + 1) for v in value)
        )
    if isinstance(value, BaseException):
        return redact(f"{type(value).__name__}: {value}")
    if isinstance(value, bytes):
        return redact(value.decode("utf-8", "replace"))
    if value is None or isinstance(value, bool | int | float):
        return value
    # Anything else (a URL object, a request, a datetime) is rendered from its text: redact that.
    return redact(str(value))


def redact_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The one processor every log line passes through last before rendering."""
    for key, value in list(event_dict.items()):
        if key.startswith("_"):  # structlog's internals (_record, _from_structlog): never rendered
            continue
        if key.lower() in _SECRET_KEYS:
            event_dict[key] = "[REDACTED]"
        else:
            event_dict[key] = _redact_value(value)
    return event_dict


def _redact_exc_info(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Tracebacks are rendered to text first (format_exc_info) so the redactor sees them."""
    if "exception" in event_dict:
        event_dict["exception"] = redact(str(event_dict["exception"]))
    return event_dict


class _StdlibRedactFilter(logging.Filter):
    """Redacts a stdlib record's message in place (for handlers other than ours, e.g. pytest's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


_configured = False


def _renderer(json: bool) -> Any:
    return structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)


def configure_logging(level: str = "INFO", json: bool | None = None, stream: Any = None) -> None:
    """JSON lines when the stream is not a terminal, readable console otherwise."""
    global _configured
    stream = stream or sys.stderr
    if json is None:
        json = not (hasattr(stream, "isatty") and stream.isatty())
    common: list[Any] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    tail: list[Any] = [structlog.processors.format_exc_info, _redact_exc_info, redact_processor]
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, *common, *tail, _renderer(json)],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    # Libraries log through stdlib: render their records with the same chain, redactor included.
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*common, structlog.stdlib.add_logger_name],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail, _renderer(json)],
    )
    handler = logging.StreamHandler(stream)
    handler.addFilter(_StdlibRedactFilter())
    handler.setFormatter(formatter)
    root = logging.getLogger()
    # Replace only handlers we installed before, so pytest's capture handlers stay.
    root.handlers = [h for h in root.handlers if not getattr(h, "_socialmon", False)]
    handler._socialmon = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    # Library chatter (urllib3 connection lines) only when debugging.
    root.setLevel(logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING)
    _configured = True


def get_logger(**bound: Any) -> Any:
    # A lazy proxy: a module-level logger created before configure_logging() still goes through
    # the configured processors (the redactor above all) instead of structlog's defaults.
    return structlog.get_logger("socialmon", **bound)
