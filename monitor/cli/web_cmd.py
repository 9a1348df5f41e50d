"""`socialmon web`: serve the dashboard from the same database; `web hash-password` for local sign-in."""

from __future__ import annotations

import contextlib

import click

from monitor.cli.common import config_option, fail, get_config, handle_errors, open_store


@click.group(invoke_without_command=True)
@config_option
@click.option("--host", default=None, help="Address to listen on (default: from web.listen, else 127.0.0.1).")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=None, help="Port (default: from web.listen, else 8080)."
)
@click.pass_context
@handle_errors
def web(ctx: click.Context, config_path: str | None, host: str | None, port: int | None) -> None:
    """Serve the web dashboard (overview, findings, accounts, emergency, operations)."""
    if ctx.invoked_subcommand is not None:
        return
    config = get_config(config_path, log_level="INFO")
    if config.web is None:
        fail(f"{config.source}: web: is not configured (see the README's web section)")
    store = open_store(config)
    from monitor.web.app import create_app
    from monitor.web.server import WebServer

    host = host or config.web.host
    port = config.web.port if port is None else port
    try:
        server = WebServer(create_app(config, store), host, port)
    except OSError as exc:
        fail(f"web.listen: cannot listen on {host}:{port} ({exc.strerror})")
    click.echo(f"socialmon dashboard on {server.url} (Ctrl-C stops it)")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


@web.command("hash-password")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")
@handle_errors
def hash_password(password_stdin: bool) -> None:
    """Print an argon2id hash for web.auth.users[].password_hash (the password is asked for, not echoed)."""
    import sys

    from monitor.web.auth import hash_password as make_hash

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        fail("the password must be at least 12 characters")
    click.echo(make_hash(password))
