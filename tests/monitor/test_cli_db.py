"""`socialmon db upgrade` / `db status`, and every database command's refusal of a wrong schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from monitor.cli.common import open_store
from monitor.cli.main import cli
from monitor.config import load_config
from monitor.store import Store, head_revision
from tests.conftest import PG_URL, fresh_pg_database

MINIMAL = """\
database: "{url}"
accounts:
  - id: bangor-x-en
    platform: x
    handle: BangorUni
    name: Bangor University
    role: central
    language: {{mode: bilingual}}
"""


def _config_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "socialmon.yaml"
    path.write_text(MINIMAL.format(url=url))
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db_config(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """A config naming an empty database (SQLite file, or a fresh PostgreSQL database)."""
    if request.param == "sqlite":
        yield _config_file(tmp_path, f"sqlite:///{tmp_path / 'sm.db'}")
        return
    if not PG_URL:
        pytest.skip("SOCIALMON_TEST_PG_URL is not set (CI sets it; see .ci/run)")
    with fresh_pg_database() as url:
        yield _config_file(tmp_path, url)


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output + result.stderr
    return result.exit_code, result.stdout, result.stderr


def _stamp(config_path: Path, revision: str) -> None:
    store = Store(load_config(config_path).database_url())
    try:
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :rev"), {"rev": revision})
    finally:
        store.dispose()


def test_status_of_an_empty_database_says_what_to_run(db_config: Path) -> None:
    code, out, _ = _run("db", "status", "--config", str(db_config))
    assert code == 0
    assert "not migrated: run `socialmon db upgrade`" in out


def test_upgrade_then_upgrade_again(db_config: Path) -> None:
    code, out, _ = _run("db", "upgrade", "-c", str(db_config))
    assert code == 0 and f"upgraded from empty to {head_revision()}" in out
    code, out, _ = _run("db", "upgrade", "-c", str(db_config))
    assert code == 0 and f"already at {head_revision()}" in out
    code, out, _ = _run("db", "status", "-c", str(db_config), "--json")
    assert code == 0
    assert json.loads(out) | {"database": None} == {
        "current": head_revision(),
        "head": head_revision(),
        "state": "current",
        "database": None,
    }


def test_a_newer_schema_is_refused_by_upgrade_and_reported_by_status(db_config: Path) -> None:
    assert _run("db", "upgrade", "-c", str(db_config))[0] == 0
    _stamp(db_config, "9999_newer")
    code, _, err = _run("db", "upgrade", "-c", str(db_config))
    assert code == 2
    assert (
        err.strip()
        == "socialmon: the database schema (9999_newer) is newer than this socialmon knows; upgrade socialmon"
    )
    code, out, _ = _run("db", "status", "-c", str(db_config))
    assert code == 0 and "newer than this socialmon" in out


def test_commands_needing_the_database_refuse_an_unmigrated_one(
    db_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(db_config)
    with pytest.raises(SystemExit) as exit_info:
        open_store(config)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "run `socialmon db upgrade`" in err


def test_commands_needing_the_database_refuse_a_newer_one(
    db_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run("db", "upgrade", "-c", str(db_config))[0] == 0
    _stamp(db_config, "9999_newer")
    with pytest.raises(SystemExit) as exit_info:
        open_store(load_config(db_config))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "newer than this socialmon knows; upgrade socialmon" in err


def test_open_store_accepts_a_current_database(db_config: Path) -> None:
    assert _run("db", "upgrade", "-c", str(db_config))[0] == 0
    store = open_store(load_config(db_config))
    try:
        assert store.schema_status()["state"] == "current"
    finally:
        store.dispose()


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    config = _config_file(tmp_path, "postgresql+psycopg://socialmon:hunter2-secret@127.0.0.1:1/socialmon")
    code, out, err = _run("db", "status", "-c", str(config))
    assert code == 2
    assert err.startswith("socialmon: cannot open the database") and err.count("\n") == 1
    assert "hunter2-secret" not in out + err


def test_a_bad_config_stops_db_commands_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("accounts: []\n")
    code, _, err = _run("db", "upgrade", "-c", str(path))
    assert code == 2 and f"{path}:1: accounts:" in err


@pytest.mark.parametrize("command", [["db", "upgrade"], ["db", "status"], ["status"]])
def test_a_database_directory_that_cannot_be_made_is_one_line(tmp_path: Path, command: list[str]) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data directory should be")
    path = _config_file(tmp_path, f"sqlite:///{blocker / 'sub' / 'sm.db'}")
    code, _out, err = _run(*command, "-c", str(path))
    assert code == 2
    assert err == f"socialmon: cannot create the database directory {blocker / 'sub'}: Not a directory\n"


def test_upgrade_from_0007_keeps_messages_and_marks_them_not_hidden(db_config: Path) -> None:
    """0008 adds messages.hidden (NOT NULL, default false) to a database holding messages."""
    from alembic import command

    from monitor.store import _alembic_config

    store = Store(load_config(db_config).database_url())
    try:
        with store.engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "0007")
            conn.execute(
                text(
                    "INSERT INTO messages (platform, native_id, account_id, channel, author_id, author_name,"
                    " created_at, text, language, language_confidence, is_enquiry, in_reply_to,"
                    " conversation_id, url, first_seen_at) VALUES ('facebook', 'c1', 'bangor-x-en',"
                    " 'comment', 'u1', 'Someone', '2026-11-30 09:00:00+00:00', 'When?', 'en', 0.9,"
                    " :yes, 'p1', 'p1', '', '2026-11-30 09:05:00+00:00')"
                ),
                {"yes": True},
            )
    finally:
        store.dispose()
    code, out, _ = _run("db", "upgrade", "-c", str(db_config))
    assert code == 0 and "upgraded from 0007 to 0008" in out
    store = Store(load_config(db_config).database_url())
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT native_id, hidden FROM messages")).all() == [("c1", False)]
    finally:
        store.dispose()
