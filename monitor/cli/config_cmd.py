"""`socialmon check-config [PATH]`: validate a configuration file and summarise it on one screen."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import click

from connectors.specs import platform_spec
from monitor.cli.common import EXIT_USAGE, handle_errors
from monitor.config import Config, ConfigError, load_config
from monitor.notifiers.specs import MASK, channel_settings

_STANDARD_ROUTES = ("digest", "emergency", "security", "operations")


@click.command("check-config")
@click.argument("path", required=False)
@click.option("--config", "-c", "config_path", default=None, help="Same as PATH.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@handle_errors
def check_config(path: str | None, config_path: str | None, as_json: bool) -> None:
    """Validate a configuration file (default: $SOCIALMON_CONFIG, else ./config/socialmon.yaml).

    Exit 0 with a summary (secrets masked) when it is good; exit 2 naming each problem's file,
    line and key when it is not.
    """
    try:
        config = load_config(path or config_path)
    except ConfigError as exc:
        for line in exc.lines:
            click.echo(line, err=True)
        raise SystemExit(EXIT_USAGE) from None
    summary = summarise(config)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(render(summary))


def summarise(config: Config) -> dict[str, Any]:
    """What an operator wants to confirm, with every secret masked."""
    accounts = config.accounts
    by_platform: dict[str, dict[str, int]] = {}
    for account in accounts:
        counts = by_platform.setdefault(account.platform, {"central": 0, "departmental": 0})
        counts[account.role] += 1
    modes: Counter[str] = Counter(account.language.mode for account in accounts)
    return {
        "file": config.source,
        "valid": True,
        "timezone": config.timezone,
        "database": safe_database_url(config),
        "accounts": {
            "total": len(accounts),
            "enabled": sum(1 for a in accounts if a.enabled),
            "by_platform": by_platform,
            "language": {mode: modes.get(mode, 0) for mode in ("bilingual", "paired", "exempt")},
            "exempt": [a.id for a in accounts if a.language.mode == "exempt"],
        },
        "policy": {
            "poll_interval": _dump(config.policy, "poll_interval"),
            "emergency_poll_interval": _dump(config.policy, "emergency_poll_interval"),
            "reply_sla": _dump(config.policy, "reply_sla"),
            "counterpart_window": _dump(config.policy, "counterpart_window"),
        },
        "channels": {name: channel.summary() for name, channel in config.alerts.channels.items()},
        "routes": {
            name: {k: v for k, v in route.model_dump(mode="json").items() if v is not None}
            for name, route in config.alerts.routes.items()
        },
        "webhooks": _webhooks_summary(config),
        "notes": _notes(config),
        "warnings": list(config.load_warnings),
        **({"web": _web_summary(config.web)} if config.web else {}),
    }


def _web_summary(web: Any) -> dict[str, Any]:
    """The dashboard: where, how people sign in, how many have each role (never a password hash)."""
    roles: Counter[str] = Counter(web.roles.values())
    return {
        "listen": web.listen,
        "public_url": web.public_url,
        "auth": web.auth.mode,
        "users": len(web.auth.users),
        "roles": {role: roles.get(role, 0) for role in ("viewer", "comms", "oncall", "admin")},
    }


def _webhooks_summary(config: Config) -> dict[str, Any] | None:
    hooks = config.webhooks
    if hooks is None:
        return None
    return {
        "listen": hooks.listen,
        "public_url": hooks.public_url,
        "meta": {"app_secret": MASK, "verify_token": MASK} if hooks.meta else None,
        "youtube": {"secret": MASK} if hooks.youtube else None,
    }


def _dump(model: Any, field: str) -> Any:
    return model.model_dump(mode="json")[field]


def safe_database_url(config: Config) -> str:
    from sqlalchemy.engine import make_url

    return make_url(config.database_url()).render_as_string(hide_password=True)


def _notes(config: Config) -> list[str]:
    """Things that are valid but probably not meant (they do not fail the check)."""
    notes = []
    missing = [r for r in _STANDARD_ROUTES if r not in config.alerts.routes]
    if missing:
        notes.append(f"no route for: {', '.join(missing)} (those alerts go nowhere)")
    for platform, count in sorted(Counter(a.platform for a in config.accounts if a.enabled).items()):
        field = platform_spec(platform).credential
        platform_secret = getattr(config.platforms.settings_for(platform), field)
        without = [
            a.id
            for a in config.accounts
            if a.platform == platform
            and a.enabled
            and platform_secret is None
            and (a.credentials is None or a.credentials.secret(field) is None)
        ]
        if without:
            notes.append(
                f"{platform}: no {field} for {len(without)} of {count} accounts; they cannot be polled"
            )
    disabled = [a.id for a in config.accounts if not a.enabled]
    if disabled:
        notes.append(f"disabled accounts: {', '.join(disabled)}")
    return notes


def render(summary: dict[str, Any]) -> str:
    accounts = summary["accounts"]
    lines = [
        f"{summary['file']}: OK",
        f"time zone {summary['timezone']}; database {summary['database']}",
        f"accounts: {accounts['total']} ({accounts['enabled']} enabled)",
    ]
    for platform, roles in sorted(accounts["by_platform"].items()):
        lines.append(f"  {platform:<10} {roles['central']} central, {roles['departmental']} departmental")
    lang = accounts["language"]
    lines.append(f"language: {lang['bilingual']} bilingual, {lang['paired']} paired, {lang['exempt']} exempt")
    policy = summary["policy"]
    lines.append(
        f"policy: poll every {policy['poll_interval']} "
        f"({policy['emergency_poll_interval']} in an emergency), "
        f"reply within {policy['reply_sla']}, counterpart within {policy['counterpart_window']}"
    )
    lines.append("channels:")
    for name, channel in summary["channels"].items():
        detail = channel_settings(channel["type"]).describe(channel)
        lines.append(f"  {name:<16} {channel['type']:<6} {detail}")
    lines.append("routes:")
    for name, route in summary["routes"].items():
        extras = "".join(f", {key} {route[key]}" for key in ("at", "repeat", "min_severity") if key in route)
        lines.append(f"  {name:<16} -> {', '.join(route['channels'])}{extras}")
    web = summary.get("web")
    if web:
        people = ", ".join(f"{n} {role}" for role, n in web["roles"].items() if n)
        links = f"; alerts link to {web['public_url']}" if web["public_url"] else ""
        lines.append(f"web: {web['listen']}, sign-in {web['auth']}, roles: {people}{links}")
    hooks = summary.get("webhooks")
    if hooks:
        which = [name for name in ("meta", "youtube") if hooks[name]]
        lines.append(
            f"webhooks: {', '.join(which) or 'none'} on {hooks['listen']} "
            f"for {hooks['public_url']} (secrets {MASK})"
        )
    lines.extend(f"note: {note}" for note in summary["notes"])
    lines.extend(f"warning: {warning}" for warning in summary.get("warnings", []))
    return "\n".join(lines)
