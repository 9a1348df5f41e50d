"""What each alert channel type is, as data: its settings model (`alerts.channels.<name>`), the
notifier that delivers through it, and how `check-config` describes it. The one place that lists
channel types.

The config schema builds `alerts.channels` from `CHANNELS`, and `monitor.notifiers.get_notifier`
imports a channel's notifier only when something is sent through it; this module imports neither
SMTP nor HTTP libraries.

Adding a channel type: write `monitor/notifiers/<type>.py` (a `Notifier`) and add its settings
model (with `notifier`, `summary` and `describe`) here, in `CHANNELS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from monitor.config_fields import Duration, Email, Strict

MASK = "****"


class ChannelSettings(Strict):
    """What every channel's settings model declares."""

    type: str
    notifier: ClassVar[str]  # "module:Class" of the notifier that delivers through this channel

    def summary(self) -> dict[str, Any]:
        """What `check-config --json` shows of this channel, every secret masked."""
        raise NotImplementedError

    @staticmethod
    def describe(summary: dict[str, Any]) -> str:
        """One line of `check-config` for this channel, from its `summary()`."""
        raise NotImplementedError


class EmailChannel(ChannelSettings):
    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(587, gt=0, lt=65536)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    from_: Email = Field(alias="from")
    to: list[Email] = Field(min_length=1)
    timeout: Duration = timedelta(seconds=30)
    verify_tls: bool = True
    ca_file: str | None = None
    language: Literal["cy", "en", "cy+en"] | None = None  # default: the top-level `locale`
    allow_insecure: bool = False  # a password over security: none to a non-loopback host

    notifier: ClassVar[str] = "monitor.notifiers.email:EmailNotifier"

    def summary(self) -> dict[str, Any]:
        return {
            "type": "email",
            "server": f"{self.host}:{self.port}",
            "security": self.security,
            "username": self.username,
            "password": MASK if self.password is not None else None,
            "from": self.from_,
            "to": list(self.to),
        }

    @staticmethod
    def describe(summary: dict[str, Any]) -> str:
        login = f", user {summary['username']} password {summary['password']}" if summary["username"] else ""
        return f"{summary['server']} {summary['security']}{login}, to {', '.join(summary['to'])}"


class TeamsChannel(ChannelSettings):
    type: Literal["teams"]
    url: SecretStr
    format: Literal["workflows", "legacy"] = "workflows"
    timeout: Duration = timedelta(seconds=15)
    language: Literal["cy", "en", "cy+en"] | None = None  # default: the top-level `locale`
    allow_insecure: bool = False  # a webhook host that is neither Microsoft's nor loopback

    notifier: ClassVar[str] = "monitor.notifiers.teams:TeamsNotifier"

    @field_validator("url")
    @classmethod
    def _https(cls, value: SecretStr) -> SecretStr:
        parts = urlsplit(value.get_secret_value())
        loopback = parts.hostname in {"localhost", "127.0.0.1", "::1"} or (parts.hostname or "").startswith(
            "127."
        )
        if parts.scheme == "https" and parts.hostname:
            return value
        if parts.scheme == "http" and loopback:
            return value
        raise ValueError("Teams webhook URL must be https (plain http only to a loopback host)")

    def summary(self) -> dict[str, Any]:
        parts = urlsplit(self.url.get_secret_value())
        # The whole path of a webhook URL is its credential: show only where it goes.
        return {"type": "teams", "format": self.format, "url": f"{parts.scheme}://{parts.netloc}/{MASK}"}

    @staticmethod
    def describe(summary: dict[str, Any]) -> str:
        return f"{summary['url']} ({summary['format']})"


# The registry: channel type (config `type:`) -> its settings model.
CHANNELS: Mapping[str, type[ChannelSettings]] = MappingProxyType(
    {"email": EmailChannel, "teams": TeamsChannel}
)


def channel_settings(channel_type: str) -> type[ChannelSettings]:
    try:
        return CHANNELS[channel_type]
    except KeyError:
        raise KeyError(f"no notifier for channel type {channel_type!r}") from None
