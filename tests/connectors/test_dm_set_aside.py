"""One malformed direct message is set aside alone; the account's other DMs, posts and comments flow.

Before: an X DM event or a Facebook conversation message with a field of the wrong type (or none)
failed the account's whole poll as `bad_payload`, unnamed, for ever (the DM filter, sort key or
paging raised before any item was normalised), so nothing else of that account was checked.

Connector-level tests check each malformation by itself; the poll-level ones run the whole cycle
(three named failures, then set aside, one operations alert, the others stored) on SQLite and
PostgreSQL (`any_store`). Recorded fixtures carry the posts; the DMs are synthetic (no public
recording of X DM events with fields, or of a Page conversation nested by field expansion).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import responses
from sqlalchemy import select

from connectors import get_connector
from connectors.base import BadPayload
from monitor.config import Config, parse_config
from monitor.db import AlertRow, MessageRow, PollRunRow, ReplyRow, SetAsideItemRow
from monitor.poll import poll_account
from monitor.store import Store, load_cursor
from tests.connectors import test_facebook as fb
from tests.connectors import test_x as x
from tests.connectors.conftest import SECRETS, Sleeps, load

# --- X ------------------------------------------------------------------------------------------

STUDENT = "750362064426721281"
CONVERSATION = f"{STUDENT}-{x.USER_ID}"
QUESTION, ANSWER, OTHER, BAD = (
    "1585800613752881156",
    "1585800613752881160",
    "1585800613752881158",
    "1585800613752881170",
)


def x_event(event_id: str, sender: str, text: str, minute: int) -> dict[str, Any]:
    return {
        "id": event_id,
        "event_type": "MessageCreate",
        "text": text,
        "sender_id": sender,
        "dm_conversation_id": f"{sender}-{x.USER_ID}" if sender != x.USER_ID else CONVERSATION,
        "created_at": f"2020-05-06T11:{minute:02d}:00.000Z",
    }


def x_dm_page(change: Callable[[dict[str, Any]], Any], bad_id: str = BAD) -> dict[str, Any]:
    """# synthetic: newest first, as X lists them: the bad event, the account's answer, a second
    student's question, the first student's question."""
    bad = x_event(bad_id, STUDENT, "the malformed one", 55)
    change(bad)
    return {
        "data": [
            bad,
            x_event(ANSWER, x.USER_ID, "Diolch! Mae ar agor tan 5.", 50),
            x_event(OTHER, "1111111111", "Is the library open on Sunday?", 45),
            x_event(QUESTION, STUDENT, "Pryd mae'r llyfrgell ar agor?", 40),
        ],
        "includes": {
            "users": [
                {"id": STUDENT, "name": "Student", "username": "student1"},
                {"id": "1111111111", "name": "Other", "username": "other2"},
            ]
        },
        "meta": {"result_count": 4},
    }


def stub_x(dm_page: dict[str, Any]) -> None:
    tweets = copy.deepcopy(load("x/users_tweets_page_all_fields.json"))
    tweets["meta"].pop("next_token", None)
    responses.get(f"{x.API}/2/users/{x.USER_ID}", json=x.user_body())
    responses.get(f"{x.API}/2/users/{x.USER_ID}/tweets", json=tweets)
    responses.get(f"{x.API}/2/users/{x.USER_ID}/mentions", json=x.EMPTY)
    responses.get(f"{x.API}/2/dm_events", json=dm_page)


X_MALFORMED: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("created_at missing", lambda e: e.pop("created_at"), "missing field 'created_at'"),
    ("created_at a number", lambda e: e.update(created_at=1588765500), "non-text timestamp"),
    ("created_at not a time", lambda e: e.update(created_at="yesterday"), "is not a timestamp"),
    ("sender_id missing", lambda e: e.pop("sender_id"), "missing field 'sender_id'"),
    ("sender_id an object", lambda e: e.update(sender_id={"id": STUDENT}), "sender_id: id must be"),
    ("text a list", lambda e: e.update(text=["a", "list"]), "text: expected text, got list"),
    ("conversation an object", lambda e: e.update(dm_conversation_id={}), "dm_conversation_id: expected"),
]


def assert_x_good_dms(result: Any) -> None:
    dms = sorted((m.native_id, m.author_name) for m in result.messages if m.channel == "dm")
    assert dms == [(QUESTION, "student1"), (OTHER, "other2")]
    [answer] = [r for r in result.replies if r.native_id == ANSWER]
    assert (answer.in_reply_to, answer.conversation_id) == (QUESTION, CONVERSATION)


@pytest.mark.parametrize(
    ("change", "error"), [(c, e) for _, c, e in X_MALFORMED], ids=[n for n, _, _ in X_MALFORMED]
)
@pytest.mark.parametrize("cursor", [{}, {"dm_since_id": "1585800613752881100"}], ids=["first", "since"])
@responses.activate
def test_a_malformed_x_dm_is_named_then_skipped_alone(
    change: Callable[[dict[str, Any]], Any], error: str, cursor: dict[str, Any]
) -> None:
    stub_x(x_dm_page(change))
    connector = x.connector()

    with pytest.raises(BadPayload) as caught:
        connector.fetch(x.account(), cursor, x.NOW)
    assert caught.value.item == ("message", BAD)
    assert f"message {BAD}" in caught.value.message and error in caught.value.message

    result = connector.fetch(x.account(), cursor, x.NOW, set_aside=frozenset({("message", BAD)}))
    assert_x_good_dms(result)
    assert result.posts  # the account's tweets flow as well
    assert result.cursor["dm_since_id"] == BAD  # its id is readable: the cursor passes it


@pytest.mark.parametrize("cursor", [{}, {"dm_since_id": "1585800613752881100"}], ids=["first", "since"])
@responses.activate
def test_an_x_dm_with_a_non_numeric_id_is_named_then_skipped_alone(cursor: dict[str, Any]) -> None:
    # The cursor compares ids as numbers: this one can neither be filtered nor sorted by it.
    stub_x(x_dm_page(lambda e: None, bad_id="dm-abc"))
    connector = x.connector()

    with pytest.raises(BadPayload) as caught:
        connector.fetch(x.account(), cursor, x.NOW)
    assert caught.value.item == ("message", "dm-abc")
    assert "message dm-abc: id is not a number" in caught.value.message

    result = connector.fetch(x.account(), cursor, x.NOW, set_aside=frozenset({("message", "dm-abc")}))
    assert_x_good_dms(result)
    assert result.cursor["dm_since_id"] == ANSWER  # the newest readable id


@pytest.mark.parametrize(
    "change", [lambda e: e.pop("id"), lambda e: e.update(id={"$oid": "1"})], ids=["no id", "id an object"]
)
@responses.activate
def test_an_x_dm_without_a_usable_id_fails_the_poll_unnamed_as_a_tweet_does(
    change: Callable[[dict[str, Any]], Any],
) -> None:
    # Nothing to name it by, so nothing to set aside: the poll fails, as for a tweet without an id.
    stub_x(x_dm_page(change))
    with pytest.raises(BadPayload, match="X direct message") as caught:
        x.connector().fetch(x.account(), {}, x.NOW)
    assert caught.value.item is None


# --- Facebook -------------------------------------------------------------------------------------

THREAD = "t_587956915396498"
PERSON = "2711636948859886"


def fb_message(message_id: str, author: str, name: str, text: str, minute: int) -> dict[str, Any]:
    return {
        "id": message_id,
        "message": text,
        "created_time": f"2021-07-10T11:{minute:02d}:00+0000",
        "from": {"id": author, "name": name},
    }


def fb_conversation(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """# synthetic: a conversation nested as Graph nests it; the malformed message, the newest, is
    listed last on its page, where paging reads the time to decide whether to read on."""
    bad = fb_message("m_bad", PERSON, "Kun Liu", "the malformed one", 40)
    change(bad)
    return {
        "id": THREAD,
        "updated_time": "2021-07-10T11:40:00+0000",
        "link": "/20531316728/inbox/1/",
        "messages": {
            "data": [
                fb_message("m_3", PERSON, "Kun Liu", "A'r penwythnos?", 35),
                fb_message("m_2", fb.PAGE_ID, "Facebook App", "Diolch, mae ar agor tan 5.", 30),
                fb_message("m_1", PERSON, "Kun Liu", "Pryd mae'r llyfrgell ar agor?", 0),
                bad,
            ],
            "paging": {"next": f"{fb.API}/v25.0/{THREAD}/messages?after=REDACTED"},
        },
    }


def stub_facebook(conversation: dict[str, Any]) -> None:
    responses.post(
        f"{fb.API}/v25.0/",
        json=fb.batch_answer((200, fb.page_response()), (200, {"data": []}), (200, {"data": [conversation]})),
    )
    responses.get(f"{fb.API}/v25.0/{THREAD}/messages", json={"data": []})  # the next page: empty


FB_MALFORMED: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("created_time missing", lambda m: m.pop("created_time"), "missing field 'created_time'"),
    ("created_time a number", lambda m: m.update(created_time=1625914800), "non-text timestamp"),
    ("created_time not a time", lambda m: m.update(created_time="yesterday"), "is not a timestamp"),
    ("from missing", lambda m: m.pop("from"), "missing field 'from'"),
    ("from without id", lambda m: m.update({"from": {"name": "Kun Liu"}}), "from: missing field 'id'"),
    ("from a text", lambda m: m.update({"from": "Kun Liu"}), "from: expected an object"),
    ("message an object", lambda m: m.update(message={"text": "hi"}), "message: expected text, got dict"),
]


def assert_fb_good_dms(result: Any) -> None:
    dms = sorted((m.native_id, m.author_name) for m in result.messages if m.channel == "dm")
    assert dms == [("m_1", "Kun Liu"), ("m_3", "Kun Liu")]
    [answer] = [r for r in result.replies if r.native_id == "m_2"]
    assert (answer.in_reply_to, answer.conversation_id) == ("m_1", THREAD)


@pytest.mark.parametrize(
    ("change", "error"), [(c, e) for _, c, e in FB_MALFORMED], ids=[n for n, _, _ in FB_MALFORMED]
)
@responses.activate
def test_a_malformed_facebook_message_is_named_then_skipped_alone(
    change: Callable[[dict[str, Any]], Any], error: str
) -> None:
    stub_facebook(fb_conversation(change))
    connector = fb.connector()

    with pytest.raises(BadPayload) as caught:
        connector.fetch(fb.account(), {}, fb.NOW)
    assert caught.value.item == ("message", "m_bad")
    assert "message m_bad" in caught.value.message and error in caught.value.message

    result = connector.fetch(fb.account(), {}, fb.NOW, set_aside=frozenset({("message", "m_bad")}))
    assert_fb_good_dms(result)
    assert result.posts  # the Page's posts and comments flow as well
    assert result.cursor["dm_since"] == "2021-07-10T11:35:00Z"


@responses.activate
def test_a_facebook_conversation_whose_time_cannot_be_read_is_still_read() -> None:
    # updated_time only lets a poll skip old conversations: unreadable, the messages decide.
    conversation = fb_conversation(lambda m: m.update(created_time="2021-07-10T11:38:00+0000"))
    conversation["updated_time"] = {"not": "a time"}
    stub_facebook(conversation)
    result = fb.connector().fetch(fb.account(), {}, fb.NOW)
    assert {m.native_id for m in result.messages if m.channel == "dm"} == {"m_1", "m_3", "m_bad"}


@pytest.mark.parametrize(
    "change", [lambda m: m.pop("id"), lambda m: m.update(id=["m_bad"])], ids=["no id", "id a list"]
)
@responses.activate
def test_a_facebook_message_without_a_usable_id_fails_the_poll_unnamed_as_a_post_does(
    change: Callable[[dict[str, Any]], Any],
) -> None:
    stub_facebook(fb_conversation(change))
    with pytest.raises(BadPayload, match="facebook message") as caught:
        fb.connector().fetch(fb.account(), {}, fb.NOW)
    assert caught.value.item is None


# --- the whole cycle, over SQLite and PostgreSQL ---------------------------------------------------

OPS_CONFIG = """
policy: {backfill: 1000d}
platforms:
  x: {bearer_token: "${X_TOKEN}"}
  facebook: {access_token: "${META_TOKEN}"}
