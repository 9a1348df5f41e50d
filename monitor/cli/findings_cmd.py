"""`socialmon findings list|show|ack|snooze|dismiss|reopen`: answer socialmon about its findings.

A finding's id is the number `findings list` shows (also in alerts and the digest when
`web.public_url` is set). States and what they do are described in `monitor/triage.py`.
Bad ids, states and times: one line naming the command and the id, exit 2.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click

from monitor.cli.common import config_option, fail, get_config, handle_errors, open_store
from monitor.triage import STATES, STATUSES, TriageError


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _located(where: str) -> Iterator[None]:
    """TriageError -> `socialmon: findings ack 12: no finding 12`, exit 2."""
    try:
        yield
    except TriageError as exc:
        fail(f"{where}: {exc}")


def _finding_id(command: str, text: str) -> int:
    from monitor.triage import parse_finding_id

    with _located(f"findings {command}"):
        return parse_finding_id(text)
    raise AssertionError("unreachable")  # fail() exits


def _open(config_path: str | None) -> tuple[Any, Any]:
    config = get_config(config_path)
    return config, open_store(config)


@click.group()
def findings() -> None:
    """List findings and acknowledge, snooze, dismiss or reopen them."""


@findings.command("list")
@config_option
@click.option(
    "--status",
    default="open",
    show_default=True,
    help="open, resolved or all.",
)
@click.option("--check", "check_id", default=None, help="Only this check's findings.")
@click.option("--account", "account_id", default=None, help="Only this account's findings.")
@click.option("--state", default=None, help=f"Only findings in this state ({', '.join(STATES)}).")
@click.option("--severity", default=None, help="Only findings of this severity.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@handle_errors
def list_cmd(
    config_path: str | None,
    status: str,
    check_id: str | None,
    account_id: str | None,
    state: str | None,
    severity: str | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """List findings: open first, most severe and oldest first."""
    from monitor.triage import list_findings

    if status not in (*STATUSES, "all"):
        fail(f"findings list: --status {status!r} is not one of open, resolved, all")
    config, store = _open(config_path)
    if account_id is not None and account_id not in {a.id for a in config.accounts}:
        fail(f"findings list: --account {account_id!r} is not an account in {config.source}")
    if check_id is not None:
        from checks import all_checks

        known = sorted(c.id for c in all_checks())
        if check_id not in known:
            fail(f"findings list: --check {check_id!r} is not a check ({', '.join(known)})")
    with _located("findings list"):
        views = list_findings(
            store,
            status=None if status == "all" else status,
            check=check_id,
            account=account_id,
            state=state,
            severity=severity,
            limit=limit,
            now=_now(),
        )
    if as_json:
        for view in views:
            click.echo(json.dumps(view.to_json(), ensure_ascii=False))
        return
    if not views:
        click.echo("No findings match.")
        return
    tz = config.tz
    rows = [
        (
            str(v.id),
            v.severity,
            v.status,
            _state_text(v, tz),
            v.check,
            v.account,
            _short(v.since, tz),
            v.title or v.subject,
        )
        for v in views
    ]
    header = ("ID", "SEVERITY", "STATUS", "STATE", "CHECK", "ACCOUNT", "SINCE", "WHAT")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        click.echo("  ".join([*cells, _one_line(row[-1], 80)]).rstrip())


@findings.command("show")
@config_option
@click.argument("finding_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (with `events`).")
@handle_errors
def show_cmd(config_path: str | None, finding_id: str, as_json: bool) -> None:
    """Show one finding and its history."""
    from monitor.triage import get_finding

    number = _finding_id("show", finding_id)
    config, store = _open(config_path)
    with _located(f"findings show {number}"):
        detail = get_finding(store, number, now=_now())
    if as_json:
        click.echo(json.dumps(detail.to_json(), ensure_ascii=False))
        return
    tz = config.tz
    lines = [
        f"Finding {detail.id}: {_one_line(detail.title or detail.subject, 200)}",
        f"  Check:     {detail.check} ({detail.severity})",
        f"  Account:   {detail.account}",
        f"  Subject:   {detail.subject}",
        f"  Status:    {detail.status}"
        + (f" (resolved {_short(detail.resolved_at, tz)})" if detail.resolved_at else ""),
        f"  State:     {_state_text(detail, tz)}",
        f"  Since:     {_short(detail.since, tz)} (opened {_short(detail.opened_at, tz)})",
    ]
    if detail.url:
        lines.append(f"  Link:      {detail.url}")
    if config.web and config.web.public_url:
        lines.append(f"  Page:      {config.web.finding_url(detail.id)}")
    if detail.detail:
        lines.append(f"  Detail:    {_one_line(detail.detail, 600)}")
    if detail.policy_section:
        lines.append(f"  Why:       {_one_line(detail.policy_section, 400)}")
    if detail.resolve_reason:
        lines.append(f"  Resolved:  {_one_line(detail.resolve_reason, 300)}")
    lines.append("  History:" if detail.events else "  History:   none (nobody has answered it)")
    for event in detail.events:
        until = f" until {_short(event.until, tz)}" if event.until else ""
        note = f": {_one_line(event.note, 300)}" if event.note else ""
        lines.append(f"    {_short(event.at, tz)}  {event.action} by {event.by}{until}{note}")
    click.echo("\n".join(lines))


@findings.command("ack")
@config_option
@click.argument("finding_id", metavar="ID")
@click.option("--by", "by", required=True, help="Who is on it (name or e-mail).")
@click.option("--note", default=None, help="What is being done.")
@handle_errors
def ack_cmd(config_path: str | None, finding_id: str, by: str, note: str | None) -> None:
    """Acknowledge a finding: someone is on it, so repeats stop."""
    from monitor.triage import acknowledge

    number = _finding_id("ack", finding_id)
    _, store = _open(config_path)
    with _located(f"findings ack {number}"):
        acknowledge(store, number, by=by, note=note, now=_now())
    click.echo(f"Finding {number} acknowledged by {by.strip()}.")


@findings.command("snooze")
@config_option
@click.argument("finding_id", metavar="ID")
@click.option(
    "--until", "until_text", default=None, help="Until this time (2026-12-01 09:00, 09:00, ISO 8601)."
)
@click.option("--for", "for_text", default=None, help="For this long (4h, 2d, 1w).")
@click.option("--by", "by", required=True, help="Who snoozes it.")
@click.option("--note", default=None, help="Why.")
@handle_errors
def snooze_cmd(
    config_path: str | None,
    finding_id: str,
    until_text: str | None,
    for_text: str | None,
    by: str,
    note: str | None,
) -> None:
    """Snooze a finding: no alerts, and not in the digest's to-do, until then."""
    from monitor.triage import snooze

    number = _finding_id("snooze", finding_id)
    where = f"findings snooze {number}"
    if (until_text is None) == (for_text is None):
        fail(f"{where}: give one of --until TIME or --for DURATION")
    config, store = _open(config_path)
    now = _now()
    until = _until(where, until_text, for_text, config.tz, now)
    with _located(where):
        snooze(store, number, until=until, by=by, note=note, now=now)
    click.echo(f"Finding {number} snoozed until {_short(until, config.tz)} by {by.strip()}.")


