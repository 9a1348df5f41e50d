"""`socialmon run`: the unattended service (or one whole cycle with --once)."""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any

import click

from monitor.cli.common import config_option, fail, get_config, handle_errors, open_store

EXIT_ALREADY_RUNNING = 4
EXIT_POLL_ERRORS = 1


@click.command()
@config_option
@click.option(
    "--once", is_flag=True, help="Run one whole cycle (poll, check, route, send, digest if due) and exit."
)
@click.option("--json", "as_json", is_flag=True, help="With --once: print the cycle's report as JSON.")
@handle_errors
def run(config_path: str | None, once: bool, as_json: bool) -> None:
    """Run the monitoring service: polls on schedule, emergency mode, alerts, digest.

    On SQLite only one instance may run (a second refuses to start). On PostgreSQL a second
    instance stands by and takes over within seconds when the leader stops or dies.
    """
    from monitor.leader import AlreadyRunning, leadership_for
    from monitor.service import Service, systemd_notifier

    config = get_config(config_path, log_level="INFO")  # the service's log is its record
    from monitor.logs import get_logger

    for warning in config.load_warnings:  # risky but valid settings (check-config prints them too)
        get_logger(component="config").warning("config warning", detail=warning)
    store = open_store(config)
    try:
        leadership = leadership_for(store, config.service.lock_id)
        if leadership.kind == "file":
            leadership.acquire_or_refuse()  # type: ignore[union-attr]
        elif once and not leadership.try_acquire():
            raise AlreadyRunning(
                "another socialmon instance holds the lead on this database; --once would race it"
            )
    except AlreadyRunning as exc:
        fail(str(exc), code=EXIT_ALREADY_RUNNING)

    service = Service(config, store, notify=systemd_notifier())
    if once:
        _run_once(service, as_json)
        leadership.release()
        return
    _install_signal_handlers(service)
    try:
        service.start_metrics()
    except OSError as exc:
        svc = config.service
        fail(f"service.metrics_port: cannot listen on {svc.metrics_host}:{svc.metrics_port} ({exc.strerror})")
    try:
        service.start_web()
    except OSError as exc:
        fail(f"web.listen: cannot listen on {config.web.listen if config.web else ''} ({exc.strerror})")
    code = service.serve(leadership)
    if service.abandoned_jobs:
        # Jobs past the stop deadline hold threads the interpreter would wait for; their
        # transactions are uncommitted, so leaving now writes nothing half-done.
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _install_signal_handlers(service: Any) -> None:
    def stop(signum: int, _frame: Any) -> None:
        if service.stopping.is_set():  # a second signal: leave at once
            os._exit(130)
        service.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def _run_once(service: Any, as_json: bool) -> None:
    report = service.run_once()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "polled": report.polled,
                    "skipped": report.skipped,
                    "alerts_queued": report.alerts_queued,
                    "delivered": report.delivered,
                    "failed": report.failed,
                    "digest_sent": report.digest_sent,
                }
            )
        )
    else:
        for account_id, status in sorted(report.polled.items()):
            click.echo(f"{account_id}: {status}")
        for account_id, why in sorted(report.skipped.items()):
            click.echo(f"{account_id}: skipped ({why})")
        click.echo(
            f"alerts queued {report.alerts_queued}, delivered {report.delivered}, failed {report.failed}; "
            f"digest {'sent' if report.digest_sent else 'not due'}"
        )
    if report.errors:
        sys.exit(EXIT_POLL_ERRORS)
