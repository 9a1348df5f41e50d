"""Hostile platform input: wrong types, unstorable characters, dates from the future, stalling and
redirecting servers. Each ends as a typed error or a storable record, never a Python crash."""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import responses

from connectors import get_connector
from connectors.base import BadPayload, ConnectorError, TransientError
from monitor.config import parse_config
from monitor.localhttp import serve_in_thread, stop_serving
from tests.connectors.conftest import SECRETS, Sleeps, load, make_config
from tests.faults_support import trickle_server

API = "https://api.twitter.com"
USER_ID = "2351222345"
NOW = datetime(2020, 5, 6, 12, 0, tzinfo=UTC)


def _timeline() -> dict[str, Any]:
    return load("x/users_tweets_page_all_fields.json")


def _user() -> dict[str, Any]:
    page = _timeline()
    return {"data": next(u for u in page["includes"]["users"] if u["id"] == USER_ID)}


def _poll_with_tweets(tweets_page: dict[str, Any]) -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(f"{API}/2/users/{USER_ID}", json=_user())
        rsps.get(f"{API}/2/users/{USER_ID}/tweets", json=tweets_page)
        rsps.get(f"{API}/2/users/{USER_ID}/mentions", json={"meta": {"result_count": 0}})
        rsps.get(f"{API}/2/dm_events", json={"meta": {"result_count": 0}})
        config = make_config()
        connector = get_connector("x", config, sleep=Sleeps())
        return connector.fetch(config.account("uni-x"), {}, NOW)


def _page_with_first(change: Any) -> dict[str, Any]:
    page = copy.deepcopy(_timeline())
    page["meta"].pop("next_token", None)
    change(page["data"][0])
    return page


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda t: t.update(entities={"urls": "https://example.org"}), "entities.urls: expected a list"),
        (lambda t: t.update(entities={"urls": ["https://example.org"]}), "wrong type (AttributeError"),
        (lambda t: t.update(id={"$oid": "1"}), "X tweet: id must be text or an integer"),
        (lambda t: t.update(id=["1"]), "X tweet: id must be text or an integer"),
        (lambda t: t.update(referenced_tweets="replied_to"), "X tweet"),
    ],
)
def test_wrong_types_are_bad_payload_naming_where(change: Any, where: str) -> None:
    with pytest.raises(BadPayload) as caught:
        _poll_with_tweets(_page_with_first(change))
    assert caught.value.kind == "bad_payload"
    assert where in caught.value.message


def test_unstorable_characters_are_replaced_and_nothing_else_changes() -> None:
    page = _page_with_first(lambda t: t.update(text="caf\u00e9 \ud800 bad\x00 Cymraeg \U0001f600"))
    result = _poll_with_tweets(page)
    first = next(p for p in result.posts if p.native_id == page["data"][0]["id"])
    assert first.text == "caf\u00e9 \ufffd bad\ufffd Cymraeg \U0001f600"
    assert all("\x00" not in p.text for p in result.posts)


def test_an_item_dated_more_than_a_day_ahead_is_refused_alone() -> None:
    page = _page_with_first(lambda t: t.update(created_at="9999-01-01T00:00:00.000Z"))
    result = _poll_with_tweets(page)
    refused = page["data"][0]["id"]
    assert refused not in {p.native_id for p in result.posts}
    assert len(result.posts) == len(page["data"]) - 1
    assert any(refused in w and "future" in w for w in result.warnings)


def _config_at(base_url: str, timeout: str) -> Any:
    text = f"""
platforms:
  x: {{base_url: "{base_url}", bearer_token: "${{X_TOKEN}}", timeout: {timeout}}}
accounts:
  - {{id: uni-x, platform: x, native_id: "2351222345", name: X, role: central, language: {{mode: bilingual}}}}
"""
    return parse_config(text, "test.yaml", env=SECRETS)


def test_a_server_sending_a_byte_a_second_holds_the_poll_for_the_timeout_at_most() -> None:
    with trickle_server(interval=0.25) as base_url:
        config = _config_at(base_url, "1s")
        connector = get_connector("x", config, sleep=Sleeps())
        started = time.monotonic()
        with pytest.raises(TransientError) as caught:
            connector.fetch(config.account("uni-x"), {}, NOW)
        elapsed = time.monotonic() - started
    assert caught.value.kind == "transient"
    assert elapsed < 2.0  # 1 s deadline, not retried within the poll; before: minutes


def test_a_redirect_to_another_host_is_not_followed() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(
            f"{API}/2/users/{USER_ID}",
            status=302,
            headers={"Location": "https://attacker.example/steal"},
        )
        rsps.get("https://attacker.example/steal", json=_user())
        config = make_config()
        connector = get_connector("x", config, sleep=Sleeps())
        with pytest.raises(ConnectorError):
            connector.fetch(config.account("uni-x"), {}, NOW)
        assert all("attacker.example" not in c.request.url for c in rsps.calls)


