"""HTTP plumbing for the requests-based clients (tweepy, facebook-sdk).

Both libraries hard-code their hosts (`https://api.twitter.com` in `tweepy.client.BaseClient.request`,
`facebook.FACEBOOK_GRAPH_URL`) but both send every request through a `requests.Session` they let us
supply. `RebasingSession` is that session: it moves each request from the library's native origin
to the configured `base_url` (an outbound proxy or the sandbox), applies the timeout, and counts
requests and keeps the last response so the connector can read status and rate-limit headers
that the libraries throw away. Each request runs under a whole-call deadline of the configured
timeout (`connectors.deadline`), and a redirect to another host is not followed (the 3xx comes
back to the connector as an error).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from connectors.deadline import DeadlineAdapter, deadline
from monitor.clock import parse_retry_after
from monitor.models import RateLimit


class RebasingSession(requests.Session):
    """A requests.Session that sends `native_origin/...` requests to `base_url/...` instead."""

    def __init__(
        self, native_origin: str, base_url: str, timeout: float, transport: requests.Session | None = None
    ):
        super().__init__()
        self.native_origin = native_origin.rstrip("/")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.requests_made = 0
        self.last_response: requests.Response | None = None
        if transport is not None:
            # Reuse the caller's adapters (connection pool, retries off, test transports).
            for prefix, adapter in transport.adapters.items():
                self.mount(prefix, adapter)
        else:
            for prefix in ("https://", "http://"):
                self.mount(prefix, DeadlineAdapter())

    def rebase(self, url: str) -> str:
        if url.startswith(self.native_origin + "/") or url == self.native_origin:
            return self.base_url + url[len(self.native_origin) :]
        return url

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        url_text = url.decode() if isinstance(url, bytes) else url
        kwargs["timeout"] = kwargs.get("timeout") or self.timeout
        self.last_response = None
        self.requests_made += 1
        with deadline(self.timeout):
            response = super().request(method, self.rebase(url_text), *args, **kwargs)
        self.last_response = response
        return response

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        """Follow a redirect only within the same host: a platform API never sends us elsewhere."""
        target = super().get_redirect_target(resp)
        if target is None:
            return None
        here = urlsplit(resp.url or "")
        there = urlsplit(urljoin(resp.url or "", target))
        if (there.scheme, there.netloc.lower()) != (here.scheme, here.netloc.lower()):
            return None
        return target


def path_of(url: str) -> str:
    return urlsplit(url).path


# --- rate-limit headers -----------------------------------------------------------------------


def retry_after_seconds(headers: Any, now: datetime) -> float | None:
    """Retry-After as seconds (it may be a delay or an HTTP date)."""
    return parse_retry_after(headers.get("retry-after") if headers is not None else None, now)


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def x_rate_limit(headers: Any, bucket: str) -> RateLimit | None:
    """X's `x-rate-limit-limit/remaining/reset` (reset is epoch seconds)."""
    if headers is None or "x-rate-limit-limit" not in headers:
        return None
    reset = _int(headers.get("x-rate-limit-reset"))
    return RateLimit(
        platform="x",
        bucket=bucket,
        limit=_int(headers.get("x-rate-limit-limit")),
        remaining=_int(headers.get("x-rate-limit-remaining")),
        reset_at=datetime.fromtimestamp(reset, UTC) if reset is not None else None,
    )


def graph_usage(headers: Any, platform: str, now: datetime) -> list[RateLimit]:
    """Meta's usage headers as rate-limit rows (percent of the budget used, when access returns).

    `x-app-usage`: {"call_count": %, "total_cputime": %, "total_time": %}.
    `x-business-use-case-usage`: {"<id>": [{"type", "call_count", "total_cputime", "total_time",
    "estimated_time_to_regain_access" (minutes)}]}.
    """
    limits: list[RateLimit] = []
    if headers is None:
        return limits
    app = _json_header(headers.get("x-app-usage"))
    if isinstance(app, dict):
        limits.append(RateLimit(platform=platform, bucket="x-app-usage", used_percent=_max_percent(app)))
    buc = _json_header(headers.get("x-business-use-case-usage"))
    if isinstance(buc, dict):
        for owner, entries in buc.items():
            for entry in entries if isinstance(entries, list) else []:
                if not isinstance(entry, dict):
                    continue
                minutes = _int(entry.get("estimated_time_to_regain_access")) or 0
                limits.append(
                    RateLimit(
                        platform=platform,
                        bucket=f"buc:{owner}:{entry.get('type', '')}",
                        used_percent=_max_percent(entry),
                        reset_at=now + timedelta(minutes=minutes) if minutes else None,
                    )
                )
    return limits


def _json_header(value: Any) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return None


def _max_percent(entry: dict[str, Any]) -> float:
    values = [entry.get(k) for k in ("call_count", "total_cputime", "total_time", "acc_id_util_pct")]
    numbers = [float(v) for v in values if isinstance(v, int | float)]
    return max(numbers, default=0.0)