accounts:
  - {id: uni-x, platform: x, native_id: "2351222345", name: X, role: central, language: {mode: bilingual}}
  - {id: uni-fb, platform: facebook, native_id: "20531316728", name: Facebook, language: {mode: bilingual}}
alerts:
  channels:
    ops: {type: teams, url: "http://127.0.0.1:9/ops", timeout: 5s}
  routes:
    operations: {channels: [ops]}
"""


def polls(config: Config, store: Store, account_id: str, now: Any, count: int) -> list[Any]:
    account = config.account(account_id)
    return [
        poll_account(
            config,
            store,
            account,
            now=now + timedelta(minutes=15 * i),
            connector=get_connector(account.platform, config, sleep=Sleeps()),
        )
        for i in range(count)
    ]


def assert_set_aside_once(store: Store, account_id: str, native_id: str) -> None:
    with store.session() as s:
        aside = s.scalars(select(SetAsideItemRow)).one()
        assert (aside.account_id, aside.record_type, aside.native_id, aside.failures) == (
            account_id,
            "message",
            native_id,
            3,
        )
        ops = s.scalars(select(AlertRow).where(AlertRow.route == "operations")).all()
        assert len(ops) == 1 and "A message of" in ops[0].subject
        assert "could not be read and was set aside" in ops[0].subject
        runs = s.scalars(select(PollRunRow.status).order_by(PollRunRow.id)).all()
        assert runs[:4] == ["bad_payload"] * 3 + ["ok"]


@responses.activate
def test_an_x_dm_that_keeps_failing_is_set_aside_and_the_others_flow(any_store: Store) -> None:
    config = parse_config(OPS_CONFIG, "test.yaml", env=SECRETS)
    stub_x(x_dm_page(lambda e: e.update(created_at=1588765500)))

    outcomes = polls(config, any_store, "uni-x", x.NOW, 5)

    assert [o.status for o in outcomes] == ["bad_payload"] * 3 + ["ok", "ok"]
    assert all(o.error and f"message {BAD}" in o.error for o in outcomes[:3])
    assert outcomes[3].new_posts > 0 and outcomes[3].new_messages == 2
    assert outcomes[4].new_messages == 0  # the cursor passed every DM, the set-aside one too
    assert_set_aside_once(any_store, "uni-x", BAD)
    with any_store.session() as s:
        assert set(s.scalars(select(MessageRow.native_id).where(MessageRow.channel == "dm"))) == {
            QUESTION,
            OTHER,
        }
        reply = s.scalars(select(ReplyRow).where(ReplyRow.native_id == ANSWER)).one()
        assert reply.in_reply_to == QUESTION
        assert load_cursor(s, "uni-x")["dm_since_id"] == BAD


@responses.activate
def test_a_facebook_dm_that_keeps_failing_is_set_aside_and_the_others_flow(any_store: Store) -> None:
    config = parse_config(OPS_CONFIG, "test.yaml", env=SECRETS)
    stub_facebook(fb_conversation(lambda m: m.update({"from": "Kun Liu"})))

    outcomes = polls(config, any_store, "uni-fb", fb.NOW, 4)

    assert [o.status for o in outcomes] == ["bad_payload"] * 3 + ["ok"]
    assert all(o.error and "message m_bad" in o.error for o in outcomes[:3])
    assert outcomes[3].new_posts > 0 and outcomes[3].new_replies >= 1
    assert_set_aside_once(any_store, "uni-fb", "m_bad")
    with any_store.session() as s:
        assert set(s.scalars(select(MessageRow.native_id).where(MessageRow.channel == "dm"))) == {
            "m_1",
            "m_3",
        }
        assert s.scalars(select(MessageRow).where(MessageRow.channel != "dm")).first() is not None  # comments
        reply = s.scalars(select(ReplyRow).where(ReplyRow.native_id == "m_2")).one()
        assert reply.in_reply_to == "m_1"
        assert load_cursor(s, "uni-fb")["dm_since"] == "2021-07-10T11:35:00Z"
