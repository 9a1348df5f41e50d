"""`socialmon report language`: the Welsh language parity report (HTML, CSV or JSON)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from monitor.cli.common import config_option, fail, get_config, handle_errors, open_store


@click.group("report")
def report() -> None:
    """Reports over the stored data."""


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r}: not a date (YYYY-MM-DD)")


@report.command("language")
@config_option
@click.option("--from", "start", required=True, metavar="DATE", help="First day (YYYY-MM-DD, local time).")
@click.option("--to", "end", required=True, metavar="DATE", help="Last day, included (YYYY-MM-DD).")
@click.option("--account", "account_id", default=None, metavar="ID", help="Only this account.")
@click.option(
    "--format", "fmt", type=click.Choice(["html", "csv", "json"]), default="html", show_default=True
)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write to this file.")
@click.option(
    "--locale",
    "language",
    type=click.Choice(["cy", "en", "cy+en"]),
    default=None,
    help="Language of HTML and CSV (default: the configuration's `locale`; cy+en puts Welsh first).",
)
@handle_errors
def language(
    config_path: str | None,
    start: str,
    end: str,
    account_id: str | None,
    fmt: str,
    out: str | None,
    language: str | None,
) -> None:
    """The Welsh language parity report for a period: posts, counterparts, enquiries, parity ratio."""
    from monitor.report import build_language_report
    from monitor.report_output import render_report

    first, last = _date(start, "--from"), _date(end, "--to")
    if last < first:
        fail(f"--to {last} is before --from {first}")
    config = get_config(config_path)
    if account_id is not None and account_id not in {a.id for a in config.accounts}:
        fail(f"--account {account_id!r}: no such account in {config.source or 'the configuration'}")
    store = open_store(config)
    built = build_language_report(config, store, first, last, account_id)
    rendered = render_report(built, fmt, language or config.locale)
    if out is None:
        click.echo(rendered, nl=not rendered.endswith("\n"))
        return
    try:
        Path(out).write_text(rendered, encoding="utf-8", newline="" if fmt == "csv" else None)
    except OSError as exc:
        fail(f"{out}: cannot write: {exc.strerror}")
    click.echo(f"wrote the {fmt} language report to {out}", err=True)
