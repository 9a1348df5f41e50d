"""`socialmon status`: per-account poll state, outbox backlog, emergency state, who leads."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from monitor.cli.common import config_option, get_config, handle_errors, open_store
from monitor.clock import utcnow


def collect_status(config: Any, store: Any, now: datetime | None = None) -> dict[str, Any]:
    """Everything `status` shows, as plain data (also for tests and the JSON output)."""
    from sqlalchemy import func, select

    from monitor.channel_health import broken_channels
    from monitor.db import AccountStateRow, AlertRow, FindingRow, InstanceRow, SetAsideItemRow
    from monitor.emergency import active_emergency
    from monitor.leader import STALE_AFTER
    from monitor.store import latest_poll_runs

    now = now or utcnow()
    with store.session() as session:
        runs = latest_poll_runs(session)
        states = {row.account_id: row for row in session.scalars(select(AccountStateRow))}
        open_counts = dict(
            session.execute(
                select(FindingRow.account_id, func.count())
                .where(FindingRow.status == "open")
                .group_by(FindingRow.account_id)
            ).all()
        )
        backlog = dict(
            session.execute(
                select(AlertRow.status, func.count())
                .where(AlertRow.status.in_(("pending", "sending", "failed")))
                .group_by(AlertRow.status)
            ).all()
        )
        oldest = session.scalar(
            select(func.min(AlertRow.created_at)).where(AlertRow.status.in_(("pending", "sending")))
        )
        active = active_emergency(session)
        instances = list(session.scalars(select(InstanceRow).order_by(InstanceRow.started_at)))
        broken = broken_channels(session)
        set_aside = dict(
            session.execute(
                select(SetAsideItemRow.account_id, func.count()).group_by(SetAsideItemRow.account_id)
            ).all()
        )

    accounts = []
    for account in config.accounts:
        run, state = runs.get(account.id), states.get(account.id)
        accounts.append(
            {
                "id": account.id,
                "platform": account.platform,
                "role": account.role,
                "enabled": account.enabled,
                "last_poll": _iso(run.started_at if run else state.last_poll_at if state else None),
                "outcome": run.status if run else (state.last_status if state else None),
                "error": run.error if run else None,
                "next_poll": _iso(state.next_poll_at if state else None),
                "slowed": bool(state.slowed) if state else False,
                "open_findings": open_counts.get(account.id, 0),
                "set_aside": set_aside.get(account.id, 0),  # items the database refused (issue 18)
                "stale": _stale(
                    config, account, run.started_at if run else state.last_poll_at if state else None, now
                ),
            }
        )
    leader = next((i for i in instances if i.is_leader and now - i.heartbeat_at < STALE_AFTER), None)
    return {
        "accounts": accounts,
        "outbox": {
            "pending": backlog.get("pending", 0),
            "sending": backlog.get("sending", 0),
            "failed": backlog.get("failed", 0),
            "oldest_undelivered_at": _iso(oldest),
        },
        "emergency": {
            "active": active is not None,
            "id": active.id if active else None,
            "reason": active.reason if active else None,
            "started_at": _iso(active.started_at) if active else None,
            "taken_up_at": _iso(active.taken_up_at) if active else None,
        },
        "leader": leader.instance_id if leader else None,
        "broken_channels": {name: _iso(since) for name, since in sorted(broken.items())},
        "instances": [
            {
                "instance": i.instance_id,
                "leader": i.is_leader,
                "heartbeat_at": _iso(i.heartbeat_at),
                "stale": now - i.heartbeat_at >= STALE_AFTER,
            }
            for i in instances
        ],
    }


def _stale(config: Any, account: Any, last_poll: datetime | None, now: datetime) -> bool:
    """No poll for twice the account's interval: whatever the last outcome said is old news."""
    if not account.enabled or last_poll is None:
        return False
    interval = account.poll_interval or config.policy.poll_interval
    return bool(now - last_poll > 2 * interval)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _short(value: str | None, tz: Any) -> str:
    if not value:
        return "-"
    return datetime.fromisoformat(value).astimezone(tz).strftime("%m-%d %H:%M:%S")


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handle_errors
def status(config_path: str | None, as_json: bool) -> None:
    """Show per-account poll state, outbox backlog, emergency state and which instance leads."""
    config = get_config(config_path)
    store = open_store(config)
    info = collect_status(config, store)
    if as_json:
        click.echo(json.dumps(info))
        return
    tz = config.tz
    emergency = info["emergency"]
    if emergency["active"]:
        taken = "taken up" if emergency["taken_up_at"] else "NOT yet taken up"
        click.echo(
            f"EMERGENCY ACTIVE since {_short(emergency['started_at'], tz)} ({taken}): {emergency['reason']}"
        )
    else:
        click.echo("emergency: none")
    click.echo(f"leader: {info['leader'] or 'none (no instance with a recent heartbeat holds the lead)'}")
    standby = [i["instance"] for i in info["instances"] if not i["leader"] and not i["stale"]]
    if standby:
        click.echo(f"standby: {', '.join(standby)}")
    outbox = info["outbox"]
    oldest = (
        f", oldest since {_short(outbox['oldest_undelivered_at'], tz)}"
        if outbox["oldest_undelivered_at"]
        else ""
    )
    click.echo(
        f"outbox: {outbox['pending']} pending, {outbox['sending']} sending, {outbox['failed']} failed{oldest}"
    )
    for name, since in info.get("broken_channels", {}).items():
        click.echo(f"channel {name}: BROKEN since {_short(since, tz)} (keeps timing out)")
    click.echo("")
    outcomes = [_outcome_text(row) for row in info["accounts"]]
    # As wide as the longest outcome ("permission_missing (slowed)"), so the columns stay aligned.
    width = max([18, *(len(o) + 1 for o in outcomes)])
    header = f"{'account':<28} {'platform':<9} {'last poll':<15} {'outcome':<{width}} {'next poll':<15} open"
    click.echo(header)
    for row, outcome in zip(info["accounts"], outcomes, strict=True):
        click.echo(
            f"{row['id']:<28} {row['platform']:<9} {_short(row['last_poll'], tz):<15} {outcome:<{width}} "
            f"{_short(row['next_poll'], tz):<15} {row['open_findings']}"
        )


def _outcome_text(row: dict[str, Any]) -> str:
    if not row["enabled"]:
        return "disabled"
    outcome = (row["outcome"] or "-") + (" (slowed)" if row["slowed"] else "")
    return f"STALE (last: {outcome})" if row.get("stale") else outcome
