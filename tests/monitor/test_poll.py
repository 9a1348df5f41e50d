"""poll_account / poll_accounts / `socialmon poll`: one transaction per poll, on SQLite and PostgreSQL.

The connector is the real XConnector with its HTTP stubbed by `responses` (recorded payloads), or,
for the CLI, real HTTP to a recording server on loopback.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses
from click.testing import CliRunner
from sqlalchemy import func, select

from connectors import get_connector
from monitor import poll as poll_module
from monitor.db import (
    AccountStateRow,
    MessageRow,
    PollRunRow,
    PostRow,
    ProfileSnapshotRow,
    QuotaUsageRow,
    RateLimitRow,
    ReplyRow,
)
from monitor.poll import poll_account, poll_accounts, quota_day
from monitor.store import Store, load_cursor
from tests.connectors.conftest import SECRETS, RecordingServer, Sleeps, load, make_config
from tests.connectors.conftest import server as server  # the fixture, used by name
from tests.connectors.test_x import API, EMPTY, NOW, USER_ID, stub_first_poll, user_body
from tests.connectors.test_youtube import serve_first_poll


def counts(store: Store) -> dict[str, int]:
    with store.session() as s:
        return {
            model.__tablename__: s.scalar(select(func.count()).select_from(model)) or 0
            for model in (PostRow, MessageRow, ReplyRow, PollRunRow)
        }


def x_connector() -> Any:
    return get_connector("x", make_config(), sleep=Sleeps())


def stub_quiet_poll() -> None:
    responses.get(f"{API}/2/users/{USER_ID}", json=user_body())
    responses.get(f"{API}/2/users/{USER_ID}/tweets", json=EMPTY)
    responses.get(f"{API}/2/users/{USER_ID}/mentions", json=EMPTY)
    responses.get(f"{API}/2/dm_events", json=EMPTY)


@responses.activate
def test_poll_stores_records_cursor_and_poll_run_then_adds_nothing(any_store: Store) -> None:
    config = make_config()
    account = config.account("uni-x")
    stub_first_poll(responses.mock)

    outcome = poll_account(config, any_store, account, now=NOW, connector=x_connector())

    assert (outcome.status, outcome.new_posts, outcome.new_messages, outcome.api_calls) == ("ok", 100, 4, 5)
    stored = counts(any_store)
    assert stored == {"posts": 100, "messages": 4, "replies": outcome.new_replies, "poll_runs": 1}
    with any_store.session() as s:
        assert load_cursor(s, account.id)["tweets_since_id"] == "1257786232978968578"
        run = s.scalars(select(PollRunRow)).one()
        assert (run.status, run.api_calls, run.new_posts, run.error) == ("ok", 5, 100, None)
        state = s.get(AccountStateRow, account.id)
        assert state is not None and state.last_ok_at == NOW and state.failing_since is None
        assert s.scalars(select(RateLimitRow)).all() == []  # no rate-limit headers in these recordings
        # The poll tagged what the connector fetched: every post and message has a language label.
        assert "en" in set(s.scalars(select(PostRow.language)))
        assert "en" in set(s.scalars(select(MessageRow.language)))
        assert s.scalars(select(ProfileSnapshotRow.language)).one() != "unknown"

    responses.mock.reset()
    stub_quiet_poll()
    again = poll_account(config, any_store, account, now=NOW + timedelta(minutes=15), connector=x_connector())
    assert (again.new_posts, again.new_messages, again.api_calls) == (0, 0, 4)
    assert counts(any_store) == {**stored, "poll_runs": 2}


@responses.activate
def test_crash_between_fetch_and_commit_stores_nothing_and_repoll_stores_once(
    any_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config()
    account = config.account("uni-x")
    stub_first_poll(responses.mock)

    def crash(*_: Any, **__: Any) -> int:
        raise RuntimeError("killed between fetch and commit")

    monkeypatch.setattr(poll_module, "store_replies", crash)  # runs after posts and messages were written
    failed = poll_account(config, any_store, account, now=NOW, connector=x_connector())
    # Nothing of the poll is kept, and the failure itself is recorded (never a silent "ok").
    assert failed.status == "store_failed" and failed.error and "killed between" in failed.error
    assert counts(any_store) == {"posts": 0, "messages": 0, "replies": 0, "poll_runs": 1}
    with any_store.session() as s:
        assert load_cursor(s, account.id) == {}

    monkeypatch.undo()
    responses.mock.reset()
    stub_first_poll(responses.mock)
    first = poll_account(config, any_store, account, now=NOW, connector=x_connector())
    responses.mock.reset()
    stub_first_poll(responses.mock)
    # The stub ignores since_id and serves the same 100 tweets again: each must still be stored once.
    second = poll_account(config, any_store, account, now=NOW, connector=x_connector())
    assert first.new_posts == 100 and second.new_posts == 0
    with any_store.session() as s:
        ids = s.scalars(select(PostRow.native_id)).all()
    assert len(ids) == len(set(ids)) == 100


@responses.activate
def test_failure_records_kind_sets_failing_since_and_success_clears_it(any_store: Store) -> None:
    config = make_config()
    account = config.account("uni-x")
    responses.get(f"{API}/2/users/{USER_ID}", status=401, json={"title": "Unauthorized", "status": 401})
    failed = poll_account(config, any_store, account, now=NOW, connector=x_connector())
    assert (failed.status, failed.api_calls) == ("auth_expired", 1)
    assert failed.error and SECRETS["X_TOKEN"] not in failed.error
    later = poll_account(config, any_store, account, now=NOW + timedelta(minutes=15), connector=x_connector())
    with any_store.session() as s:
        state = s.get(AccountStateRow, account.id)
        assert state is not None and state.failing_since == NOW and state.last_status == "auth_expired"
        runs = s.scalars(select(PollRunRow).order_by(PollRunRow.id)).all()
        assert [(r.status, r.error_kind) for r in runs] == [("auth_expired", "auth_expired")] * 2
    assert later.status == "auth_expired"

    responses.mock.reset()
    stub_quiet_poll()
    ok = poll_account(config, any_store, account, now=NOW + timedelta(minutes=30), connector=x_connector())
    assert ok.status == "ok"
    with any_store.session() as s:
        state = s.get(AccountStateRow, account.id)
        assert (
            state is not None
            and state.failing_since is None
            and state.last_ok_at == NOW + timedelta(minutes=30)
        )


@responses.activate
def test_429_blocks_the_bucket_until_reset(any_store: Store) -> None:
    config = make_config()
    responses.get(f"{API}/2/users/{USER_ID}", json=user_body())
    responses.get(
        f"{API}/2/users/{USER_ID}/tweets",
        status=429,
        json={"title": "Too Many Requests"},
        headers={
            "x-rate-limit-limit": "900",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": "1588767300",
        },
    )
    outcome = poll_account(config, any_store, config.account("uni-x"), now=NOW, connector=x_connector())
    until = datetime.fromtimestamp(1588767300, UTC)
    assert (outcome.status, outcome.retry_after) == ("rate_limited", until)
    with any_store.session() as s:
        row = s.get(RateLimitRow, ("x", "GET /2/users/:id/tweets"))
        assert row is not None and row.blocked_until == until and row.remaining == 0
        assert load_cursor(s, "uni-x") == {}


def test_youtube_quota_units_go_to_the_pacific_day(any_store: Store) -> None:
    server = RecordingServer().start()
    try:
        serve_first_poll(server)
        config = make_config(base_url=server.url, backfill="1000d")
        connector = get_connector("youtube", config, sleep=Sleeps())
        late_evening_utc = datetime(2019, 11, 26, 5, 0, tzinfo=UTC)  # still the 25th in California
        outcome = poll_account(
            config, any_store, config.account("uni-yt"), now=late_evening_utc, connector=connector
        )
    finally:
        server.stop()
    assert outcome.status == "ok" and outcome.quota_units == 5
    assert quota_day("youtube", late_evening_utc) == "2019-11-25"
    with any_store.session() as s:
        assert s.get(QuotaUsageRow, ("youtube", "2019-11-25")).units == 5  # type: ignore[union-attr]


@responses.activate
def test_poll_accounts_goes_on_after_a_failing_account(any_store: Store) -> None:
    config = make_config()
    stub_first_poll(responses.mock)
    # The Graph accounts have no stub: `responses` refuses the connection, a transient error for them.
    outcomes = poll_accounts(config, any_store, ["uni-fb", "uni-x"], now=NOW, sleep=Sleeps())
    assert [(o.account_id, o.status) for o in outcomes] == [("uni-fb", "transient"), ("uni-x", "ok")]


# --- the CLI ---------------------------------------------------------------------------------------


def write_config(tmp_path: Path, base_url: str) -> Path:
    db = tmp_path / "cli.db"
    Store(f"sqlite:///{db}").upgrade()
    text = f"""
