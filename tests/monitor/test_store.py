"""The store on SQLite and PostgreSQL: engine settings, migrations, upserts by platform identity."""

from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatch
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from monitor import models
from monitor.db import Base, MessageRow, PostRow, ProfileSnapshotRow, ReplyRow, ScheduledPostRow
from monitor.store import (
    Store,
    StoreError,
    add_quota_units,
    head_revision,
    load_cursor,
    quota_used,
    save_cursor,
    store_messages,
    store_posts,
    store_profile,
    store_replies,
    store_scheduled,
)

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _post(native_id: str = "1001", text_: str = "Croeso / Welcome", **kw: object) -> models.Post:
    return models.Post(
        platform="x",
        native_id=native_id,
        account_id="bangor-x-en",
        created_at=T0,
        text=text_,
        url=f"https://x.com/BangorUni/status/{native_id}",
        links=("https://www.bangor.ac.uk",),
        hashtags=("Bangor",),
        **kw,  # type: ignore[arg-type]
    )


def _message(native_id: str = "m1") -> models.Message:
    return models.Message(
        platform="facebook",
        native_id=native_id,
        account_id="bangor-facebook",
        channel="comment",
        author_id="u1",
        author_name="Siân",
        created_at=T0,
        text="Pryd mae'r diwrnod agored?",
        language="cy",
        is_enquiry=True,
        in_reply_to="p1",
    )


def _table_snapshot(store: Store, model: type[Base]) -> list[tuple[object, ...]]:
    with store.session() as session:
        return [tuple(row) for row in session.execute(select(model.__table__).order_by(model.__table__.c.id))]


# --- engine and schema --------------------------------------------------------------------------


