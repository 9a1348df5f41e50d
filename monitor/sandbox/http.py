"""What the platform handlers share: a parsed request, a response, opaque page tokens."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from monitor.clock import as_utc
from monitor.sandbox.scenario import SAccount


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    base_url: str  # scheme://host:port as the client addressed the sandbox
    now: datetime

    def bearer(self) -> str:
        value = self.headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        return token.strip() if scheme.lower() in {"bearer", "oauth"} else ""

    def int_param(self, name: str, default: int) -> int:
        """A whole-number parameter; ValueError names it when it is not one."""
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise ValueError(name) from None

    def url(self, path: str, query: dict[str, str]) -> str:
        return f"{self.base_url}{path}?{urlencode(query)}"


@dataclass
class Response:
    status: int
    body: Any  # JSON-serialisable, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    account: SAccount | None = None

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def encode_token(offset: int, salt: str = "") -> str:
    """An opaque page token (platforms' tokens are opaque too; clients must not parse them)."""
    raw = json.dumps({"o": offset, "s": salt}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> int:
    """The offset in a token; ValueError when the token is not one of ours."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset = int(data["o"])
    except (ValueError, KeyError, TypeError):
        raise ValueError(token) from None
    if offset < 0:
        raise ValueError(token)
    return offset


def page(items: list[Any], offset: int, size: int) -> tuple[list[Any], int | None]:
    """One page of `items` and the offset of the next page (None: this is the last)."""
    chunk = items[offset : offset + size]
    following = offset + size
    return chunk, (following if following < len(items) else None)


def parse_time_param(value: str) -> datetime:
    """A unix timestamp or an ISO 8601 time (Graph accepts both for since/until)."""
    text = value.strip()
    if text.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(text), UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return as_utc(parsed)


def cap(size: int, world_cap: int | None) -> int:
    """The page size actually served: what was asked for, at most the scenario's cap."""
    return min(size, world_cap) if world_cap else size
