"""The store: engine set-up, schema state, and what a poll writes.

Upserts by platform identity (posts, messages, replies, profile snapshots, scheduled posts),
cursors, rate-limit state and quota units, plus small reads the poll and CLI need. The checks'
reads (stored rows back into records) are in `monitor.records`; the finding lifecycle is in
`monitor.checking`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, cast

from sqlalchemy import JSON, CursorResult, Engine, Result, create_engine, event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from monitor import models
from monitor.db import (
    AccountStateRow,
    Base,
    CursorRow,
    MessageRow,
    PollRunRow,
    PostRow,
    ProfileSnapshotRow,
    QuotaUsageRow,
    RateLimitRow,
    ReplyRow,
    ScheduledPostRow,
)


class StoreError(Exception):
    """The database cannot be used as it is; the message says what to run."""


SQLITE_BUSY_TIMEOUT = 15.0  # seconds a write waits for another connection's lock before "database is locked"


def _sqlite_pragmas(busy_timeout: float) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def _make_database_dir(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # e.g. the data directory is a file, or not writable: say which, not a traceback
        from monitor.logs import redact

        reason = exc.strerror or type(exc).__name__
        raise StoreError(f"cannot create the database directory {redact(str(directory))}: {reason}") from None


def _create_private(path: Path) -> None:
    """Create the SQLite file readable by its owner only (0600), whatever the umask of whoever runs
    it; SQLite gives its -wal and -shm files the same mode."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return
    except OSError:
        return  # SQLite itself will say what is wrong with the path


def make_engine(url: str, busy_timeout: float = SQLITE_BUSY_TIMEOUT) -> Engine:
    """An engine for `url`; on SQLite, `busy_timeout` is how long a write waits for a lock."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            _make_database_dir(Path(path).parent)
            _create_private(Path(path.split("?", 1)[0]))
        engine = create_engine(url, connect_args={"timeout": busy_timeout, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout))
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _alembic_config(connection: Any = None) -> Any:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(resources.files("monitor") / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    from monitor.migrations import HEAD

    return HEAD


def known_revisions() -> set[str]:
    from monitor.migrations import REVISIONS

    return set(REVISIONS)


def rows_changed(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE changed (its result is a CursorResult, typed as a Result)."""
    return int(cast("CursorResult[Any]", result).rowcount)


