"""`socialmon alerts test --route NAME` and `socialmon alerts list [--pending|--failed] [--json]`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from monitor.cli.common import EXIT_FINDINGS, config_option, fail, get_config, handle_errors, open_store


@click.group("alerts")
def alerts() -> None:
    """Test alert routes and list the outbox."""


@alerts.command("test")
@config_option
@click.option("--route", "route_name", required=True, help="The route whose channels get a test alert.")
@handle_errors
def test_route(config_path: str | None, route_name: str) -> None:
    """Send a test alert through every channel of a route and report each channel's outcome."""
    from monitor.clock import utcnow
    from monitor.outbox import send_due
    from monitor.routing import enqueue_alert

    config = get_config(config_path)
    routes = config.alerts.routes
    if route_name not in routes:
        fail(
            f"route {route_name!r} is not configured (alerts.routes); "
            f"configured: {', '.join(routes) or 'none'}"
        )
    store = open_store(config)
    now = utcnow()
    with store.session() as session:
        ids = enqueue_alert(
            session,
            config,
            route_name,
            "test",
            "info",
            f"[TEST] socialmon test alert for route {route_name}",
            "This is a test alert from `socialmon alerts test`. If you can read it, this channel works.",
            now=now,
            kind="test",
            facts=[("Route", route_name), ("Sent", now.strftime("%Y-%m-%d %H:%M:%S UTC"))],
            localize=lambda locale: _test_texts(locale, route_name, now),
        )
    report = send_due(config, store, ids=ids, limit=len(ids))
    width = max((len(r.channel) for r in report.results), default=0)
    for result in sorted(report.results, key=lambda r: r.alert_id):
        channel_type = (
            config.alerts.channels[result.channel].type if result.channel in config.alerts.channels else "?"
        )
        line = f"{result.channel:<{width}}  {channel_type:<5}  {result.outcome}"
        click.echo(line + (f": {result.error}" if result.error else ""))
    if report.delivered != len(ids):
        raise SystemExit(EXIT_FINDINGS)


@alerts.command("list")
@config_option
@click.option(
    "--pending", "status", flag_value="pending", help="Only alerts waiting to be sent (or retried)."
)
@click.option("--failed", "status", flag_value="failed", help="Only alerts that could not be delivered.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of a table.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@handle_errors
def list_outbox(config_path: str | None, status: str | None, as_json: bool, limit: int) -> None:
    """List the outbox, newest first."""
    from monitor.outbox import list_alerts

    config = get_config(config_path)
    store = open_store(config)
    with store.session() as session:
        rows = [_row(r) for r in list_alerts(session, status, limit)]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no alerts" + (f" {status}" if status else ""))
        return
    click.echo(
        f"{'id':>6}  {'created (UTC)':<16}  {'route':<12}  {'channel':<12}  {'reason':<10}  "
        f"{'status':<9}  {'tries':>5}  detail"
    )
    for r in rows:
        detail = r["last_error"] if r["status"] in {"failed", "pending"} and r["last_error"] else r["subject"]
        when = r["delivered_at"] if r["status"] == "delivered" else r["next_attempt_at"]
        click.echo(
            f"{r['id']:>6}  {r['created_at'][:16].replace('T', ' '):<16}  {r['route'][:12]:<12}  "
            f"{r['channel'][:12]:<12}  {r['reason']:<10}  {r['status']:<9}  {r['attempts']:>5}  "
            f"{_short(detail, 70)}" + (f" [{_short(when or '', 19)}]" if r["status"] == "pending" else "")
        )


def _row(row: Any) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": row.id,
        "route": row.route,
        "channel": row.channel,
        "reason": row.reason,
        "severity": row.severity,
        "subject": row.subject,
        "status": row.status,
        "attempts": row.attempts,
        "finding_id": row.finding_id,
        "created_at": iso(row.created_at),
        "next_attempt_at": iso(row.next_attempt_at),
        "delivered_at": iso(row.delivered_at),
        "last_error": row.last_error,
    }


def _short(text: str, size: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= size else text[: size - 1] + "…"


def _test_texts(locale: str, route: str, now: datetime) -> dict[str, object]:
    """The test alert in a channel's language (a Welsh channel is tested in Welsh)."""
    from monitor.i18n import translator

    t = translator(locale)
    subject = (
        "[" + t.gettext("TEST") + "] " + t.gettext("socialmon test alert for route %(route)s", route=route)
    )
    return {
        "subject": subject,
        "title": subject,
        "text": t.gettext(
            "This is a test alert from `socialmon alerts test`. If you can read it, this channel works."
        ),
        "facts": [(t.gettext("Route"), route), (t.gettext("Sent"), now.strftime("%Y-%m-%d %H:%M:%S UTC"))],
    }
