"""`socialmon db upgrade` and `socialmon db status`."""

from __future__ import annotations

import json

import click

from monitor.cli.common import config_option, fail, get_config, handle_errors


@click.group()
def db() -> None:
    """Create or upgrade the database schema, or show its state."""


@db.command()
@config_option
@handle_errors
def upgrade(config_path: str | None) -> None:
    """Create the schema or bring it to the newest version (safe to run again)."""
    from sqlalchemy.exc import SQLAlchemyError

    from monitor.store import Store, StoreError

    config = get_config(config_path)
    try:
        store = Store(config.database_url())
        status = store.schema_status()
        if status["state"] == "newer":
            fail(
                f"the database schema ({status['current']}) is newer than this socialmon knows; "
                "upgrade socialmon"
            )
        before, after = store.upgrade()
    except StoreError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        from monitor.cli.common import _safe_db_error

        fail(f"cannot open the database: {_safe_db_error(exc)}")
    if before == after:
        click.echo(f"database {store.safe_url()} is already at {after}")
    else:
        click.echo(f"database {store.safe_url()} upgraded from {before or 'empty'} to {after}")


@db.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handle_errors
def status(config_path: str | None, as_json: bool) -> None:
    """Show the schema version of the database and whether it needs upgrading."""
    from sqlalchemy.exc import SQLAlchemyError

    from monitor.store import Store, StoreError

    config = get_config(config_path)
    try:
        info = Store(config.database_url()).schema_status()
    except StoreError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        from monitor.cli.common import _safe_db_error

        fail(f"cannot open the database: {_safe_db_error(exc)}")
    if as_json:
        click.echo(json.dumps(info))
        return
    advice = {
        "current": "up to date",
        "empty": "not migrated: run `socialmon db upgrade`",
        "behind": "behind: run `socialmon db upgrade`",
        "newer": "newer than this socialmon: upgrade socialmon",
    }[info["state"]]
    click.echo(f"database: {info['database']}")
    click.echo(f"schema:   {info['current'] or 'none'} (head {info['head']}): {advice}")
