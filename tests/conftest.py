"""Shared fixtures: a migrated store on SQLite (always) and PostgreSQL (when SOCIALMON_TEST_PG_URL is set)."""

from __future__ import annotations

import gc
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from monitor.db import Base
from monitor.store import Store, head_revision, make_engine

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


# Migrating (0.6 s) and creating a database (0.3-0.5 s) cost about a second a PostgreSQL test: the
# session migrates one SQLite file, copied for each test, and one PostgreSQL database, emptied
# (DELETE) after each test and made again only when a test left it in another state.


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (pyproject's addopts): two workers a core. Most tests wait (on sockets, child
    processes, PostgreSQL) rather than compute: on 2 cores 4 workers ran the suite ~15% faster."""
    return 2 * (os.cpu_count() or 1)


def pytest_unconfigure(config: pytest.Config) -> None:
    """A test process ends holding ~0.5 M objects, and interpreter shutdown garbage-collects them
    all again (~1 s of CPU for each xdist worker, at the very end of every run). Nothing left needs
    the collector to finalise it (stores are disposed, servers stopped), so exit without that pass."""
    gc.freeze()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("schema") / "migrated.db"
    store = Store(f"sqlite:///{path}")
    store.upgrade()
    store.dispose()  # the last connection closing checkpoints the WAL into the file
    return path


class _SharedPgDatabase:
    """One migrated database for the session's PostgreSQL tests, emptied between them."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self.url = ""
        self._engine: Engine | None = None  # kept for the resets: a new connection each time cost ~20 ms
        self._tests_engine: Engine | None = None  # the pool every test's Store shares (see `store`)
        self._emptying = ""
        self._make()

    def _make(self) -> None:
        self._dispose_engine()
        self._stack.close()
        self._stack = ExitStack()
        self.url = self._stack.enter_context(fresh_pg_database("sm_shared"))
        store = Store(self.url)
        store.upgrade()
        store.dispose()
        self._engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        with self._engine.connect() as conn:
            sequences = conn.execute(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
            ).scalars()
            # One round trip: DELETE on the few rows a test leaves is ~5x cheaper than TRUNCATE
            # (which makes new files for every table and index), children before parents.
            self._emptying = ";".join(
                ["SET lock_timeout = '5s'"]
                + [f'DELETE FROM "{t.name}"' for t in reversed(Base.metadata.sorted_tables)]
                + [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences]
            )

    def _dispose_engine(self) -> None:
        for engine in (self._engine, self._tests_engine):
            if engine is not None:
                engine.dispose()
        self._engine = self._tests_engine = None

    def store(self) -> Store:
        """A Store on the shared database whose engine (and so its pooled connections) outlives the
        test: a new PostgreSQL connection is a new server process that loads its catalogue caches
        again, which cost the server more CPU than most tests' own queries."""
        if self._tests_engine is None:
            self._tests_engine = make_engine(self.url)
        return Store(self.url, engine=self._tests_engine)

    def after_test(self) -> None:
        """Back to the state a test starts from; a test that kept a connection checked out (or
        left its pool in any doubt) gets its pool closed rather than shared with the next test."""
        engine = self._tests_engine
        if engine is not None and engine.pool.checkedout():  # type: ignore[attr-defined]
            engine.dispose()
            self._tests_engine = None
        self.reset()

    def reset(self) -> None:
        """Empty every table; a database a test changed otherwise (schema stamp, locks held) is remade."""
        assert self._engine is not None
        try:
            with self._engine.connect() as conn:
                conn.exec_driver_sql(self._emptying)
                stamp = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            clean = stamp == head_revision()
        except Exception:
            clean = False
        if not clean:
            self._make()

    def close(self) -> None:
        self._dispose_engine()
        self._stack.close()


@pytest.fixture(scope="session")
def shared_pg_database() -> Iterator[_SharedPgDatabase]:
    if not PG_URL:
        pytest.skip("SOCIALMON_TEST_PG_URL is not set (CI sets it; see .ci/run)")
    shared = _SharedPgDatabase()
    yield shared
    shared.close()


def _sqlite_copy(template: Path, tmp_path: Path) -> Store:
    target = tmp_path / "test.db"
    shutil.copyfile(template, target)
    return Store(f"sqlite:///{target}")


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated store, once on SQLite and once on PostgreSQL (skipped only when no server is configured)."""
    if request.param == "sqlite":
        store = _sqlite_copy(request.getfixturevalue("migrated_sqlite"), tmp_path)
        yield store
        store.dispose()
        return
    shared: _SharedPgDatabase = request.getfixturevalue("shared_pg_database")
    try:
        yield shared.store()
    finally:
        shared.after_test()


@pytest.fixture
def store(migrated_sqlite: Path, tmp_path: Path) -> Iterator[Store]:
    """A migrated SQLite store in a temporary directory."""
    s = _sqlite_copy(migrated_sqlite, tmp_path)
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
