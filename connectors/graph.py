"""The Meta Graph API client shared by the Facebook Page and Instagram connectors.

facebook-sdk 3.1.0 (its last release, 2018) checks `version` in `GraphAPI.__init__` against
`VALID_API_VERSIONS` ("2.8" .. "3.1"), refuses anything shaped like "25.0", and without a version
defaults to v2.8, which Meta retired years ago (calls to a retired version are silently served by
the oldest live one, whose fields drift). `VersionedGraphAPI` constructs the SDK client without a
version and then sets `version` from the configuration (`platforms.<p>.graph_version`, default
v25.0) after validating it itself. Every path the SDK builds is `"{self.version}/..."`, so every
request, including paging and batches, carries the configured version explicitly.

The SDK also hard-codes `https://graph.facebook.com/`; it accepts a `requests.Session`, and ours
(`connectors.http.RebasingSession`) sends each request to `platforms.<p>.base_url` instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import facebook
import requests

from connectors.base import (
    AuthExpired,
    BadPayload,
    ConnectorError,
    PermissionMissing,
    PollContext,
    RateLimited,
    Rejected,
    TransientError,
    as_list,
    call_with_retries,
    iso,
)
from connectors.http import RebasingSession, graph_usage, retry_after_seconds
from monitor.config import GraphPlatform

NATIVE_ORIGIN = "https://graph.facebook.com"
MAX_BATCH = 50  # Meta: "Maximum batch size is 50"
MAX_PAGES = 4  # extra pages per edge per poll
USAGE_STOP_PERCENT = 95.0  # stop polling a Graph app/business before Meta throttles it
USAGE_BACKOFF = timedelta(minutes=15)

_AUTH_CODES = {102, 190, 452, 458, 459, 460, 463, 464, 467}
_RATE_CODES = {4, 17, 32, 341, 368, 613, *range(80001, 80015)}
_PERMISSION_CODES = {3, 10, *range(200, 300)}
_TRANSIENT_CODES = {1, 2}


class VersionedGraphAPI(facebook.GraphAPI):
    """facebook-sdk's GraphAPI, pinned explicitly to a current Graph API version."""

    def __init__(self, access_token: str, version: str, timeout: float, session: requests.Session):
        # No `version` here: the SDK would reject any current one. Set it explicitly below.
        super().__init__(access_token=access_token, timeout=timeout, session=session)
        if not re.fullmatch(r"v\d{1,2}\.\d", version):
            raise ValueError(f"{version!r} is not a Graph API version like v25.0")
        self.version = version


@dataclass
class BatchItem:
    """One answer inside a batch: the HTTP code and the parsed body, or the error it maps to."""

    code: int
    body: Any
    error: ConnectorError | None


