"""`socialmon emergency start|stop|status`: declare, end or show an emergency lockdown.

The state is a row in the database, so these work from any shell on the host while the daemon
runs; the daemon takes the change up within `service.emergency_check_interval` (default 2 s).
"""

from __future__ import annotations

import getpass
import json
import os
import time
from datetime import datetime
from typing import Any

import click

from monitor.cli.common import config_option, fail, get_config, handle_errors, open_store
from monitor.clock import human_duration, utcnow


def _default_by() -> str:
    try:
        return os.environ.get("SUDO_USER") or getpass.getuser()
    except Exception:  # no user name in this environment (containers)
        return "unknown"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _describe(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "active": row.ended_at is None,
        "reason": row.reason,
        "started_at": _iso(row.started_at),
        "started_by": row.started_by,
        "taken_up_at": _iso(row.taken_up_at),
        "ended_at": _iso(row.ended_at),
        "ended_by": row.ended_by,
        "summary_sent_at": _iso(row.summary_sent_at),
    }


def _daemon_note(store: Any) -> str | None:
    """Warn when no instance has a fresh heartbeat: nothing would act on the change."""
    from sqlalchemy import func, select

    from monitor.db import InstanceRow
    from monitor.leader import STALE_AFTER

    with store.session() as session:
        fresh = session.scalar(
            select(func.count())
            .select_from(InstanceRow)
            .where(InstanceRow.is_leader.is_(True), InstanceRow.heartbeat_at > utcnow() - STALE_AFTER)
        )
    return None if fresh else "warning: no running `socialmon run` has a recent heartbeat; start the daemon"


@click.group()
def emergency() -> None:
    """Declare, end or show an emergency lockdown."""


@emergency.command()
@config_option
@click.option("--reason", required=True, help="Why (shown to on-call and in the digest).")
@click.option("--by", "by", default=None, help="Who declares it (default: your user name).")
@click.option(
    "--wait",
    "wait",
    type=float,
    default=0.0,
    help="Wait up to this many seconds for the daemon to take it up.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handle_errors
def start(config_path: str | None, reason: str, by: str | None, wait: float, as_json: bool) -> None:
    """Declare an emergency: non-central accounts are watched closely and any post alerts on-call."""
    from monitor.emergency import EmergencyError, start_emergency

    config = get_config(config_path)
    store = open_store(config)
    try:
        row = start_emergency(store, reason, by or _default_by())
    except EmergencyError as exc:
        fail(str(exc), code=1)
    row = _wait_for_take_up(store, row.id, wait) if wait > 0 else row
    note = _daemon_note(store)
    if as_json:
        click.echo(json.dumps({**_describe(row), "daemon_warning": note}))
        return
    click.echo(f"emergency {row.id} declared at {row.started_at:%Y-%m-%d %H:%M:%S} UTC by {row.started_by}")
    if row.taken_up_at:
        took = (row.taken_up_at - row.started_at).total_seconds()
        click.echo(f"taken up by the daemon after {took:.1f} s")
    elif not note:  # with no daemon running, promising a take-up would mislead on-call
        seconds = int(config.service.emergency_check_interval.total_seconds())
        click.echo(f"the running daemon takes it up within {seconds} s")
    if note:
        click.echo(note, err=True)


def _wait_for_take_up(store: Any, emergency_id: int, wait: float) -> Any:
    from monitor.db import EmergencyRow

    deadline = time.monotonic() + wait
    while True:
        with store.session() as session:
            row = session.get(EmergencyRow, emergency_id)
        if row.taken_up_at or time.monotonic() >= deadline:
            return row
        time.sleep(0.2)


@emergency.command()
@config_option
@click.option("--by", "by", default=None, help="Who ends it (default: your user name).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handle_errors
def stop(config_path: str | None, by: str | None, as_json: bool) -> None:
    """End the emergency: the daemon sends a summary and returns to normal intervals."""
    from monitor.emergency import stop_emergency

    config = get_config(config_path)
    store = open_store(config)
    row = stop_emergency(store, by or _default_by())
    note = _daemon_note(store) if row else None
    if as_json:
        click.echo(
            json.dumps(
                {**_describe(row), "daemon_warning": note} if row else {"active": False, "stopped": None}
            )
        )
        return
    if row is None:
        click.echo("no emergency is active")
        return
    length = (row.ended_at or row.started_at) - row.started_at
    # With no daemon running the summary waits for the next `socialmon run`: don't promise it now.
    who_sends = "the daemon sends the summary" if not note else "the summary is sent when the daemon runs"
    click.echo(
        f"emergency {row.id} ended at {row.ended_at:%Y-%m-%d %H:%M:%S} UTC by {row.ended_by} "
        f"after {human_duration(length)}; {who_sends}"
    )
    if note:
        click.echo(note, err=True)


@emergency.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handle_errors
def status(config_path: str | None, as_json: bool) -> None:
    """Show whether an emergency is active, since when, and whether the daemon has taken it up."""
    from monitor.emergency import active_emergency, latest_emergency

    config = get_config(config_path)
    store = open_store(config)
    with store.session() as session:
        row = active_emergency(session) or latest_emergency(session)
    if as_json:
        click.echo(json.dumps(_describe(row) if row else {"active": False}))
        return
    if row is None:
        click.echo("no emergency has been declared")
    elif row.ended_at is None:
        taken = (
            f"taken up at {row.taken_up_at:%H:%M:%S} UTC"
            if row.taken_up_at
            else "NOT yet taken up by the daemon"
        )
        click.echo(
            f"EMERGENCY ACTIVE since {row.started_at:%Y-%m-%d %H:%M:%S} UTC "
            f"({human_duration(utcnow() - row.started_at)}), declared by {row.started_by}: {row.reason}\n"
            + taken
        )
        note = _daemon_note(store)
        if note:
            click.echo(note, err=True)
    else:
        click.echo(
            f"no emergency is active (the last, {row.reason!r}, ended {row.ended_at:%Y-%m-%d %H:%M:%S} UTC "
            f"by {row.ended_by})"
        )
