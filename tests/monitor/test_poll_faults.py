"""One bad record never blinds an account: on SQLite and PostgreSQL (any_store).

Before: a lone surrogate in a post (SQLite) or a NUL in a mention (PostgreSQL) failed every later
poll of the account at the storage step, outside the error handling: no poll run was recorded, the
cursor never moved, and `status` still said "ok".
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import responses
from sqlalchemy import select

from connectors import get_connector
from monitor.config import Account, Config, parse_config
from monitor.db import AccountStateRow, AlertRow, MessageRow, PollRunRow, PostRow, SetAsideItemRow
from monitor.models import FetchResult, Post
from monitor.poll import poll_account
from monitor.store import Store, load_cursor
from tests.connectors.conftest import SECRETS, Sleeps, load, make_config
from tests.connectors.test_x import API, NOW, USER_ID, mentions_before_now, user_body


def _poisoned_x_poll() -> None:
    tweets = copy.deepcopy(load("x/users_tweets_page_all_fields.json"))
    tweets["meta"].pop("next_token", None)
    tweets["data"][0]["text"] = "lone surrogate \ud800 here"
    mentions = mentions_before_now()
    mentions["data"][0]["text"] = "a NUL \x00 in a stranger's mention"
    responses.get(f"{API}/2/users/{USER_ID}", json=user_body())
    responses.get(f"{API}/2/users/{USER_ID}/tweets", json=tweets)
    responses.get(f"{API}/2/users/{USER_ID}/mentions", json=mentions)
    responses.get(f"{API}/2/dm_events", json={"meta": {"result_count": 0}})


@responses.activate
def test_unstorable_characters_from_a_platform_are_stored_replaced(any_store: Store) -> None:
    config = make_config()
    account = config.account("uni-x")
    _poisoned_x_poll()
    connector = get_connector("x", config, sleep=Sleeps())

    outcome = poll_account(config, any_store, account, now=NOW, connector=connector)

    assert outcome.status == "ok", outcome.error
    with any_store.session() as s:
        texts = set(s.scalars(select(PostRow.text)))
        assert "lone surrogate \ufffd here" in texts
        assert "a NUL \ufffd in a stranger's mention" in set(s.scalars(select(MessageRow.text)))
        assert load_cursor(s, account.id)["tweets_since_id"]
        state = s.get(AccountStateRow, account.id)
        assert state is not None and state.last_status == "ok"


OPS_CONFIG = """
accounts:
  - {id: uni-x, platform: x, native_id: "2351222345", name: X, role: central, language: {mode: bilingual}}
alerts:
  channels:
    ops: {type: teams, url: "http://127.0.0.1:9/ops", timeout: 5s}
  routes:
    operations: {channels: [ops]}