class GraphClient:
    def __init__(
        self,
        settings: GraphPlatform,
        token: str,
        platform: str,
        ctx: PollContext,
        transport: requests.Session | None = None,
    ):
        self.platform = platform
        self.ctx = ctx
        self.session = RebasingSession(
            NATIVE_ORIGIN, settings.base_url, settings.timeout.total_seconds(), transport
        )
        self.api = VersionedGraphAPI(
            token, settings.graph_version, settings.timeout.total_seconds(), self.session
        )
        self.version = settings.graph_version

    # -- requests -------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any], label: str) -> dict[str, Any]:
        """GET /{version}/{path}?params (one API call)."""
        body = self._request(lambda: self.api.request(f"{self.version}/{path}", dict(params)), label, calls=1)
        if not isinstance(body, dict):
            raise BadPayload(f"{self.platform} {label}: response is not a JSON object")
        return body

    def follow(self, next_url: str, label: str) -> dict[str, Any]:
        """Follow a `paging.next` URL (its path keeps the version Meta put in it)."""
        parts = urlsplit(next_url)
        path = parts.path.lstrip("/")
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        body = self._request(lambda: self.api.request(path, params), label, calls=1)
        if not isinstance(body, dict):
            raise BadPayload(f"{self.platform} {label}: paging response is not a JSON object")
        return body

    def all_pages(
        self, edge: dict[str, Any], label: str, stop: Callable[[list[Any]], bool] | None = None
    ) -> list[Any]:
        """An edge's items, following `paging.next` (at most MAX_PAGES more pages) until `stop(page)`."""
        items = list(as_list(edge.get("data"), f"{self.platform} {label}"))
        page = edge
        for _ in range(MAX_PAGES):
            next_url = paging_next(page)
            if not next_url or (stop and stop(as_list(page.get("data"), label))):
                break
            page = self.follow(next_url, label)
            items.extend(as_list(page.get("data"), f"{self.platform} {label}"))
        return items

    def batch(self, items: list[tuple[str, dict[str, Any]]], label: str) -> list[BatchItem]:
        """One POST with up to 50 GETs; each answer succeeds or fails on its own.

        Meta counts every request inside a batch against the rate limits, so each is an API call.
        """
        if not 0 < len(items) <= MAX_BATCH:
            raise ValueError(f"a Graph batch takes 1 to {MAX_BATCH} requests")
        batch = [{"method": "GET", "relative_url": f"{path}?{urlencode(params)}"} for path, params in items]
        post_args = {"batch": json.dumps(batch, separators=(",", ":")), "include_headers": "false"}
        answers = self._request(
            lambda: self.api.request(f"{self.version}/", post_args=post_args), label, calls=len(items)
        )
        if not isinstance(answers, list) or len(answers) != len(items):
            raise BadPayload(f"{self.platform} {label}: batch answer is not a list of {len(items)}")
        return [self._batch_item(answer, f"{label}[{i}]") for i, answer in enumerate(answers)]

    def _batch_item(self, answer: Any, label: str) -> BatchItem:
        if answer is None:  # Meta: a request that timed out inside the batch answers null
            return BatchItem(0, None, TransientError(f"{self.platform} {label}: timed out inside the batch"))
        if not isinstance(answer, dict) or not isinstance(answer.get("code"), int):
            raise BadPayload(f"{self.platform} {label}: malformed batch answer")
        try:
            body = json.loads(answer.get("body") or "null")
        except ValueError:
            raise BadPayload(f"{self.platform} {label}: batch body is not JSON") from None
        code = answer["code"]
        if code == 200 and isinstance(body, dict) and "error" not in body:
            return BatchItem(code, body, None)
        return BatchItem(code, body, map_graph_error(self.platform, label, code, body, {}, self.ctx.now))

    def _request(self, send: Callable[[], Any], label: str, calls: int) -> Any:
        def attempt() -> Any:
            self._stop_if_usage_high(label)
            try:
                return send()
            except facebook.GraphAPIError as exc:
                raise self._error(label, exc.result) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise TransientError(f"{self.platform} {label}: {type(exc).__name__}") from None
            except (ValueError, KeyError):
                # The SDK parses the body itself: truncated JSON or a missing content-type lands here.
                raise self._unreadable(label) from None
            finally:
                self.ctx.api_calls += calls
                self.ctx.http_requests += 1
                if self.session.last_response is not None:
                    self.ctx.note_rate_limits(
                        graph_usage(self.session.last_response.headers, self.platform, self.ctx.now)
                    )

        return call_with_retries(self.ctx, attempt)

    def _stop_if_usage_high(self, label: str) -> None:
        """Meta's usage headers near 100%: stop now rather than earn a throttle for the whole app."""
        for limit in self.ctx.rate_limits.values():
            if limit.platform == self.platform and (limit.used_percent or 0) >= USAGE_STOP_PERCENT:
                until = limit.reset_at or self.ctx.now + USAGE_BACKOFF
                raise RateLimited(
                    f"{self.platform} {label}: {limit.bucket} at {limit.used_percent:.0f}% of its budget; "
                    f"paused until {iso(until)}",
                    until=until,
                    bucket=limit.bucket,
                )

    def _error(self, label: str, result: Any) -> ConnectorError:
        response = self.session.last_response
        status = response.status_code if response is not None else 0
        headers = response.headers if response is not None else {}
        if not isinstance(result, dict):  # the SDK's own message: the body was not JSON
            if status >= 500 or status == 0:
                return TransientError(
                    f"{self.platform} {label}: HTTP {status}", retry_after_seconds(headers, self.ctx.now)
                )
            return self._unreadable(label)
        return map_graph_error(self.platform, label, status, result, headers, self.ctx.now)

    def _unreadable(self, label: str) -> ConnectorError:
        response = self.session.last_response
        status = response.status_code if response is not None else 0
        if status >= 500:
            return TransientError(f"{self.platform} {label}: HTTP {status}")
        return BadPayload(f"{self.platform} {label}: response is not readable JSON (HTTP {status})")


def map_graph_error(
    platform: str, label: str, status: int, body: Any, headers: Any, now: datetime
) -> ConnectorError:
    """A Graph error object (`{"error": {"code", "error_subcode", "is_transient"}}`) as a typed error."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        if status >= 500:
            return TransientError(f"{platform} {label}: HTTP {status}")
        return BadPayload(f"{platform} {label}: HTTP {status} without a Graph error object")
    code = error.get("code")
    subcode = error.get("error_subcode")
    message = str(error.get("message") or "")
    where = (
        f"{platform} {label}: ({error.get('type', '')} {code}{f'/{subcode}' if subcode else ''}) {message}"
    )
    if code in _AUTH_CODES or subcode in {458, 459, 460, 463, 464, 467}:
        return AuthExpired(where)
    if code in _RATE_CODES:
        until = _regain_at(headers, now) or now + USAGE_BACKOFF
        return RateLimited(f"{where}; paused until {iso(until)}", until=until, bucket=f"graph:{code}")
    if code in _PERMISSION_CODES:
        return PermissionMissing(where)
    if code == 100 and (subcode == 33 or re.search(r"permission|access", message, re.I)):
        return PermissionMissing(where)
    if error.get("is_transient") is True or (
        code in _TRANSIENT_CODES and error.get("is_transient") is not False
    ):
        return TransientError(where, retry_after_seconds(headers, now))
    if status >= 500:
        return TransientError(where, retry_after_seconds(headers, now))
    return Rejected(where)


def _regain_at(headers: Any, now: datetime) -> datetime | None:
    moments = [limit.reset_at for limit in graph_usage(headers, "", now) if limit.reset_at]
    retry = retry_after_seconds(headers, now) if headers else None
    if retry:
        moments.append(now + timedelta(seconds=retry))
    return max(moments, default=None)


def paging_next(edge: Any) -> str | None:
    """The `paging.next` URL of an edge, if Meta says there is more."""
    if not isinstance(edge, dict):
        return None
    paging = edge.get("paging")
    if not isinstance(paging, dict):
        return None
    next_url = paging.get("next")
    return next_url if isinstance(next_url, str) and next_url else None


def strip_query(url: str | None) -> str:
    """A CDN URL without its signature query (stable across re-signing)."""
    if not url:
        return ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.scheme else parts.path