class Store:
    def __init__(self, url: str, engine: Engine | None = None):
        self.url = url
        self.engine = engine or make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    # -- schema -------------------------------------------------------------------------------

    def current_revision(self) -> str | None:
        """The revision stamped in `alembic_version`, or None for an empty database."""
        from sqlalchemy import inspect, text

        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def schema_status(self) -> dict[str, Any]:
        current, head = self.current_revision(), head_revision()
        if current is None:
            state = "empty"
        elif current == head:
            state = "current"
        elif current in known_revisions():
            state = "behind"
        else:
            state = "newer"
        return {"current": current, "head": head, "state": state, "database": self.safe_url()}

    def upgrade(self) -> tuple[str | None, str | None]:
        """Bring the schema to head; idempotent. Returns (before, after)."""
        from alembic import command

        before = self.current_revision()
        with self.engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "head")
        return before, self.current_revision()

    def require_current(self) -> None:
        status = self.schema_status()
        if status["state"] == "current":
            return
        if status["state"] == "newer":
            raise StoreError(
                f"the database schema ({status['current']}) is newer than this socialmon knows; "
                "upgrade socialmon"
            )
        raise StoreError(f"the database is not migrated ({status['state']}): run `socialmon db upgrade`")

    def create_all_for_tests(self) -> None:
        Base.metadata.create_all(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


# --- upserts ----------------------------------------------------------------------------------


def dialect_insert(session: Session, table: Any) -> Any:
    """INSERT for the session's database (PostgreSQL or SQLite), which knows ON CONFLICT."""
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


def upsert_rows(
    session: Session,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str] | None = None,
    changed: Sequence[str] | None = None,
) -> None:
    """Insert rows; on a key conflict update only `update` columns (or nothing).

    With `changed`, a conflicting row is updated only when one of those columns differs, so
    storing the same page twice leaves the row (and its `updated_at`) as it was.
    """
    if not rows:
        return
    table = model.__table__
    for start in range(0, len(rows), 500):
        stmt = dialect_insert(session, table).values(list(rows[start : start + 500]))
        if update:
            stmt = stmt.on_conflict_do_update(
                index_elements=list(keys),
                set_={c: getattr(stmt.excluded, c) for c in update},
                where=_any_differs(table, stmt.excluded, changed) if changed else None,
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
        session.execute(stmt)


def _any_differs(table: Any, excluded: Any, columns: Sequence[str]) -> Any:
    from sqlalchemy import Text, cast, or_

    def comparable(column: Any) -> Any:
        # PostgreSQL's json type has no equality operator: compare JSON as text.
        return cast(column, Text) if isinstance(column.type, JSON) else column

    return or_(*(comparable(table.c[c]).is_distinct_from(comparable(excluded[c])) for c in columns))


def _existing_ids(
    session: Session, model: Any, platform_ids: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    wanted = list(platform_ids)
    found: set[tuple[str, str]] = set()
    by_platform: dict[str, list[str]] = {}
    for platform, native in wanted:
        by_platform.setdefault(platform, []).append(native)
    for platform, natives in by_platform.items():
        for start in range(0, len(natives), 500):
            chunk = natives[start : start + 500]
            stmt = select(model.native_id).where(model.platform == platform, model.native_id.in_(chunk))
            stored: list[str] = list(session.scalars(stmt))
            found.update((platform, native) for native in stored)
    return found


# Columns a later poll may legitimately change (edits, caption status, live ending).
_POST_UPDATABLE = (
    "text",
    "url",
    "kind",
    "title",
    "language",
    "language_confidence",
    "links",
    "hashtags",
    "media",
    "has_video",
    "video_captions",
    "live",
    "updated_at",
)


def store_posts(session: Session, posts: Sequence[models.Post], now: datetime) -> int:
    """Upsert posts; returns how many were new."""
    existing = _existing_ids(session, PostRow, ((p.platform, p.native_id) for p in posts))
    rows = []
    for post in {(p.platform, p.native_id): p for p in posts}.values():
        row = asdict(post)
        row.update(links=list(post.links), hashtags=list(post.hashtags), media=list(post.media))
        rows.append({**row, "first_seen_at": now, "updated_at": now})
    # updated_at moves only when the content did
    content = _POST_UPDATABLE[:-1]
    upsert_rows(session, PostRow, rows, ("platform", "native_id"), _POST_UPDATABLE, changed=content)
    return sum(1 for p in {(p.platform, p.native_id) for p in posts} if p not in existing)


def store_messages(session: Session, messages: Sequence[models.Message], now: datetime) -> int:
    existing = _existing_ids(session, MessageRow, ((m.platform, m.native_id) for m in messages))
    rows = [
        {**asdict(m), "first_seen_at": now} for m in {(m.platform, m.native_id): m for m in messages}.values()
    ]
    columns = ("text", "language", "language_confidence", "is_enquiry", "hidden")
    upsert_rows(session, MessageRow, rows, ("platform", "native_id"), columns, changed=columns)
    return sum(1 for key in {(m.platform, m.native_id) for m in messages} if key not in existing)


def store_replies(session: Session, replies: Sequence[models.Reply], now: datetime) -> int:
    existing = _existing_ids(session, ReplyRow, ((r.platform, r.native_id) for r in replies))
    rows = [
        {**asdict(r), "first_seen_at": now} for r in {(r.platform, r.native_id): r for r in replies}.values()
    ]
    columns = ("text", "language", "language_confidence")
    upsert_rows(session, ReplyRow, rows, ("platform", "native_id"), columns, changed=columns)
    return sum(1 for key in {(r.platform, r.native_id) for r in replies} if key not in existing)


def latest_profile(session: Session, account_id: str) -> ProfileSnapshotRow | None:
    stmt = (
        select(ProfileSnapshotRow)
        .where(ProfileSnapshotRow.account_id == account_id)
        .order_by(ProfileSnapshotRow.taken_at.desc(), ProfileSnapshotRow.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def store_profile(session: Session, snapshot: models.ProfileSnapshot) -> bool:
    """Store a snapshot if it differs from the latest; else refresh last_seen_at. True if new."""
    latest = latest_profile(session, snapshot.account_id)
    if (
        latest is not None
        and (latest.name, latest.handle, latest.text, latest.avatar_fingerprint) == snapshot.identity()
    ):
        latest.last_seen_at = snapshot.taken_at
        if latest.language is None:  # stored before profiles carried their language
            latest.language, latest.language_confidence = snapshot.language, snapshot.language_confidence
            latest.languages = list(snapshot.languages)
        return False
    row = {**asdict(snapshot), "languages": list(snapshot.languages)}
    session.add(ProfileSnapshotRow(**row, last_seen_at=snapshot.taken_at))
    return True


def store_scheduled(
    session: Session, account_id: str, scheduled: Sequence[models.ScheduledPost], now: datetime
) -> None:
    """Replace the account's view of its queue: rows not seen now are marked gone."""
    seen = {(s.platform, s.native_id) for s in scheduled}
    rows = [{**asdict(s), "first_seen_at": now, "last_seen_at": now, "gone_at": None} for s in scheduled]
    upsert_rows(
        session,
        ScheduledPostRow,
        rows,
        ("platform", "native_id"),
        ("scheduled_for", "text", "url", "last_seen_at", "gone_at"),
    )
    for row in session.scalars(
        select(ScheduledPostRow).where(
            ScheduledPostRow.account_id == account_id, ScheduledPostRow.gone_at.is_(None)
        )
    ):
        if (row.platform, row.native_id) not in seen:
            row.gone_at = now


def load_cursor(session: Session, account_id: str) -> dict[str, Any]:
    row = session.get(CursorRow, account_id)
    return dict(row.data) if row else {}


def save_cursor(session: Session, account_id: str, cursor: dict[str, Any], now: datetime) -> None:
    upsert_rows(
        session,
        CursorRow,
        [{"account_id": account_id, "data": cursor, "updated_at": now}],
        ("account_id",),
        ("data", "updated_at"),
    )


def store_rate_limits(session: Session, limits: Sequence[models.RateLimit], now: datetime) -> None:
    rows = [{**asdict(rl), "updated_at": now, "blocked_until": None} for rl in limits]
    upsert_rows(
        session,
        RateLimitRow,
        rows,
        ("platform", "bucket"),
        ("limit", "remaining", "reset_at", "used_percent", "updated_at"),
    )


def add_quota_units(session: Session, platform: str, day: str, units: int) -> None:
    if units <= 0:
        return
    row = session.get(QuotaUsageRow, (platform, day))
    if row is None:
        session.add(QuotaUsageRow(platform=platform, day=day, units=units))
    else:
        row.units += units


def quota_used(session: Session, platform: str, day: str) -> int:
    row = session.get(QuotaUsageRow, (platform, day))
    return row.units if row else 0


def latest_poll_runs(session: Session) -> dict[str, PollRunRow]:
    newest = (
        select(PollRunRow.account_id, func.max(PollRunRow.id).label("id"))
        .group_by(PollRunRow.account_id)
        .subquery()
    )
    rows = session.scalars(select(PollRunRow).join(newest, PollRunRow.id == newest.c.id))
    return {row.account_id: row for row in rows}


def account_state(session: Session, account_id: str) -> AccountStateRow:
    row = session.get(AccountStateRow, account_id)
    if row is None:
        row = AccountStateRow(account_id=account_id)
        session.add(row)
    return row
