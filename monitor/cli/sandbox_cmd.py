"""`socialmon sandbox serve`: the local platform sandbox, for `socialmon run` with config/demo.yaml."""

from __future__ import annotations

import signal
import threading
from typing import Any

import click

from monitor.cli.common import fail, handle_errors


@click.group()
def sandbox() -> None:
    """Run the local platform sandbox (X, Graph and YouTube APIs from a scenario)."""


@sandbox.command()
@click.option(
    "--scenario",
    default="demo",
    show_default=True,
    help="A built-in scenario name or the path of a scenario YAML file.",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="0: any free port."
)
@click.option(
    "--receivers",
    "receivers_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Also run a loopback SMTP sink and Teams receiver writing into this directory.",
)
@handle_errors
def serve(scenario: str, port: int, receivers_dir: str | None) -> None:
    """Serve a scenario on 127.0.0.1 until interrupted (Ctrl-C).

    Point each platform's `base_url` at the printed URL (config/demo.yaml reads it from
    SOCIALMON_SANDBOX_URL). Admin endpoints under /_admin/ change the scenario while it runs.
    """
    from monitor.sandbox import SandboxServer, ScenarioError, load_scenario

    try:
        world = load_scenario(scenario)
    except ScenarioError as exc:
        fail(str(exc))
    try:
        server = SandboxServer(world, port=port)
    except OSError as exc:
        fail(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}")
    extras: list[Any] = []
    click.echo(f"sandbox: scenario {world.name!r} ({len(world.accounts)} accounts) on {server.url}")
    click.echo(f"export SOCIALMON_SANDBOX_URL={server.url}")
    if receivers_dir:
        from pathlib import Path

        from monitor.receivers import SmtpSink, TeamsReceiver

        smtp = SmtpSink(Path(receivers_dir) / "email").start()
        teams = TeamsReceiver(Path(receivers_dir) / "teams").start()
        extras += [smtp, teams]
        click.echo(f"export SOCIALMON_DEMO_SMTP_PORT={smtp.port}")
        click.echo(f"export SOCIALMON_DEMO_TEAMS_URL={teams.url}")
        click.echo(f"export SOCIALMON_DEMO_DIR={Path(receivers_dir).resolve().parent}")
        click.echo(f"(mail and Teams messages are written under {receivers_dir}/)")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        for extra in extras:
            extra.stop()