def test_sqlite_has_wal_foreign_keys_and_busy_timeout(store: Store) -> None:
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_migrations_build_every_table_and_are_idempotent(any_store: Store) -> None:
    head = head_revision()
    assert any_store.current_revision() == head
    tables = set(inspect(any_store.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert any_store.upgrade() == (head, head)  # second run: nothing to do
    assert any_store.schema_status()["state"] == "current"


def test_migrations_run_from_an_empty_database(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        assert store.schema_status()["state"] == "empty"
        with pytest.raises(StoreError, match="socialmon db upgrade"):
            store.require_current()
        before, after = store.upgrade()
        assert (before, after) == (None, head_revision())
        store.require_current()
    finally:
        store.dispose()


def test_a_newer_schema_is_refused(any_store: Store) -> None:
    with any_store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    assert any_store.schema_status()["state"] == "newer"
    with pytest.raises(StoreError, match="newer than this socialmon"):
        any_store.require_current()


def test_the_schema_matches_the_models(any_store: Store) -> None:
    """The shipped migration must build what db.py declares (regen_migration.py was run)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with any_store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


# --- upserts by platform identity ---------------------------------------------------------------


def test_storing_the_same_page_twice_changes_nothing(any_store: Store) -> None:
    posts = [_post("1001"), _post("1002", "Second post")]
    with any_store.session() as session:
        assert store_posts(session, posts, T0) == 2
        assert store_messages(session, [_message()], T0) == 1
    first_posts, first_messages = _table_snapshot(any_store, PostRow), _table_snapshot(any_store, MessageRow)

    later = T0 + timedelta(minutes=15)
    with any_store.session() as session:
        assert store_posts(session, posts, later) == 0
        assert store_messages(session, [_message()], later) == 0
    assert _table_snapshot(any_store, PostRow) == first_posts  # updated_at too: nothing changed
    assert _table_snapshot(any_store, MessageRow) == first_messages


def test_an_edited_post_is_updated_in_place(any_store: Store) -> None:
    with any_store.session() as session:
        store_posts(session, [_post("1001")], T0)
    later = T0 + timedelta(hours=1)
    with any_store.session() as session:
        assert store_posts(session, [_post("1001", "Edited", video_captions="yes")], later) == 0
    with any_store.session() as session:
        row = session.scalars(select(PostRow)).one()
        assert (row.text, row.video_captions) == ("Edited", "yes")
        assert (row.first_seen_at, row.updated_at) == (T0, later)
        assert row.links == ["https://www.bangor.ac.uk"]


def test_duplicates_within_one_page_are_stored_once(any_store: Store) -> None:
    with any_store.session() as session:
        assert store_posts(session, [_post("1001"), _post("1001")], T0) == 1
        assert store_replies(session, [_reply(), _reply()], T0) == 1
    with any_store.session() as session:
        assert session.scalar(select(func.count()).select_from(PostRow)) == 1
        assert session.scalar(select(func.count()).select_from(ReplyRow)) == 1


def test_same_native_id_on_two_platforms_is_two_records(any_store: Store) -> None:
    with any_store.session() as session:
        store_posts(session, [_post("42"), replace(_post("42"), platform="facebook")], T0)
    with any_store.session() as session:
        assert session.scalar(select(func.count()).select_from(PostRow)) == 2


def _reply() -> models.Reply:
    return models.Reply(
        platform="facebook",
        native_id="r1",
        account_id="bangor-facebook",
        created_at=T0 + timedelta(hours=1),
        text="Dydd Sadwrn 14 Mehefin.",
        in_reply_to="m1",
        language="cy",
    )


def test_profile_snapshots_only_when_identity_changes(any_store: Store) -> None:
    snap = models.ProfileSnapshot(
        "bangor-x-en", T0, "Bangor University", "BangorUni", "Mon-Fri 09:00-17:00", "abc"
    )
    with any_store.session() as session:
        assert store_profile(session, snap) is True
    with any_store.session() as session:
        assert store_profile(session, replace(snap, taken_at=T0 + timedelta(hours=1))) is False
    with any_store.session() as session:
        assert store_profile(session, replace(snap, taken_at=T0 + timedelta(hours=2), name="Hacked")) is True
    with any_store.session() as session:
        rows = session.scalars(select(ProfileSnapshotRow).order_by(ProfileSnapshotRow.id)).all()
        assert [r.name for r in rows] == ["Bangor University", "Hacked"]
        assert rows[0].last_seen_at == T0 + timedelta(hours=1)


def test_scheduled_posts_not_seen_again_are_marked_gone(any_store: Store) -> None:
    queued = [
        models.ScheduledPost("facebook", f"s{i}", "pontio-facebook", T0 + timedelta(days=1), "Sioe")
        for i in (1, 2)
    ]
    with any_store.session() as session:
        store_scheduled(session, "pontio-facebook", queued, T0)
    later = T0 + timedelta(minutes=15)
    with any_store.session() as session:
        store_scheduled(session, "pontio-facebook", queued[:1], later)
    with any_store.session() as session:
        rows = {r.native_id: r for r in session.scalars(select(ScheduledPostRow))}
        assert rows["s1"].gone_at is None and rows["s1"].last_seen_at == later
        assert rows["s2"].gone_at == later


def test_cursor_and_quota_round_trip(any_store: Store) -> None:
    with any_store.session() as session:
        save_cursor(session, "bangor-x-en", {"since_id": "1001"}, T0)
        add_quota_units(session, "youtube", "2026-03-02", 3)
    with any_store.session() as session:
        save_cursor(session, "bangor-x-en", {"since_id": "1002"}, T0 + timedelta(minutes=15))
        add_quota_units(session, "youtube", "2026-03-02", 2)
    with any_store.session() as session:
        assert load_cursor(session, "bangor-x-en") == {"since_id": "1002"}
        assert load_cursor(session, "unknown") == {}
        assert quota_used(session, "youtube", "2026-03-02") == 5


def test_a_failed_transaction_leaves_nothing(any_store: Store) -> None:
    with pytest.raises(RuntimeError), any_store.session() as session:
        store_posts(session, [_post("1001")], T0)
        raise RuntimeError("connector blew up after the write")
    with any_store.session() as session:
        assert session.scalar(select(func.count()).select_from(PostRow)) == 0


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="naive datetime"), store.session() as session:
        store_posts(session, [_post("1001")], datetime(2026, 3, 2, 9, 0))


def test_datetimes_come_back_aware_utc(any_store: Store) -> None:
    from zoneinfo import ZoneInfo

    local = datetime(2026, 7, 1, 10, 0, tzinfo=ZoneInfo("Europe/London"))
    with any_store.session() as session:
        store_posts(session, [replace(_post("1001"), created_at=local)], T0)
    with any_store.session() as session:
        created = session.scalars(select(PostRow.created_at)).one()
    assert created == local and created.tzinfo is not None and created.utcoffset() == timedelta(0)


# --- shipped files ------------------------------------------------------------------------------


def test_migrations_are_found_through_importlib_resources() -> None:
    migrations = resources.files("monitor") / "migrations"
    assert (migrations / "env.py").is_file()
    assert (migrations / "script.py.mako").is_file()
    assert any(p.name.endswith(".py") and p.name[0].isdigit() for p in (migrations / "versions").iterdir())
    assert head_revision() is not None


DATA_DIRS = ("monitor/migrations", "monitor/templates", "monitor/sandbox/scenarios", "monitor/data")


def _shipped(path: Path, package_data: dict[str, list[str]], packages: set[str]) -> bool:
    """Would setuptools put this file in the wheel? (python modules of packages, or package-data globs)."""
    rel = path.relative_to(ROOT)
    package = ".".join(rel.parent.parts)
    if package not in packages:
        return False
    if path.suffix == ".py":
        return True
    patterns = package_data.get("*", []) + package_data.get(package, [])
    return any(fnmatch(path.name, pattern) for pattern in patterns)


def test_package_data_ships_migrations_templates_scenarios_and_data() -> None:
    from setuptools import find_packages

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setuptools_cfg = project["tool"]["setuptools"]
    packages = set(find_packages(str(ROOT), include=setuptools_cfg["packages"]["find"]["include"]))
    files = [
        p
        for d in DATA_DIRS
        if (ROOT / d).is_dir()
        for p in (ROOT / d).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    assert any(p.name == "script.py.mako" for p in files)
    assert any(re.match(r"\d+_.*\.py$", p.name) for p in files)
    missing = [
        str(p.relative_to(ROOT)) for p in files if not _shipped(p, setuptools_cfg["package-data"], packages)
    ]
    assert missing == [], "not in the wheel: add an __init__.py or a package-data glob in pyproject.toml"


def test_the_revision_list_matches_the_migration_scripts() -> None:
    """The service checks the schema without importing Alembic; its list must match the scripts."""
    from alembic.script import ScriptDirectory

    from monitor.migrations import HEAD, REVISIONS
    from monitor.store import _alembic_config

    scripts = ScriptDirectory.from_config(_alembic_config())
    assert scripts.get_current_head() == HEAD
    assert list(REVISIONS) == [rev.revision for rev in reversed(list(scripts.walk_revisions()))]
