"""A small client for the sandbox's admin endpoints (the demo and tests drive the sandbox with it)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.error import HTTPError


class SandboxError(Exception):
    pass


class SandboxClient:
    def __init__(self, base_url: str, timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base_url}/_admin/{action}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            raise SandboxError(f"sandbox {method} /_admin/{action}: HTTP {exc.code}: {detail}") from None

    def state(self) -> dict[str, Any]:
        return self._call("GET", "state")

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        return self._call("GET", f"requests?since={since}")["requests"]

    def add_post(self, account: str, text: str, **fields: Any) -> dict[str, Any]:
        return self._call("POST", "posts", {"account": account, "text": text, **fields})

    def add_message(self, account: str, channel: str, text: str, **fields: Any) -> dict[str, Any]:
        return self._call(
            "POST", "messages", {"account": account, "channel": channel, "text": text, **fields}
        )

    def add_reply(self, account: str, message: str, text: str, **fields: Any) -> dict[str, Any]:
        return self._call("POST", "replies", {"account": account, "message": message, "text": text, **fields})

    def set_hidden(self, account: str, message: str, hidden: bool = True) -> dict[str, Any]:
        """The account's moderators hide (or show again) a Facebook or Instagram comment."""
        return self._call("POST", "hidden", {"account": account, "message": message, "hidden": hidden})

    def change_profile(self, account: str, **fields: Any) -> dict[str, Any]:
        return self._call("POST", "profile", {"account": account, **fields})

    def schedule_post(self, account: str, text: str, at: str) -> dict[str, Any]:
        return self._call("POST", "scheduled", {"account": account, "text": text, "at": at})

    def set_failure(self, account: str, mode: str | None, **fields: Any) -> dict[str, Any]:
        return self._call("POST", "failure", {"account": account, "mode": mode, **fields})
