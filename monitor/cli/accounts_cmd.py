"""`socialmon accounts ...`: commands about the registered accounts.

`confirm-access --account ID --by NAME [--note TEXT]` records that the account's access was
reviewed: people who left had their access removed and the password was changed (policy:
Corporate Social Media Account Management). The record is kept in the database with who and
when; the account's `access-review` findings resolve (the checks for that account run at once).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from monitor.cli.common import config_option, fail, get_config, handle_errors, open_store


@click.group()
def accounts() -> None:
    """Commands about the registered accounts (access reviews)."""


@accounts.command("confirm-access")
@config_option
@click.option("--account", "account_id", required=True, help="The account's id in the configuration.")
@click.option("--by", "by", required=True, help="Who confirms (name or e-mail address).")
@click.option("--note", default="", help="What was done (e.g. 'removed a.jones, password changed').")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handle_errors
def confirm_access_command(
    config_path: str | None, account_id: str, by: str, note: str, as_json: bool
) -> None:
    """Record that an account's access was reviewed: leavers removed, password changed."""
    from monitor.access import confirm_access
    from monitor.checking import run_checks

    config = get_config(config_path)
    if account_id not in {a.id for a in config.accounts}:
        fail(f"--account: no account {account_id!r} in the configuration")
    if not by.strip():
        fail("--by: say who confirms (a name or an e-mail address)")
    store = open_store(config)
    now = datetime.now(UTC)
    with store.session() as session:
        confirm_access(session, account_id, by.strip(), note.strip(), now)
    resolved: list[str] = []
    account = config.account(account_id)
    if account.enabled:
        run = run_checks(config, store, now=now, account_ids=[account_id])
        resolved = [
            r.subject for r in run.resolved if r.check == "access-review" and r.account_id == account_id
        ]
    if as_json:
        record = {
            "account": account_id,
            "by": by.strip(),
            "note": note.strip(),
            "confirmed_at": now.isoformat(),
        }
        click.echo(json.dumps({**record, "resolved": resolved}))
        return
    click.echo(f"access of {account_id} confirmed by {by.strip()} at {now:%Y-%m-%d %H:%M} UTC")
    if resolved:
        click.echo(f"resolved: {len(resolved)} access-review finding{'s' if len(resolved) != 1 else ''}")
