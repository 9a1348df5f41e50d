"""Fixtures for the dashboard tests: an app over a real migrated store, on a frozen clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.store import Store
from monitor.web.app import create_app
from tests.web.web_support import NOW, make_config, seed


@pytest.fixture
def local_app(any_store: Store, tmp_path: Path) -> Iterator[Any]:
    config = make_config(tmp_path / "unused.db")
    app = create_app(config, any_store, clock=lambda: NOW, secret_key=b"k" * 32)
    app.config["ids"] = seed(any_store)
    yield app


@pytest.fixture
def sqlite_app(store: Store, tmp_path: Path) -> Iterator[Any]:
    """As `local_app`, on SQLite only: for tests of roles and pages rather than of the database."""
    config = make_config(tmp_path / "unused.db")
    app = create_app(config, store, clock=lambda: NOW, secret_key=b"k" * 32)
    app.config["ids"] = seed(store)
    yield app


@pytest.fixture
def proxy_app(store: Store, tmp_path: Path) -> Iterator[Any]:
    config = make_config(tmp_path / "unused.db", mode="proxy")
    app = create_app(config, store, clock=lambda: NOW, secret_key=b"k" * 32)
    app.config["ids"] = seed(store)
    yield app
