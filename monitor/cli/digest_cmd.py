"""`socialmon digest --preview | --send`: the daily compliance digest on demand."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.cli.common import EXIT_FINDINGS, config_option, fail, get_config, handle_errors, open_store


@click.command("digest")
@config_option
@click.option("--preview", is_flag=True, help="Render the digest from the stored data without sending it.")
@click.option("--send", "send_now", is_flag=True, help="Build the digest now and send it through its route.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "text"]),
    default="html",
    show_default=True,
    help="Format of --preview.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the preview to this file instead of standard output.",
)
@click.option(
    "--route", default="digest", show_default=True, help="The digest route (its last digest sets the period)."
)
@handle_errors
def digest(
    config_path: str | None, preview: bool, send_now: bool, fmt: str, out: str | None, route: str
) -> None:
    """Preview or send the daily compliance digest."""
    if preview == send_now:
        fail("choose one of --preview or --send")
    config = get_config(config_path)
    store = open_store(config)
    if preview:
        _preview(config, store, fmt, out, route)
    else:
        _send(config, store, route)


def _preview(config: object, store: object, fmt: str, out: str | None, route: str) -> None:
    from monitor.digest import build_digest, render_digests
    from monitor.i18n import locales

    # in the configured `locale`; cy+en: the Welsh digest, then the English one
    languages = locales(getattr(config, "locale", "en"))
    digests = [build_digest(config, store, route=route, locale=lang) for lang in languages]  # type: ignore[arg-type]
    rendered = render_digests(digests, fmt)  # type: ignore[arg-type]
    if out is None:
        click.echo(rendered, nl=not rendered.endswith("\n"))
        return
    try:
        Path(out).write_text(rendered, encoding="utf-8")
    except OSError as exc:
        fail(f"{out}: cannot write: {exc.strerror}")
    click.echo(f"wrote the {fmt} digest to {out}", err=True)


def _send(config: object, store: object, route: str) -> None:
    from monitor.digest import queue_digest_now
    from monitor.outbox import send_due

    routes = config.alerts.routes  # type: ignore[attr-defined]
    if route not in routes:
        fail(
            f"route {route!r} is not configured (alerts.routes.{route}); "
            f"configured: {', '.join(routes) or 'none'}"
        )
    ids = queue_digest_now(config, store, route)  # type: ignore[arg-type]
    report = send_due(config, store, ids=ids, limit=max(len(ids), 1))  # type: ignore[arg-type]
    for result in report.results:
        line = f"{result.channel}: {result.outcome}"
        if result.error:
            line += f" ({result.error})"
        if result.outcome == "retry" and result.next_attempt_at:
            line += f"; the service retries at {result.next_attempt_at:%H:%M:%S}Z"
        click.echo(line)
    if report.delivered != len(ids):
        raise SystemExit(EXIT_FINDINGS)
