"""Notifiers: one module per channel type, found through one explicit, lazily imported registry.

A notifier has a pure `payload(alert, channel) -> dict | EmailMessage` (what would be sent) and a
thin `send(alert, channel) -> None` that raises `DeliveryError` on failure and never returns a bool,
so the outbox always knows which channel failed, why, and whether retrying can help.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

from monitor.notifiers.specs import CHANNELS
from monitor.seams import AlertPayload

# channel type (config `type:`) -> "module:Class" (derived from the channel registry)
NOTIFIERS: Mapping[str, str] = {name: model.notifier for name, model in CHANNELS.items()}


class DeliveryError(Exception):
    """A delivery failed. `permanent`: retrying the same alert cannot help (the channel is broken or
    refuses the message). `retry_after`: seconds the receiver asked us to wait (HTTP 429)."""

    def __init__(self, message: str, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True)
class OutgoingAlert:
    """One outbox row as a notifier sees it: render-agnostic data, no secrets.

    `payload` is an `AlertPayload` (monitor.seams): every key optional.
    """

    id: int
    route: str
    channel: str
    reason: str  # first | repeat | resolved | digest | test | emergency | operations
    severity: str
    subject: str
    payload: AlertPayload = field(default_factory=lambda: AlertPayload())
    created_at: datetime | None = None

    @property
    def kind(self) -> str:
        return str(self.payload.get("kind", "notice"))

    def versions(self) -> list[tuple[str, dict[str, Any]]]:
        """(locale, payload) for each language the message is written in, Welsh first (a bilingual
        channel's row has `versions`; older rows and English-only producers have one)."""
        versions = self.payload.get("versions")
        if isinstance(versions, list) and versions:
            return [(str(v.get("locale") or "en"), v) for v in versions if isinstance(v, dict)]
        return [(str(self.payload.get("locale") or "en"), cast(dict[str, Any], self.payload))]


class Notifier(Protocol):
    type: str

    def payload(self, alert: OutgoingAlert, channel: Any) -> Any: ...

    def send(self, alert: OutgoingAlert, channel: Any) -> None: ...

    def close(self) -> None: ...


def get_notifier(channel_type: str) -> Notifier:
    """A new notifier for a channel type (imported on first use)."""
    target = NOTIFIERS.get(channel_type)
    if target is None:
        raise KeyError(f"no notifier for channel type {channel_type!r}")
    module_name, attr = target.split(":")
    cls = getattr(importlib.import_module(module_name), attr)
    notifier: Notifier = cls()
    return notifier
