"""Shared fixtures: a migrated store on SQLite (always) and PostgreSQL (when SOCIALMON_TEST_PG_URL is set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from monitor.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
PG_URL = os.environ.get("SOCIALMON_TEST_PG_URL")


@contextmanager
def fresh_pg_database(prefix: str = "sm_test") -> Iterator[str]:
    """The URL of a new, empty database on the PostgreSQL server CI started; dropped afterwards."""
    assert PG_URL
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _pg_store() -> Iterator[Store]:
    """A store on a fresh database (one per test)."""
    with fresh_pg_database() as url:
        store = Store(url)
        try:
            yield store
        finally:
            store.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated store, once on SQLite and once on PostgreSQL (skipped only when no server is configured)."""
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'test.db'}")
        store.upgrade()
        yield store
        store.dispose()
        return
    if not PG_URL:
        pytest.skip("SOCIALMON_TEST_PG_URL is not set (CI sets it; see .ci/run)")
    for store in _pg_store():
        store.upgrade()
        yield store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A migrated SQLite store in a temporary directory."""
    s = Store(f"sqlite:///{tmp_path / 'test.db'}")
    s.upgrade()
    yield s
    s.dispose()


@pytest.fixture
def pg_database(pg_url: str) -> Iterator[str]:
    """The URL of a fresh PostgreSQL database for this test."""
    with fresh_pg_database() as url:
        yield url


@pytest.fixture
def pg_url() -> str:
    if not PG_URL:
        pytest.skip("SOCIALMON_TEST_PG_URL is not set (CI sets it; see .ci/run)")
    return PG_URL