"""


class _RawConnector:
    """A connector whose records skip the storable boundary (as a future connector's bug might)."""

    platform = "x"

    def __init__(self, poisoned: int = 1, good: int = 100) -> None:
        self.poisoned = poisoned
        self.good = good

    def fetch(self, account: Account, cursor: dict[str, Any], now: datetime) -> FetchResult:
        posts = [_post(account, f"good-{i}", f"post {i}", now) for i in range(self.good)]
        posts += [_post(account, f"bad-{i}", "poison \ud800", now) for i in range(self.poisoned)]
        return FetchResult(account_id=account.id, posts=posts, cursor={"n": len(posts)}, api_calls=1)


def _post(account: Account, native_id: str, text: str, now: datetime) -> Post:
    return Post(
        platform="x",
        native_id=native_id,
        account_id=account.id,
        created_at=now - timedelta(hours=1),
        text=text,
    )


def test_a_record_the_database_refuses_is_set_aside_and_the_others_flow(any_store: Store) -> None:
    config: Config = parse_config(OPS_CONFIG, "test.yaml", env=SECRETS)
    account = config.account("uni-x")

    first = poll_account(config, any_store, account, now=NOW, connector=_RawConnector())
    second = poll_account(
        config, any_store, account, now=NOW + timedelta(minutes=15), connector=_RawConnector()
    )

    assert (first.status, first.new_posts) == ("warning", 100)
    assert second.status == "warning" and second.new_posts == 0
    assert any("post bad-0 set aside" in w for w in first.warnings)
    with any_store.session() as s:
        assert len(s.scalars(select(PostRow.native_id)).all()) == 100
        aside = s.scalars(select(SetAsideItemRow)).one()
        assert (aside.account_id, aside.record_type, aside.native_id, aside.failures) == (
            "uni-x",
            "post",
            "bad-0",
            2,
        )
        assert "\ud800" not in aside.error
        assert load_cursor(s, account.id) == {"n": 101}  # the cursor moved on
        runs = s.scalars(select(PollRunRow).order_by(PollRunRow.id)).all()
        assert [r.status for r in runs] == ["warning", "warning"]
        ops = s.scalars(select(AlertRow).where(AlertRow.route == "operations")).all()
        assert len(ops) == 1 and "set aside" in ops[0].subject  # reported once, not every poll
    from monitor.cli.status_cmd import collect_status

    assert collect_status(config, any_store)["accounts"][0]["set_aside"] == 1


def test_a_store_failure_no_record_explains_is_a_recorded_poll_failure(
    any_store: Store, monkeypatch: Any
) -> None:
    from monitor import poll as poll_module

    config: Config = parse_config(OPS_CONFIG, "test.yaml", env=SECRETS)
    account = config.account("uni-x")

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr(poll_module, "save_cursor", broken)
    outcome = poll_account(config, any_store, account, now=NOW, connector=_RawConnector(poisoned=0))

    assert outcome.status == "store_failed" and outcome.error and "disk I/O error" in outcome.error
    with any_store.session() as s:
        run = s.scalars(select(PollRunRow)).one()
        assert (run.status, run.error_kind) == ("store_failed", "store_failed")
        state = s.get(AccountStateRow, account.id)
        assert state is not None and state.last_status == "store_failed" and state.failing_since == NOW


class _FailingWithPlatformText:
    """A connector whose error quotes the platform's own (unstorable) words."""

    platform = "x"

    def fetch(self, account: Account, cursor: dict[str, Any], now: datetime) -> FetchResult:
        from connectors.base import BadPayload

        raise BadPayload("X user: the platform said 'bad \ud800 thing \x00'")


def test_a_failure_quoting_unstorable_platform_text_is_still_recorded(any_store: Store) -> None:
    config: Config = parse_config(OPS_CONFIG, "test.yaml", env=SECRETS)
    account = config.account("uni-x")
    outcome = poll_account(config, any_store, account, now=NOW, connector=_FailingWithPlatformText())
    assert outcome.status == "bad_payload"
    with any_store.session() as s:
        run = s.scalars(select(PollRunRow)).one()
        assert run.error is not None and "bad \ufffd thing \ufffd" in run.error


@responses.activate
def test_an_item_that_keeps_failing_to_normalise_is_set_aside_and_the_others_flow(any_store: Store) -> None:
    """Before: one tweet with a field of the wrong type failed every poll of the account, for ever."""
    config: Config = parse_config(
        OPS_CONFIG.replace("platform: x,", "platform: x,")
        + 'platforms:\n  x: {bearer_token: "${X_TOKEN}"}\n',
        "test.yaml",
        env=SECRETS,
    )
    account = config.account("uni-x")
    tweets = copy.deepcopy(load("x/users_tweets_page_all_fields.json"))
    tweets["meta"].pop("next_token", None)
    bad_id = tweets["data"][0]["id"]
    tweets["data"][0]["entities"] = {"urls": ["not an object"]}
    responses.get(f"{API}/2/users/{USER_ID}", json=user_body())
    responses.get(f"{API}/2/users/{USER_ID}/tweets", json=tweets)
    responses.get(f"{API}/2/users/{USER_ID}/mentions", json={"meta": {"result_count": 0}})
    responses.get(f"{API}/2/dm_events", json={"meta": {"result_count": 0}})

    outcomes = [
        poll_account(
            config,
            any_store,
            account,
            now=NOW + timedelta(minutes=15 * i),
            connector=get_connector("x", config, sleep=Sleeps()),
        )
        for i in range(4)
    ]

    assert [o.status for o in outcomes] == ["bad_payload"] * 3 + ["ok"]
    assert all(o.error and f"post {bad_id}" in o.error for o in outcomes[:3])
    assert outcomes[3].new_posts == len(tweets["data"]) - 1
    with any_store.session() as s:
        aside = s.scalars(select(SetAsideItemRow)).one()
        assert (aside.record_type, aside.native_id, aside.failures) == ("post", bad_id, 3)
        ops = s.scalars(select(AlertRow).where(AlertRow.route == "operations")).all()
        assert len(ops) == 1 and "could not be read and was set aside" in ops[0].subject
        assert load_cursor(s, account.id)["tweets_since_id"]  # the account moved on


def test_a_failure_while_tagging_is_a_recorded_poll_failure(any_store: Store, monkeypatch: Any) -> None:
    from monitor import poll as poll_module

    config: Config = parse_config(OPS_CONFIG, "test.yaml", env=SECRETS)
    account = config.account("uni-x")

    def broken(_result: Any) -> None:
        raise RuntimeError("classifier exploded")

    monkeypatch.setattr(poll_module, "tag_result", broken)
    outcome = poll_account(config, any_store, account, now=NOW, connector=_RawConnector(poisoned=0))
    assert outcome.status == "error" and outcome.error and "classifier exploded" in outcome.error
    with any_store.session() as s:
        assert s.scalars(select(PollRunRow.status)).all() == ["error"]
