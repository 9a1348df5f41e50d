"""The one HTTP helper notifiers use: a timeout on every request, and no secret URL in any error.

A webhook URL is a credential (anyone holding it can post to the channel), so errors name the
channel and host only, and every text taken from an exception or a response is scrubbed of the
URL and passed through `monitor.logs.redact`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from monitor import clock
from monitor.logs import redact
from monitor.notifiers import DeliveryError

USER_AGENT = "socialmon-notifier/1"
# Statuses that mean the webhook itself is gone or refuses us: the channel needs an operator.
CHANNEL_BROKEN = {401, 403, 404, 410}
TRANSIENT = {408, 409, 425, 429}
MAX_RETRY_AFTER = 3600.0


def safe_target(url: str) -> str:
    """What an error may show of a secret URL: its host (and port), never the path or query.

    Not written as a URL: the log redactor replaces any Workflows-looking URL whole, which would
    also swallow the host and the punctuation after it ("([REDACTED-URL] cannot connect").
    """
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"host {parts.hostname or '?'}{port}"


def scrub(text: str, url: str) -> str:
    """Remove a secret URL (whole, or its path/query in any form) from a text, then redact."""
    parts = urlsplit(url)
    for piece in sorted(
        {
            url,
            url.rstrip("/"),
            parts.path + ("?" + parts.query if parts.query else ""),
            parts.path,
            parts.query,
        },
        key=len,
        reverse=True,
    ):
        if len(piece) > 1:
            text = text.replace(piece, "[redacted]")
    return redact(text)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds (a delay or an HTTP date), capped at an hour."""
    return clock.parse_retry_after(value, now, cap=MAX_RETRY_AFTER)


def post_json(
    url: str,
    body: dict[str, Any],
    *,
    timeout: float,
    label: str,
    session: requests.Session | None = None,
) -> requests.Response:
    """POST a JSON body; return the 2xx response or raise DeliveryError (classified, scrubbed)."""
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    where = f"{label} ({safe_target(url)})"
    try:
        response = (session or requests).post(
            url, data=data, headers=headers, timeout=timeout, allow_redirects=False
        )
    except requests.Timeout:
        raise DeliveryError(f"{where}: no answer within {timeout:g}s") from None
    except requests.ConnectionError as exc:
        raise DeliveryError(f"{where}: cannot connect ({scrub(_root_cause(exc), url)})") from None
    except requests.RequestException as exc:
        raise DeliveryError(f"{where}: {type(exc).__name__}: {scrub(str(exc), url)}") from None
    if 200 <= response.status_code < 300:
        return response
    raise _status_error(response, where, url)


def _status_error(response: requests.Response, where: str, url: str) -> DeliveryError:
    status = response.status_code
    snippet = scrub(" ".join(response.text[:300].split()), url)
    message = f"{where}: HTTP {status}" + (f": {snippet}" if snippet else "")
    if status == 429 or status == 503:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return DeliveryError(message, permanent=False, retry_after=retry_after)
    if status in TRANSIENT or status >= 500:
        return DeliveryError(message, permanent=False)
    if status in CHANNEL_BROKEN:
        return DeliveryError(
            message + " (the webhook is gone or refuses us: check the channel's URL)", permanent=True
        )
    # 400, 413 and other 4xx: the receiver refuses this message; sending it again cannot help.
    return DeliveryError(message, permanent=True)


def _root_cause(exc: BaseException) -> str:
    """The innermost reason of a connection error (e.g. 'Connection refused'), not urllib3's chain."""
    seen = exc
    while seen.__cause__ is not None or seen.__context__ is not None:
        seen = seen.__cause__ or seen.__context__  # type: ignore[assignment]
    reason = getattr(seen, "reason", None) or seen
    text = str(reason)
    # urllib3 wraps the OS error as "<urllib3...>: Failed to establish a new connection: [Errno 111] ..."
    return text.split(": ", 1)[-1] if "Failed to establish" in text else text
