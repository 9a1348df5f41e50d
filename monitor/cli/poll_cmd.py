"""`socialmon poll`: poll every account (or one) now and store what is new."""

from __future__ import annotations

import json

import click

from monitor.cli.common import EXIT_USAGE, config_option, fail, get_config, handle_errors, open_store


@click.command("poll")
@click.option("--account", "account_id", default=None, help="Poll only this account id.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per account instead of a table.")
@config_option
@handle_errors
def poll(account_id: str | None, as_json: bool, config_path: str | None) -> None:
    """Poll every account (or one) now and store what is new.

    Exit status: 0 when every account polled (warnings included), 1 when some failed (what the
    others returned is stored), 2 for bad input.
    """
    from monitor.poll import poll_accounts

    config = get_config(config_path)
    if account_id is not None and account_id not in {a.id for a in config.accounts}:
        fail(f"unknown account {account_id!r} (see accounts: in {config.source})", EXIT_USAGE)
    store = open_store(config)
    try:
        outcomes = poll_accounts(config, store, [account_id] if account_id else None)
    finally:
        store.dispose()
    if as_json:
        for outcome in outcomes:
            click.echo(json.dumps(outcome.as_dict(), ensure_ascii=False))
    else:
        _table(outcomes)
    if any(o.failed for o in outcomes):
        raise SystemExit(1)


def _table(outcomes: list) -> None:
    headers = ("account", "new posts", "new messages", "API calls", "status", "error")
    rows = [
        (
            o.account_id,
            str(o.new_posts),
            str(o.new_messages),
            str(o.api_calls),
            o.status,
            _short(o.error or ""),
        )
        for o in outcomes
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    for line in (headers, *rows):
        click.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())


def _short(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
