"""Settings that would leak secrets or alerts: refused unless `allow_insecure: true` sits beside them,
and settings worth a warning.

Refused (a config error, like any other):
- a Teams webhook URL whose host is neither a Microsoft webhook host nor loopback: the URL is the
  credential, and alerts name accounts and people;
- an SMTP password sent over `security: none` to a host that is not loopback (plain-text login);
- a platform `base_url` over plain http to a host that is not loopback (the token in clear).

Warned (printed by `check-config` and logged by `run`): `verify_tls: false`, a password written
into the database URL, a metrics listener on a non-loopback address (metrics and /healthz are
unauthenticated), and platforms pointed at a loopback address (the sandbox): real accounts are
then not polled.

Microsoft's webhook hosts are listed, with their sources, in docs/OPERATIONS.md.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from monitor.config_schema import Config
from monitor.notifiers.specs import EmailChannel, TeamsChannel

# Teams Workflows (Power Automate) and the legacy Incoming Webhook connector post to these hosts.
MICROSOFT_WEBHOOK_SUFFIXES = (
    ".logic.azure.com",  # Workflows / Power Automate HTTP trigger (older flows)
    ".environment.api.powerplatform.com",  # Workflows / Power Automate HTTP trigger (current flows)
    ".webhook.office.com",  # Incoming Webhook (Office 365 connector, legacy format)
)

Problem = tuple[tuple[Any, ...], str]


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_microsoft_webhook_host(host: str | None) -> bool:
    host = (host or "").lower().rstrip(".")
    return any(host.endswith(suffix) for suffix in MICROSOFT_WEBHOOK_SUFFIXES)


def insecure_settings(config: Config, raw: dict[str, Any]) -> tuple[list[Problem], list[Problem]]:
    """(refusals, warnings) for `config`; `raw` is the YAML before `${...}` was resolved."""
    refused: list[Problem] = []
    warned: list[Problem] = []
    _channels(config, refused, warned)
    _platforms(config, refused, warned)
    _database(raw, warned)
    _metrics(config, warned)
    return refused, warned


def _channels(config: Config, refused: list[Problem], warned: list[Problem]) -> None:
    for name, channel in config.alerts.channels.items():
        where = ("alerts", "channels", name)
        if isinstance(channel, TeamsChannel):
            host = urlsplit(channel.url.get_secret_value()).hostname
            if not (is_microsoft_webhook_host(host) or is_loopback(host) or channel.allow_insecure):
                refused.append(
                    (
                        (*where, "url"),
                        f"the webhook host {host!r} is not a Microsoft webhook host "
                        f"(*{', *'.join(MICROSOFT_WEBHOOK_SUFFIXES)}) nor loopback; alerts would go "
                        "elsewhere (set allow_insecure: true on this channel if that is meant)",
                    )
                )
        elif isinstance(channel, EmailChannel):
            if (
                channel.password is not None
                and channel.security == "none"
                and not is_loopback(channel.host)
                and not channel.allow_insecure
            ):
                refused.append(
                    (
                        (*where, "security"),
                        f"would send the SMTP password in clear text to {channel.host} (security: none); "
                        "use starttls or tls (or set allow_insecure: true on this channel)",
                    )
                )
            if not channel.verify_tls and channel.security != "none":
                warned.append(
                    (
                        (*where, "verify_tls"),
                        "verify_tls: false accepts any certificate (a spoofed server too)",
                    )
                )


def _platforms(config: Config, refused: list[Problem], warned: list[Problem]) -> None:
    for platform in ("x", "facebook", "instagram", "youtube"):
        settings = getattr(config.platforms, platform)
        parts = urlsplit(settings.base_url)
        where = ("platforms", platform, "base_url")
        if is_loopback(parts.hostname):
            if any(a.platform == platform and a.enabled for a in config.accounts):
                warned.append(
                    (
                        where,
                        f"points at {parts.scheme}://{parts.netloc} on this machine (the sandbox?): "
                        f"real {platform} accounts are not polled",
                    )
                )
        elif parts.scheme == "http" and not settings.allow_insecure:
            refused.append(
                (
                    where,
                    f"plain http to {parts.hostname} would send the {platform} token in clear text; use "
                    "https (or set allow_insecure: true beside base_url)",
                )
            )


def _database(raw: dict[str, Any], warned: list[Problem]) -> None:
    url = raw.get("database")
    if not isinstance(url, str) or "://" not in url:
        return
    netloc = url.split("://", 1)[1].split("/", 1)[0]
    if "@" not in netloc:
        return
    userinfo = netloc.rsplit("@", 1)[0]
    if ":" in userinfo and "${" not in userinfo.split(":", 1)[1]:
        warned.append(
            (
                ("database",),
                "a password is written in the database URL; put it in the environment or a file "
                "(${NAME} or ${file:...}) so the config can be shared",
            )
        )


def _metrics(config: Config, warned: list[Problem]) -> None:
    host = config.service.metrics_host
    if not is_loopback(host):
        warned.append(
            (
                ("service", "metrics_host"),
                f"metrics and /healthz listen on {host}, beyond this machine, without authentication; "
                "keep 127.0.0.1 and scrape through a proxy or a tunnel",
            )
        )
