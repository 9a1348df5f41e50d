"""`socialmon demo [--emergency-drill] [--dir DIR] [--json]`: the whole pipeline against the sandbox."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from monitor.cli.common import EXIT_FINDINGS, fail, handle_errors


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default="socialmon-demo",
    show_default=True,
    help="Where the demo writes its database, digest, delivered messages and log (emptied first).",
)
@click.option("--emergency-drill", "drill", is_flag=True, help="Rehearse an emergency end to end instead.")
@click.option(
    "--webhooks", is_flag=True, help="With --emergency-drill: the sandbox also pushes signed webhooks."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option(
    "--web", "web", is_flag=True, help="Then leave the dashboard running on loopback over the demo data."
)
@click.option(
    "--web-port",
    type=click.IntRange(0, 65535),
    default=0,
    help="The dashboard's port (default: any free one).",
)
@handle_errors
def demo(directory: str, drill: bool, webhooks: bool, as_json: bool, web: bool, web_port: int) -> None:
    """Run the whole pipeline on this machine against the bundled sandbox.

    No credentials and no network: the sandbox, a mail sink and a Teams receiver listen on
    127.0.0.1, the data goes to SQLite in --dir. See docs/DEMO.md.
    """
    from monitor.demo import DemoError, format_drill, format_summary, run_demo, run_drill

    if webhooks and not drill:
        fail("--webhooks needs --emergency-drill (the drill runs the daemon, whose receiver they reach)")
    try:
        if drill:
            drill_result = run_drill(directory, webhooks=webhooks)
            if as_json:
                out = drill_result.to_json()
                click.echo(json.dumps(out))
            else:
                click.echo(format_drill(drill_result))
            if (
                drill_result.latency_s is None
                or drill_result.redirect_alerted
                or drill_result.redirect_findings
            ):
                raise SystemExit(EXIT_FINDINGS)
            return
        result = run_demo(directory)
    except DemoError as exc:
        fail(str(exc))
    if web:
        _serve_dashboard(result, as_json, web_port)
        return
    if as_json:
        click.echo(json.dumps(result.to_json()))
    else:
        click.echo(format_summary(result))


def _serve_dashboard(result: Any, as_json: bool, port: int) -> None:
    """Print the summary with the dashboard's address and login, then serve until Ctrl-C."""
    import threading

    from monitor.demo import format_summary
    from monitor.web.demo import start_demo_dashboard

    try:
        dashboard = start_demo_dashboard(result.config_path, port)
    except OSError as exc:
        fail(f"--web-port: cannot listen on 127.0.0.1:{port} ({exc.strerror})")
    if as_json:
        click.echo(json.dumps({**result.to_json(), "web": dashboard.to_json()}))
    else:
        click.echo(format_summary(result))
        click.echo(
            f"\nDashboard: {dashboard.url}\nSign in as {dashboard.user} with password {dashboard.password} "
            "(made for this run). Ctrl-C stops it."
        )
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        dashboard.stop()
