"""Every connector sends every request to `platforms.<p>.base_url` (here a recording server on loopback).

tweepy and facebook-sdk hard-code their hosts; nothing is mocked here: the libraries' real HTTP code
runs and the local server must receive every request, including paging and batches.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from connectors import get_connector
from tests.connectors.conftest import SECRETS, RecordingServer, Sleeps, load, make_config
from tests.connectors.test_facebook import PAGE_ID, page_response
from tests.connectors.test_instagram import IG_ID, MEDIA_NEXT, user_response
from tests.connectors.test_x import EMPTY, USER_ID, user_body
from tests.connectors.test_youtube import serve_first_poll

NOW = datetime(2021, 8, 14, 12, 0, tzinfo=UTC)


def test_x_requests_reach_the_base_url(server: RecordingServer) -> None:
    server.add("GET", f"/2/users/{USER_ID}", user_body())
    server.add("GET", f"/2/users/{USER_ID}/tweets", load("x/users_tweets_page_all_fields.json"))
    server.add("GET", f"/2/users/{USER_ID}/tweets", EMPTY)
    server.add("GET", f"/2/users/{USER_ID}/mentions", EMPTY)
    server.add("GET", "/2/dm_events", EMPTY)
    config = make_config(base_url=server.url)
    result = get_connector("x", config, sleep=Sleeps()).fetch(config.account("uni-x"), {}, NOW)
    assert len(server.seen) == result.api_calls == 5
    assert server.seen[2].query["pagination_token"]  # paging too
    assert all(s.headers["authorization"] == f"Bearer {SECRETS['X_TOKEN']}" for s in server.seen)


def test_facebook_requests_and_batches_reach_the_base_url(server: RecordingServer) -> None:
    answers = [{"code": 200, "body": json.dumps(b)} for b in (page_response(), {"data": []}, {"data": []})]
    server.add("POST", "/v25.0/", answers)
    config = make_config(base_url=server.url, backfill="1000d")
    result = get_connector("facebook", config, sleep=Sleeps()).fetch(config.account("uni-fb"), {}, NOW)
    assert [(s.method, s.path) for s in server.seen] == [("POST", "/v25.0/")]
    assert server.seen[0].body["access_token"] == SECRETS["META_TOKEN"]
    assert result.posts

    server.seen.clear()
    server.add("GET", f"/v25.0/{PAGE_ID}", page_response())
    get_connector("facebook", config, sleep=Sleeps()).fetch(config.account("uni-fb"), result.cursor, NOW)
    assert [(s.method, s.path) for s in server.seen] == [("GET", f"/v25.0/{PAGE_ID}")]


def test_instagram_requests_and_paging_urls_reach_the_base_url(server: RecordingServer) -> None:
    server.add("GET", f"/v25.0/{IG_ID}", user_response())
    server.add("GET", MEDIA_NEXT, load("instagram/ig_user_media_page2_last.json"))
    server.add(
        "GET", "/v11.0/17846368219941692/comments", load("instagram/ig_media_comments_page2_last.json")
    )
    config = make_config(base_url=server.url, backfill="1000d")
    result = get_connector("instagram", config, sleep=Sleeps()).fetch(config.account("uni-ig"), {}, NOW)
    # paging.next URLs name https://graph.facebook.com; they are rebased too
    assert server.paths() == [f"/v25.0/{IG_ID}", MEDIA_NEXT, "/v11.0/17846368219941692/comments"]
    assert result.api_calls == 3


def test_youtube_requests_reach_the_base_url(server: RecordingServer) -> None:
    serve_first_poll(server)
    config = make_config(base_url=server.url, backfill="1000d")
    result = get_connector("youtube", config, sleep=Sleeps()).fetch(config.account("uni-yt"), {}, NOW)
    assert len(server.seen) == result.api_calls == 5
    assert all(s.path.startswith("/youtube/v3/") for s in server.seen)
