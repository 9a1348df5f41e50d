"""Who may work: one leader per database.

- PostgreSQL: a session-level advisory lock (`service.lock_id`) held on a dedicated connection.
  Two instances may run; the one holding the lock works, the other retries every few seconds.
  The lock dies with its session: a killed leader's socket is closed by the kernel at once, and
  a leader that vanished from the network is dropped by the server's TCP keepalives (set per
  session below), so the standby takes over well within 30 s.
- SQLite: an exclusive `flock` on a file next to the database. A second instance refuses to
  start with a message naming the holder: SQLite is for one host and one process.

`InstanceRow` heartbeats say who is running and who leads, for `socialmon status`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import delete, update
from sqlalchemy.engine import make_url

from monitor.clock import utcnow
from monitor.db import InstanceRow
from monitor.logs import get_logger, redact
from monitor.store import upsert_rows

log = get_logger(component="leader")

STALE_AFTER = timedelta(seconds=30)  # a heartbeat older than this is a dead instance


class AlreadyRunning(Exception):
    """Another instance holds the SQLite lock: this one must not start."""


class Leadership(Protocol):
    kind: str

    def try_acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

    def release(self) -> None: ...


def new_instance_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class SqliteFileLock:
    """An exclusive, non-blocking flock on `<database>.lock`; released by the kernel if we die."""

    kind = "file"

    def __init__(self, database_path: str | Path):
        self.path = Path(f"{database_path}.lock")
        self._handle: Any = None

    def try_acquire(self) -> bool:
        import fcntl

        if self._handle is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()} {socket.gethostname()}\n")
        handle.flush()
        self._handle = handle
        return True

    def holder(self) -> str:
        try:
            text = self.path.read_text().split()
        except OSError:
            return "another process"
        return f"pid {text[0]} on {text[1]}" if len(text) >= 2 else "another process"

    def acquire_or_refuse(self) -> None:
        if not self.try_acquire():
            raise AlreadyRunning(
                f"another socialmon instance ({self.holder()}) is already running on this SQLite database "
                f"(lock file {self.path}); SQLite allows one instance: stop it, or use PostgreSQL for two"
            )

    def still_held(self) -> bool:
        return self._handle is not None

    def release(self) -> None:
        if self._handle is not None:
            import fcntl

            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


class PgAdvisoryLock:
    """`pg_try_advisory_lock(lock_id)` on a connection of its own (not from the pool)."""

    kind = "advisory"

    def __init__(self, url: str, lock_id: int, connect_timeout: int = 5):
        self.conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.lock_id = lock_id
        self.connect_timeout = connect_timeout
        self._conn: Any = None

    def _connect(self) -> Any:
        import psycopg

        conn = psycopg.connect(
            self.conninfo,
            autocommit=True,
            connect_timeout=self.connect_timeout,
            application_name="socialmon-leader",
            # Client side: notice a dead server or network within ~15 s, even mid-query.
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=2,
            keepalives_count=3,
            tcp_user_timeout=15000,
        )
        # Server side: drop (and so unlock) a session whose client vanished without closing it.
        conn.execute("SET tcp_keepalives_idle = 5")
        conn.execute("SET tcp_keepalives_interval = 2")
        conn.execute("SET tcp_keepalives_count = 3")
        conn.execute("SET statement_timeout = '10s'")
        return conn

    def try_acquire(self) -> bool:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.lock_id,)).fetchone()
            return bool(row and row[0])
        except Exception as exc:  # the database is down or unreachable: try again later
            log.warning(
                "leader lock: cannot reach the database",
                error=redact(str(exc).splitlines()[0] if str(exc) else ""),
            )
            self._drop()
            return False

    def still_held(self) -> bool:
        """The session is alive, so its session-level lock is still ours."""
        if self._conn is None or self._conn.closed:
            return False
        try:
            row = self._conn.execute(
                "SELECT count(*) FROM pg_locks"
                " WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
            ).fetchone()
            return bool(row and row[0] > 0)
        except Exception:
            self._drop()
            return False

    def backend_pid(self) -> int | None:
        """For tests and operators: the server process holding our session."""
        if self._conn is None or self._conn.closed:
            return None
        return int(self._conn.info.backend_pid)

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None

    def release(self) -> None:
        if self._conn is not None and not self._conn.closed:
            with contextlib.suppress(Exception):
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.lock_id,))
        self._drop()


def leadership_for(store: Any, lock_id: int) -> SqliteFileLock | PgAdvisoryLock:
    if store.dialect == "postgresql":
        return PgAdvisoryLock(store.url, lock_id)
    database = store.engine.url.database
    if not database or database == ":memory:":
        raise AlreadyRunning(
            "the daemon needs a database file or PostgreSQL, not an in-memory SQLite database"
        )
    return SqliteFileLock(database)


# --- heartbeats ---------------------------------------------------------------------------------


def heartbeat(
    store: Any, instance_id: str, is_leader: bool, started_at: datetime, now: datetime | None = None
) -> None:
    now = now or utcnow()
    hostname, pid = instance_id.split(":")[0], os.getpid()
    with store.session() as session:
        if is_leader:  # whoever led before (and died) no longer does
            session.execute(
                update(InstanceRow).where(InstanceRow.instance_id != instance_id).values(is_leader=False)
            )
        row = {
            "instance_id": instance_id,
            "hostname": hostname,
            "pid": pid,
            "started_at": started_at,
            "heartbeat_at": now,
            "is_leader": is_leader,
        }
        upsert_rows(session, InstanceRow, [row], ("instance_id",), ("heartbeat_at", "is_leader"))


def sign_off(store: Any, instance_id: str) -> None:
    try:
        with store.session() as session:
            session.execute(delete(InstanceRow).where(InstanceRow.instance_id == instance_id))
    except Exception as exc:  # shutting down with the database gone: the row goes stale on its own
        log.warning("could not remove the instance row", error=redact(str(exc).splitlines()[0]))
