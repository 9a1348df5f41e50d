"""What every command shares: loading config and opening the store with one-line errors."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from monitor.config import Config, ConfigError, load_config

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FINDINGS = 1
EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"socialmon: {message}", err=True)
    sys.exit(code)


def config_option(func: F) -> F:
    """`--config PATH` (default: $SOCIALMON_CONFIG, else ./config/socialmon.yaml)."""
    return click.option(
        "--config",
        "-c",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Config file (default: $SOCIALMON_CONFIG, else ./config/socialmon.yaml).",
    )(func)


def get_config(config_path: str | None, log_level: str = "WARNING") -> Config:
    """Load the config or exit 2 with its located errors; then set up logging.

    One-shot commands print their own results, so their log shows warnings and errors only (an
    info line per account would repeat the table); `socialmon run` asks for INFO.
    SOCIALMON_LOG_LEVEL (e.g. INFO, DEBUG) overrides either.
    """
    import os

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        for line in exc.lines:  # already capped (config.MAX_REPORTED) and counted
            click.echo(line, err=True)
        sys.exit(EXIT_USAGE)
    from monitor.logs import configure_logging

    configure_logging(level=_log_level(os.environ.get("SOCIALMON_LOG_LEVEL"), log_level))
    return config


def _log_level(requested: str | None, default: str) -> str:
    level = (requested or "").strip().upper()
    if level in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        return level
    if level:
        click.echo(
            f"socialmon: SOCIALMON_LOG_LEVEL={requested!r} is not DEBUG, INFO, WARNING or ERROR", err=True
        )
    return default


def open_store(config: Config, *, migrate: bool = False) -> Any:
    """The store for this config; refuses an unmigrated or newer schema with what to run."""
    from sqlalchemy.exc import SQLAlchemyError

    from monitor.store import Store, StoreError

    try:
        store = Store(config.database_url())
        if migrate:
            store.upgrade()
        store.require_current()
    except StoreError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        fail(f"cannot open the database: {_safe_db_error(exc)}")
    return store


def _safe_db_error(exc: Exception) -> str:
    from monitor.logs import redact

    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return redact(text)


def handle_errors(func: F) -> F:
    """Turn unexpected errors into one line, never a traceback (set SOCIALMON_DEBUG=1 for one)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import os

        try:
            return func(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except BrokenPipeError:
            # The reader went away (`socialmon alerts list | head`): click ends quietly on EPIPE.
            raise
        except Exception as exc:
            if os.environ.get("SOCIALMON_DEBUG"):
                raise
            from monitor.logs import redact

            fail(f"{type(exc).__name__}: {redact(str(exc))}", code=3)

    return wrapper  # type: ignore[return-value]
