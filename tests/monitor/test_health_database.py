"""`healthy()` (what /healthz and the watchdog use) says no, and why, while the database cannot be
written: read-only, or the SQLite file deleted under the running service (SQLite would keep writing
to the deleted file, every write lost)."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event

from monitor.config import parse_config
from monitor.service import Service
from monitor.store import Store

CONFIG = """
accounts:
  - {id: uni-x, platform: x, handle: uni, name: X, role: central, language: {mode: bilingual}}
"""


def _service(tmp_path: Path) -> tuple[Service, Store]:
    store = Store(f"sqlite:///{tmp_path / 'sm.db'}")
    store.upgrade()
    return Service(parse_config(CONFIG, "c.yaml", env={}), store, instance_id="test:1"), store


def test_a_read_only_database_makes_the_service_unhealthy_until_writable_again(tmp_path: Path) -> None:
    service, store = _service(tmp_path)
    started = datetime.now(UTC)
    service._beat(False, started, 0.0)
    assert service.healthy()[0]

    def read_only(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.execute("PRAGMA query_only = ON")

    beat_engine = service._heartbeat_store().engine  # the heartbeat writes on its own engine
    event.listen(beat_engine, "connect", read_only)
    beat_engine.dispose()
    service._beat(False, started, 0.0)
    ok, detail = service.healthy()
    assert not ok and "not writable" in str(detail["database"]) and "readonly" in str(detail["database"])

    event.remove(beat_engine, "connect", read_only)
    beat_engine.dispose()
    service._beat(False, started, 0.0)
    assert service.healthy()[0]
    store.dispose()


def test_a_deleted_sqlite_file_makes_the_service_unhealthy(tmp_path: Path) -> None:
    service, store = _service(tmp_path)
    started = datetime.now(UTC)
    service._beat(False, started, 0.0)
    assert service.healthy()[0]
    (tmp_path / "sm.db").unlink()
    service._beat(False, started, 0.0)
    ok, detail = service.healthy()
    assert not ok and "is gone" in str(detail["database"])
    store.dispose()


def test_a_locked_database_is_reported_after_the_heartbeat_timeout(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'sm.db'}")
    store.upgrade()
    text = CONFIG + "service: {heartbeat_timeout: 1s}\n"
    service = Service(parse_config(text, "c.yaml", env={}), store, instance_id="test:1")
    started = datetime.now(UTC)
    service._beat(False, started, 0.0)
    assert service.healthy()[0]
    locker = sqlite3.connect(tmp_path / "sm.db", isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")  # no other writer until we let go
        began = time.monotonic()
        service._beat(False, started, 0.0)
        waited = time.monotonic() - began
        ok, detail = service.healthy()
        assert not ok and "locked" in str(detail["database"])
        assert 1.0 <= waited < 5.0  # service.heartbeat_timeout, not SQLite's 15 s default
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    service._beat(False, started, 0.0)
    assert service.healthy()[0]
    store.dispose()