database: sqlite:///{db}
platforms:
  x: {{base_url: "{base_url}", bearer_token: "{SECRETS["X_TOKEN"]}"}}
accounts:
  - {{id: uni-x, platform: x, native_id: "{USER_ID}", name: Uni X, role: central,
     language: {{mode: bilingual}}}}
  - {{id: dept-x, platform: x, native_id: "999", name: Dept X, language: {{mode: bilingual}}}}
"""
    path = tmp_path / "socialmon.yaml"
    path.write_text(text)
    return path


def test_cli_poll_json_and_exit_codes(tmp_path: Path, server: RecordingServer) -> None:
    from monitor.cli.main import cli

    server.add("GET", f"/2/users/{USER_ID}", user_body())
    server.add("GET", f"/2/users/{USER_ID}/tweets", load("x/users_tweets_page_all_fields.json"))
    server.add("GET", f"/2/users/{USER_ID}/tweets", EMPTY)
    server.add("GET", f"/2/users/{USER_ID}/mentions", EMPTY)
    server.add("GET", "/2/dm_events", EMPTY)
    server.add("GET", "/2/users/999", {"title": "Unauthorized", "status": 401}, status=401)
    config = write_config(tmp_path, server.url)
    runner = CliRunner()

    one = runner.invoke(cli, ["poll", "--account", "uni-x", "--json", "--config", str(config)])
    assert one.exit_code == 0, one.output
    [line] = [json.loads(x) for x in one.stdout.splitlines()]
    assert line == {
        "account": "uni-x",
        "status": "ok",
        "new_posts": 100,
        "new_messages": 0,
        "api_calls": 5,
        "error": None,
    }

    both = runner.invoke(cli, ["poll", "--config", str(config)])
    assert both.exit_code == 1
    header, *rows = both.stdout.splitlines()
    assert header.split()[:2] == ["account", "new"]
    assert rows[0].split()[:5] == ["uni-x", "0", "0", "4", "ok"]
    assert rows[1].split()[:5] == ["dept-x", "0", "0", "1", "auth_expired"]
    assert SECRETS["X_TOKEN"] not in both.output

    unknown = runner.invoke(cli, ["poll", "--account", "nope", "--config", str(config)])
    assert unknown.exit_code == 2
    assert unknown.stderr.strip().count("\n") == 0 and "unknown account 'nope'" in unknown.stderr
