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
from tests.connectors import test_youtube as yt
from tests.connectors.conftest import SECRETS, RecordingServer, Sleeps, load, make_config
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
    with trickle_server(interval=0.1) as base_url:
        config = _config_at(base_url, "0.5s")
        connector = get_connector("x", config, sleep=Sleeps())
        started = time.monotonic()
        with pytest.raises(TransientError) as caught:
            connector.fetch(config.account("uni-x"), {}, NOW)
        elapsed = time.monotonic() - started
    assert caught.value.kind == "transient"
    assert elapsed < 1.5  # 0.5 s deadline, not retried within the poll; before: minutes


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
    with trickle_server(interval=0.1) as base_url:
        config = parse_config(
            f"""
platforms:
  {platform}: {{base_url: "{base_url}", {"api_key" if platform == "youtube" else "access_token"}: "t-123456",
              timeout: 0.5s}}
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
    assert elapsed < 1.5  # the 0.5 s deadline; the trickle never lets a 0.5 s read timeout fire


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


# --- YouTube: a playlist item, video, comment thread or comment that cannot be read is named alone ---

COMMENTS = {  # the recorded comments (five threads' top-level comments, one inline reply): their times
    yt.THREAD: "2019-06-23T08:24:24Z",
    yt.THREAD_REPLY: "2019-07-20T20:22:27Z",
    "UgxKREWxIgDrw8w2e_Z4AaABAg": "2019-04-20T01:03:39Z",
    "UgyrVQaFfEdvaSzstj14AaABAg": "2019-04-04T04:14:44Z",
    "UgxyjVIedsbomQ4KsM94AaABAg": "2019-03-26T02:26:27Z",
    "UgwtBjF15nKCNHE1tu94AaABAg": "2019-03-23T15:59:16Z",
}


def _yt_named_then_set_aside(
    server: RecordingServer, serve: Any, item: tuple[str, str], cursor: dict[str, Any] | None = None
) -> tuple[BadPayload, Any]:
    """Poll once (it fails naming `item`), then again with `item` set aside (it succeeds)."""
    serve()
    with pytest.raises(BadPayload) as caught:
        yt.connector(server).fetch(yt.account(), dict(cursor or {}), yt.NOW)
    assert caught.value.item == item
    assert caught.value.quota_units == caught.value.api_calls == len(server.seen)  # 1 unit a call
    serve()
    result = yt.connector(server).fetch(yt.account(), dict(cursor or {}), yt.NOW, set_aside=frozenset({item}))
    assert result.quota_units == result.api_calls == len(server.seen)
    return caught.value, result


def _videos_asked(server: RecordingServer) -> list[str]:
    return [v for s in server.seen if s.path == f"{yt.V3}/videos" for v in s.query["id"].split(",")]


YT_VIDEO_MALFORMED: list[tuple[str, Any, str]] = [
    ("publishedAt missing", lambda v: v["snippet"].pop("publishedAt"), "missing field 'publishedAt'"),
    ("publishedAt a number", lambda v: v["snippet"].update(publishedAt=1574470199), "non-text timestamp"),
    ("publishedAt not a time", lambda v: v["snippet"].update(publishedAt="yesterday"), "is not a timestamp"),
    ("snippet missing", lambda v: v.pop("snippet"), "missing field 'snippet'"),
    ("title a list", lambda v: v["snippet"].update(title=["a", "list"]), "title: expected text, got list"),
]


@pytest.mark.parametrize(
    ("change", "error"), [(c, e) for _, c, e in YT_VIDEO_MALFORMED], ids=[n for n, _, _ in YT_VIDEO_MALFORMED]
)
def test_a_malformed_youtube_video_is_named_then_set_aside_and_not_asked_for_again(
    server: RecordingServer, change: Any, error: str
) -> None:
    caught, result = _yt_named_then_set_aside(
        server, lambda: yt.serve_poll(server, videos=yt.videos_with_bad(change)), ("post", yt.BAD_VIDEO)
    )
    assert yt.BAD_VIDEO in caught.message and error in caught.message

    assert {p.native_id for p in result.posts} == yt.GOOD_VIDEOS
    assert len(result.messages) == 6  # the channel's comments flow as well
    asked = _videos_asked(server)
    assert len(asked) == 12 and yt.BAD_VIDEO not in asked  # no quota spent on it again
    assert yt.BAD_VIDEO in result.cursor["video_ids_seen"]  # the cursor moves past it
    assert result.cursor["last_video_published"] == "2019-11-23T00:49:59Z"
    assert yt.BAD_VIDEO not in result.cursor["recheck"]


YT_PLAYLIST_ITEM_MALFORMED: list[tuple[str, Any, str]] = [
    ("no video id", lambda i: i["snippet"].pop("resourceId"), "no video id"),
    (
        "video id an object",
        lambda i: i["snippet"]["resourceId"].update(videoId={"id": "x"}),
        "id must be text",
    ),
    (
        "resourceId a text",
        lambda i: i["snippet"].update(resourceId=yt.BAD_VIDEO),
        "resourceId: expected an object",
    ),
]


@pytest.mark.parametrize(
    ("change", "error"),
    [(c, e) for _, c, e in YT_PLAYLIST_ITEM_MALFORMED],
    ids=[n for n, _, _ in YT_PLAYLIST_ITEM_MALFORMED],
)
def test_a_youtube_playlist_item_without_a_usable_video_id_is_named_by_its_own_id(
    server: RecordingServer, change: Any, error: str
) -> None:
    pages = yt.playlist_pages()
    bad = yt.bad_playlist_item(pages)
    change(bad)
    item = ("post", bad["id"])  # no video to name it by: the playlist item's own id

    caught, result = _yt_named_then_set_aside(
        server, lambda: yt.serve_poll(server, copy.deepcopy(pages)), item
    )
    assert f"playlistItem {bad['id']}" in caught.message and error in caught.message

    asked = _videos_asked(server)
    assert len(asked) == 12 and yt.BAD_VIDEO not in asked and "{'id': 'x'}" not in asked
    assert {p.native_id for p in result.posts} >= yt.GOOD_VIDEOS
    assert result.cursor["last_video_published"] == "2019-11-23T00:48:01Z"  # the newest readable upload


@pytest.mark.parametrize("published", [1574470199, "yesterday", None], ids=["number", "text", "missing"])
def test_a_youtube_upload_whose_playlist_time_cannot_be_read_is_asked_for_and_its_video_decides(
    server: RecordingServer, published: Any
) -> None:
    # The playlist time only decides paging and the backfill window: the video has its own.
    pages = yt.playlist_pages()
    yt.bad_playlist_item(pages)["snippet"]["publishedAt"] = published
    yt.serve_poll(server, pages)

    result = yt.connector(server).fetch(yt.account(), {}, yt.NOW)

    assert yt.BAD_VIDEO in _videos_asked(server)
    assert {p.native_id for p in result.posts} == {*yt.GOOD_VIDEOS, yt.BAD_VIDEO}
    assert yt.BAD_VIDEO in result.cursor["video_ids_seen"]
    assert result.cursor["last_video_published"] == "2019-11-23T00:48:01Z"  # readable times only


def test_a_youtube_upload_of_unknown_playlist_time_older_than_the_backfill_window_is_not_kept(
    server: RecordingServer,
) -> None:
    pages = yt.playlist_pages()
    yt.bad_playlist_item(pages)["snippet"]["publishedAt"] = "yesterday"
    # synthetic: the video itself is older than the 1000-day window of these tests
    yt.serve_poll(server, pages, videos=yt.videos_with_bad(published="2015-06-01T00:00:00.000Z"))

    result = yt.connector(server).fetch(yt.account(), {}, yt.NOW)

    assert {p.native_id for p in result.posts} == yt.GOOD_VIDEOS
    assert yt.BAD_VIDEO in result.cursor["video_ids_seen"]  # not asked for again


def test_a_set_aside_youtube_video_leaves_the_recheck_set_and_is_not_asked_for(
    server: RecordingServer,
) -> None:
    # Both videos await a recheck of their captions; the one set aside costs nothing more.
    pages = yt.playlist_pages()
    seen = [i["snippet"]["resourceId"]["videoId"] for page in pages for i in page["items"]]
    cursor = {
        "channel_id": yt.CHANNEL,
        "uploads": "UU_x5XG1OV2P6uZZ5FSM9Ttw",
        "profile_at": "2019-11-25T11:30:00Z",
        "video_ids_seen": seen,
        "last_video_published": "2019-11-23T00:49:59Z",
        "recheck": {yt.BAD_VIDEO: "2019-11-23T00:49:59Z", "D-lhorsDlUQ": "2019-03-21T20:37:49Z"},
        "rechecked_at": "2019-11-25T10:00:00Z",
    }
    yt.serve_poll(server, pages, videos=load("youtube/videos_list_content_details_caption.json"))

    result = yt.connector(server).fetch(
        yt.account(), cursor, yt.NOW, set_aside=frozenset({("post", yt.BAD_VIDEO)})
    )

    assert _videos_asked(server) == ["D-lhorsDlUQ"]
    assert result.quota_units == 3  # playlistItems (one page), videos, commentThreads
    assert yt.BAD_VIDEO not in result.cursor["recheck"]
    assert [p.native_id for p in result.posts] == ["D-lhorsDlUQ"]


def _first_thread(change: Any) -> dict[str, Any]:
    threads = load("youtube/comment_threads_by_video_with_replies.json")
    thread = threads["items"][0]
    assert thread["id"] == yt.THREAD
    change(thread)
    return threads


def _top(thread: dict[str, Any]) -> dict[str, Any]:
    return thread["snippet"]["topLevelComment"]["snippet"]  # type: ignore[no-any-return]


def _reply(thread: dict[str, Any]) -> dict[str, Any]:
    return thread["replies"]["comments"][0]["snippet"]  # type: ignore[no-any-return]


# (name, change to the first recorded thread, the item named, its error, the comments set aside with it)
YT_COMMENT_MALFORMED: list[tuple[str, Any, str, str, set[str]]] = [
    (
        "thread snippet missing",
        lambda t: t.pop("snippet"),
        yt.THREAD,
        "missing field 'snippet'",
        {yt.THREAD_REPLY},
    ),
    (
        "thread topLevelComment a text",
        lambda t: t["snippet"].update(topLevelComment="hi"),
        yt.THREAD,
        "topLevelComment: expected an object",
        {yt.THREAD_REPLY},
    ),
    (
        "thread videoId a list",
        lambda t: t["snippet"].update(videoId=["x"]),
        yt.THREAD,
        "videoId: expected text",
        {yt.THREAD_REPLY},
    ),
    (
        "thread replies not a list",
        lambda t: t["replies"].update(comments={"0": {}}),
        yt.THREAD,
        "replies.comments: expected a list",
        {yt.THREAD_REPLY},
    ),
    (
        "top-level publishedAt a number",
        lambda t: _top(t).update(publishedAt=1561278264),
        yt.THREAD,
        "non-text timestamp",
        set(),
    ),
    (
        "top-level text a list",
        lambda t: _top(t).update(textOriginal=["a"]),
        yt.THREAD,
        "textOriginal: expected text",
        set(),
    ),
    (
        "reply publishedAt missing",
        lambda t: _reply(t).pop("publishedAt"),
        yt.THREAD_REPLY,
        "missing field 'publishedAt'",
        set(),
    ),
    (
        "reply author an object",
        lambda t: _reply(t)["authorChannelId"].update(value={"id": "x"}),
        yt.THREAD_REPLY,
        "authorChannelId.value: expected text",
        set(),
    ),
    (
        "reply parentId a number",
        lambda t: _reply(t).update(parentId=7),
        yt.THREAD_REPLY,
        "parentId: expected text",
        set(),
    ),
]


@pytest.mark.parametrize(
    ("change", "named", "error", "with_it"),
    [case[1:] for case in YT_COMMENT_MALFORMED],
    ids=[case[0] for case in YT_COMMENT_MALFORMED],
)
def test_a_malformed_youtube_comment_or_thread_is_named_then_set_aside_alone(
    server: RecordingServer, change: Any, named: str, error: str, with_it: set[str]
) -> None:
    threads = _first_thread(change)
    caught, result = _yt_named_then_set_aside(
        server, lambda: yt.serve_poll(server, threads=[copy.deepcopy(threads)]), ("message", named)
    )
    assert named in caught.message and error in caught.message

    # A thread that cannot be read is set aside with its replies; a comment alone otherwise.
    assert {p.native_id for p in result.posts} >= yt.GOOD_VIDEOS  # the uploads flow as well
    kept = set(COMMENTS) - {named} - with_it
    assert {m.native_id for m in result.messages} == kept
    assert result.cursor["comments_since"] == max(COMMENTS[c] for c in kept)  # the cursor moves on


def test_a_youtube_thread_whose_reply_count_cannot_be_read_is_read_without_comments_list(
    server: RecordingServer,
) -> None:
    # The count only decides whether to ask comments.list for the replies not inlined.
    threads = _first_thread(lambda t: t["snippet"].update(totalReplyCount="many"))
    yt.serve_poll(server, threads=[threads])

    result = yt.connector(server).fetch(yt.account(), {}, yt.NOW)

    assert {m.native_id for m in result.messages} == set(COMMENTS)
    assert f"{yt.V3}/comments" not in server.paths()
    assert yt.THREAD not in result.cursor["reply_counts"]


def test_a_youtube_comment_page_whose_only_thread_is_set_aside_does_not_stop_paging(
    server: RecordingServer,
) -> None:
    # synthetic split of the recorded page: the set-aside thread alone on the first page
    threads = _first_thread(lambda t: _top(t).update(publishedAt="yesterday"))
    first = {**threads, "items": threads["items"][:1], "nextPageToken": "NEXT"}
    rest = {**threads, "items": threads["items"][1:]}
    yt.serve_poll(server, threads=[first, rest])

    result = yt.connector(server).fetch(
        yt.account(), {}, yt.NOW, set_aside=frozenset({("message", yt.THREAD)})
    )

    assert [s.query.get("pageToken") for s in server.seen if s.path == f"{yt.V3}/commentThreads"] == [
        None,
        "NEXT",
    ]
    assert {m.native_id for m in result.messages} == set(COMMENTS) - {yt.THREAD}


def test_a_youtube_thread_without_a_usable_id_fails_the_poll_unnamed_as_a_post_does(
    server: RecordingServer,
) -> None:
    threads = _first_thread(lambda t: t.update(id={"$oid": "1"}))
    yt.serve_poll(server, threads=[threads])
    with pytest.raises(BadPayload, match="youtube commentThread") as caught:
        yt.connector(server).fetch(yt.account(), {}, yt.NOW)
    assert caught.value.item is None