@pytest.mark.parametrize("platform", ["facebook", "instagram", "youtube"])
def test_every_platform_call_has_a_whole_call_deadline(platform: str) -> None:
    with trickle_server(interval=0.25) as base_url:
        config = parse_config(
            f"""
platforms:
  {platform}: {{base_url: "{base_url}", {"api_key" if platform == "youtube" else "access_token"}: "t-123456",
              timeout: 1s}}
accounts:
  - {{id: a, platform: {platform}, native_id: "UC_x5XG1OV2P6uZZ5FSM9Ttw", name: A, role: central,
      language: {{mode: bilingual}}}}
""",
            "test.yaml",
            env={},
        )
        connector = get_connector(platform, config, sleep=Sleeps())
        started = time.monotonic()
        with pytest.raises(TransientError) as caught:
            connector.fetch(config.account("a"), {}, NOW)
        elapsed = time.monotonic() - started
    assert "DeadlineExceeded" in caught.value.message
    assert elapsed < 2.0  # the 1 s deadline; the trickle never lets a 1 s read timeout fire


@pytest.mark.parametrize("platform", ["x", "facebook", "youtube"])
def test_no_platform_follows_a_redirect_to_another_host(platform: str) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits: list[str] = []

    class Elsewhere(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    elsewhere = ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
    target = f"http://127.0.0.1:{elsewhere.server_port}/steal"

    class Redirecting(Elsewhere):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

    api = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threads = [serve_in_thread(server, "test-http") for server in (elsewhere, api)]
    try:
        secret = (
            "api_key"
            if platform == "youtube"
            else "access_token"
            if platform == "facebook"
            else "bearer_token"
        )
        config = parse_config(
            f"""
platforms:
  {platform}: {{base_url: "http://127.0.0.1:{api.server_port}", {secret}: "t-123456"}}
accounts:
  - {{id: a, platform: {platform}, native_id: "12345", name: A, role: central, language: {{mode: bilingual}}}}
""",
            "test.yaml",
            env={},
        )
        connector = get_connector(platform, config, sleep=Sleeps())
        with pytest.raises(ConnectorError):
            connector.fetch(config.account("a"), {}, NOW)
    finally:
        for server, thread in zip((elsewhere, api), threads, strict=True):
            stop_serving(server, thread)
    assert hits == []


# --- paging and filters read times leniently: the bad item is named, not the whole poll failed ---


@pytest.mark.parametrize("created_time", [1625914800, "yesterday", None], ids=["number", "text", "missing"])
@responses.activate
def test_a_facebook_comment_whose_time_cannot_be_read_is_named_then_skipped_alone(created_time: Any) -> None:
    from tests.connectors import test_facebook as fb

    page = fb.page_response(page_reply=False)
    comments = page["published_posts"]["data"][0]["comments"]["data"]
    bad = comments[1]
    bad["created_time"] = created_time
    responses.post(
        f"{fb.API}/v25.0/", json=fb.batch_answer((200, page), (200, {"data": []}), (200, {"data": []}))
    )
    connector = fb.connector()

    with pytest.raises(BadPayload) as caught:
        connector.fetch(fb.account(), {}, fb.NOW)
    assert caught.value.item == ("message", bad["id"])
    assert f"comment {bad['id']}" in caught.value.message

    result = connector.fetch(fb.account(), {}, fb.NOW, set_aside=frozenset({("message", bad["id"])}))
    assert {m.native_id for m in result.messages} == {c["id"] for c in comments} - {bad["id"]}


@pytest.mark.parametrize("edge", ["media", "comments"])
@responses.activate
def test_an_instagram_item_whose_time_cannot_be_read_where_paging_looks_is_named_then_skipped(
    edge: str,
) -> None:
    from tests.connectors import test_instagram as ig

    user = ig.user_response()
    page = user["media"] if edge == "media" else user["media"]["data"][0]["comments"]
    bad = page["data"][-1]  # the item paging reads to decide whether to read on
    bad["timestamp"] = {"not": "a time"}
    item = ("post" if edge == "media" else "message", bad["id"])
    responses.get(f"{ig.API}/v25.0/{ig.IG_ID}", json=user)
    responses.get(f"{ig.API}{ig.MEDIA_NEXT}", json=load("instagram/ig_user_media_page2_last.json"))
    responses.get(f"{ig.API}{ig.COMMENTS_NEXT}", json=load("instagram/ig_media_comments_page2_last.json"))
    connector = ig.connector()

    with pytest.raises(BadPayload) as caught:
        connector.fetch(ig.account(), {}, ig.NOW)
    assert caught.value.item == item

    result = connector.fetch(ig.account(), {}, ig.NOW, set_aside=frozenset({item}))
    records = {p.native_id for p in result.posts} | {m.native_id for m in result.messages}
    assert bad["id"] not in records
    assert len(result.posts) == (3 if edge == "media" else 4)  # the next page was still read
