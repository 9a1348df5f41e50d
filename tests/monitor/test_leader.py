"""Leadership: a file lock on SQLite (a second instance refuses), an advisory lock on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from monitor.db import InstanceRow
from monitor.leader import AlreadyRunning, PgAdvisoryLock, SqliteFileLock, heartbeat, leadership_for, sign_off
from monitor.store import Store


def test_sqlite_lock_refuses_a_second_holder(tmp_path: Path) -> None:
    first, second = SqliteFileLock(tmp_path / "db.sqlite"), SqliteFileLock(tmp_path / "db.sqlite")
    assert first.try_acquire() and first.try_acquire()  # idempotent for its holder
    assert not second.try_acquire()
    with pytest.raises(AlreadyRunning, match=rf"pid {os.getpid()} on .*use PostgreSQL"):
        second.acquire_or_refuse()
    first.release()
    assert second.try_acquire()
    second.release()


def test_sqlite_lock_is_released_when_its_process_dies(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    code = (
        "import sys, time; from monitor.leader import SqliteFileLock\n"
        f"lock = SqliteFileLock({str(path)!r}); assert lock.try_acquire()\n"
        "print('held', flush=True); time.sleep(60)"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        assert not SqliteFileLock(path).try_acquire()
        child.kill()
        child.wait(5)
        assert SqliteFileLock(path).try_acquire()
    finally:
        child.kill()


def test_leadership_for_picks_the_lock_by_dialect(store: Store) -> None:
    lock = leadership_for(store, 42)
    assert isinstance(lock, SqliteFileLock) and str(lock.path).endswith("test.db.lock")


def test_heartbeat_marks_one_leader_and_sign_off_removes_the_row(store: Store) -> None:
    now = datetime.now(UTC)
    heartbeat(store, "host:1:aaa", True, now, now)
    heartbeat(store, "host:2:bbb", False, now, now)
    heartbeat(store, "host:2:bbb", True, now, now + timedelta(seconds=5))  # took over
    with store.session() as session:
        rows = {r.instance_id: r.is_leader for r in session.scalars(select(InstanceRow))}
    assert rows == {"host:1:aaa": False, "host:2:bbb": True}
    sign_off(store, "host:1:aaa")
    with store.session() as session:
        assert session.scalars(select(InstanceRow.instance_id)).all() == ["host:2:bbb"]


# --- PostgreSQL --------------------------------------------------------------------------------


def test_advisory_lock_one_leader_then_the_other(pg_database: str) -> None:
    lock_id = 0x5EED
    leader, standby = PgAdvisoryLock(pg_database, lock_id), PgAdvisoryLock(pg_database, lock_id)
    try:
        assert leader.try_acquire()
        assert not standby.try_acquire()
        assert leader.still_held()
        leader.release()
        assert not leader.still_held()
        assert standby.try_acquire()
    finally:
        leader.release()
        standby.release()


def test_a_terminated_leader_session_is_noticed_and_the_lock_freed(pg_database: str) -> None:
    lock_id = 0x5EEE
    leader, standby = PgAdvisoryLock(pg_database, lock_id), PgAdvisoryLock(pg_database, lock_id)
    admin = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    try:
        assert leader.try_acquire()
        with admin.connect() as conn:  # what a lost connection looks like from the server's side
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": leader.backend_pid()})
        deadline = time.monotonic() + 10
        while not standby.try_acquire():
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert not leader.still_held()
        assert not leader.try_acquire()  # it reconnects, finds the lock taken, and stays out
    finally:
        leader.release()
        standby.release()
        admin.dispose()


def test_a_killed_leader_process_frees_the_lock_at_once(pg_database: str) -> None:
    lock_id = 0x5EEF
    code = (
        "import time; from monitor.leader import PgAdvisoryLock\n"
        f"lock = PgAdvisoryLock({pg_database!r}, {lock_id}); assert lock.try_acquire()\n"
        "print('held', flush=True)\n"
        "time.sleep(60)"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    standby = PgAdvisoryLock(pg_database, lock_id)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        assert not standby.try_acquire()
        child.kill()  # SIGKILL: no clean-up code runs
        child.wait(5)
        deadline = time.monotonic() + 5
        while not standby.try_acquire():
            assert time.monotonic() < deadline, "the server did not free a dead session's lock"
            time.sleep(0.1)
    finally:
        child.kill()
        standby.release()


def test_a_leader_that_loses_its_session_stops_working(pg_database: str) -> None:
    import threading

    from monitor.config import parse_config
    from monitor.service import EXIT_LOST_LEAD, Pieces, Service

    store = Store(pg_database)
    store.upgrade()
    config = parse_config(
        "service: {metrics_port: 0, leader_check_interval: 0.2s}\naccounts:\n"
        "  - {id: hq, platform: x, handle: Hq, name: HQ, role: central, language: {mode: bilingual}}\n",
        env={},
    )
    idle = Pieces(
        lambda *a, **k: None,
        lambda *a, **k: None,
        lambda *a, **k: 0,
        lambda *a, **k: None,
        lambda *a, **k: False,
        lambda *a, **k: [],
    )
    service = Service(config, store, pieces=idle)
    lock = PgAdvisoryLock(pg_database, 0x5EF0)
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(service.serve(lock)))
    thread.start()
    admin = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    try:
        deadline = time.monotonic() + 10
        while not (service.scheduler and service.scheduler.running):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": lock.backend_pid()})
        thread.join(15)
        assert result == [EXIT_LOST_LEAD]
        assert not service.scheduler.running
    finally:
        service.request_stop()
        thread.join(5)
        admin.dispose()
        store.dispose()
