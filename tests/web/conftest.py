"""Fixtures for the dashboard tests: an app over a real migrated store, on a frozen clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.store import Store
from monitor.web.app import create_app
from tests.web.web_support import NOW, make_config, seed


def _app(store: Store, tmp_path: Path, mode: str = "local") -> Any:
    app = create_app(
        make_config(tmp_path / "unused.db", mode=mode), store, clock=lambda: NOW, secret_key=b"k" * 32
    )
    app.config["ids"] = seed(store)
    return app


@pytest.fixture
def local_app(any_store: Store, tmp_path: Path) -> Any:
    return _app(any_store, tmp_path)


@pytest.fixture
def sqlite_app(store: Store, tmp_path: Path) -> Any:
    """As `local_app`, on SQLite only: for tests of roles and pages rather than of the database."""
    return _app(store, tmp_path)


@pytest.fixture
def proxy_app(store: Store, tmp_path: Path) -> Any:
    return _app(store, tmp_path, mode="proxy")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium (tests/web/browser_support.py); only the browser tests ask for it."""
    from tests.web.browser_support import chromium

    with chromium(tmp_path / "chromium-profile") as driver:
        yield driver


@pytest.fixture
def served(store: Store, tmp_path: Path) -> Iterator[tuple[str, dict[str, int]]]:
    """The dashboard served over HTTP on a real port (local sign-in), and the seeded ids."""
    from monitor.web.server import WebServer

    config = make_config(tmp_path / "unused.db")
    ids = seed(store)
    server = WebServer(create_app(config, store, secret_key=b"w" * 32), "127.0.0.1", 0).start()
    try:
        yield server.url.rstrip("/"), ids
    finally:
        server.stop()