@findings.command("dismiss")
@config_option
@click.argument("finding_id", metavar="ID")
@click.option("--reason", required=True, help="False alarm, accepted exception, handled elsewhere...")
@click.option("--by", "by", required=True, help="Who dismisses it.")
@click.option("--until", "until_text", default=None, help="Dismissed until this time (default: for good).")
@handle_errors
def dismiss_cmd(
    config_path: str | None, finding_id: str, reason: str, by: str, until_text: str | None
) -> None:
    """Dismiss a finding (a reason is required): no alerts, not in the to-do."""
    from monitor.triage import dismiss

    number = _finding_id("dismiss", finding_id)
    where = f"findings dismiss {number}"
    config, store = _open(config_path)
    now = _now()
    until = _until(where, until_text, None, config.tz, now) if until_text is not None else None
    with _located(where):
        dismiss(store, number, reason=reason, by=by, until=until, now=now)
    suffix = f" until {_short(until, config.tz)}" if until else ""
    click.echo(f"Finding {number} dismissed{suffix} by {by.strip()}.")


@findings.command("reopen")
@config_option
@click.argument("finding_id", metavar="ID")
@click.option("--by", "by", required=True, help="Who reopens it.")
@handle_errors
def reopen_cmd(config_path: str | None, finding_id: str, by: str) -> None:
    """Undo an acknowledgement, snooze or dismissal."""
    from monitor.triage import reopen

    number = _finding_id("reopen", finding_id)
    _, store = _open(config_path)
    with _located(f"findings reopen {number}"):
        reopen(store, number, by=by, now=_now())
    click.echo(f"Finding {number} reopened by {by.strip()}.")


# --- helpers ------------------------------------------------------------------------------------


def _until(where: str, until_text: str | None, for_text: str | None, tz: Any, now: datetime) -> datetime:
    from monitor.durations import parse_duration
    from monitor.triage import parse_until

    if for_text is not None:
        try:
            delta = parse_duration(for_text)
        except ValueError as exc:
            fail(f"{where}: --for {exc}")
        if delta.total_seconds() <= 0:
            fail(f"{where}: --for must be a positive duration")
        return now + delta
    assert until_text is not None
    with _located(f"{where}: --until"):
        return parse_until(until_text, tz, now)
    raise AssertionError("unreachable")  # fail() exits


def _state_text(view: Any, tz: Any) -> str:
    if view.state == "acknowledged":
        return f"acknowledged by {view.by}"
    if view.state == "snoozed":
        return f"snoozed until {_short(view.until, tz)} by {view.by}"
    if view.state == "dismissed":
        until = f" until {_short(view.until, tz)}" if view.until else ""
        return f"dismissed{until} by {view.by}: {_one_line(view.note or '', 60)}"
    return "none"


def _short(value: datetime | None, tz: Any) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "-"


def _one_line(text: str, limit: int) -> str:
    from monitor.notifiers.text import one_line

    return one_line(text, limit)
