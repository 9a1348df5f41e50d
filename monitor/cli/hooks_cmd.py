"""`socialmon hooks subscribe [--account ID]` and `socialmon hooks status [--json]`."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from monitor.cli.common import EXIT_FINDINGS, config_option, fail, get_config, handle_errors, open_store


@click.group()
def hooks() -> None:
    """Platform webhooks (Meta, YouTube WebSub): subscribe accounts and see whether pushes arrive."""


@hooks.command()
@config_option
@click.option("--account", "account_id", help="Only this account (its id in the config).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per account.")
@handle_errors
def subscribe(config_path: str | None, account_id: str | None, as_json: bool) -> None:
    """Subscribe each Facebook Page, Instagram account and YouTube channel to push notifications.

    Pages: POST /{page-id}/subscribed_apps (field feed). Channels: the WebSub hub, which then
    verifies with the running daemon's /hooks/youtube (so run this while `socialmon run` is up;
    the daemon asks again for any subscription still unverified).
    """
    from monitor.hooks.subscriptions import push_accounts
    from monitor.hooks.subscriptions import subscribe as do_subscribe

    config = get_config(config_path)
    if config.webhooks is None:
        fail("webhooks: not configured (add a webhooks: section; see the README's configuration reference)")
    if account_id is not None:
        try:
            account = config.account(account_id)
        except KeyError:
            fail(f"--account: no account {account_id!r} in {config.source}")
        if not push_accounts(config, account_id):
            fail(f"--account: {account_id} ({account.platform}) has no webhooks (X stays on polling)")
    store = open_store(config)
    results = do_subscribe(config, store, datetime.now(UTC), account_id)
    for result in results:
        if as_json:
            click.echo(json.dumps(result.to_json()))
        else:
            click.echo(f"{result.account_id:<28} {result.platform:<10} {result.status:<8} {result.detail}")
    if not results and not as_json:
        click.echo("no account can be subscribed (Facebook, Instagram and YouTube accounts need native_id)")
    if any(r.status == "failed" for r in results):
        raise SystemExit(EXIT_FINDINGS)


@hooks.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
@handle_errors
def status(config_path: str | None, as_json: bool) -> None:
    """Per account: subscribed or not, lease end, last delivery, and whether hints have stopped."""
    from monitor.hooks.subscriptions import status as hook_status

    config = get_config(config_path)
    store = open_store(config)
    now = datetime.now(UTC)
    rows = hook_status(config, store, now) if config.webhooks is not None else []
    if as_json:
        click.echo(json.dumps({"enabled": config.webhooks is not None, "accounts": rows}))
        return
    if config.webhooks is None:
        click.echo("webhooks: off (no webhooks: section); every account is polled on its schedule")
        return
    click.echo(f"{'account':<28} {'platform':<10} {'status':<22} {'last delivery':<20} lease ends")
    for row in rows:
        click.echo(
            f"{row['account']:<28} {row['platform']:<10} {row['status']:<22} "
            f"{_short(row['last_delivery_at']) or 'never':<20} {_short(row['lease_expires_at']) or '-'}"
        )
        if row["error"]:
            click.echo(f"  {row['error']}")


def _short(value: str | None) -> str:
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
