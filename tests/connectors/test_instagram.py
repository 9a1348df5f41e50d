"""InstagramConnector against real recorded Instagram Graph API payloads (`responses`).

The user object, media pages, comment pages and replies are recorded responses; `user_response()`
nests them the way field expansion returns them (no public recording has the nested shape).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connectors import get_connector
from connectors.base import Rejected
from tests.connectors.conftest import Sleeps, load, make_config, raw

API = "https://graph.facebook.com"
IG_ID = "17841407673135339"
NOW = datetime(2021, 8, 14, 12, 0, tzinfo=UTC)
MEDIA_NEXT = "/v6.0/17841406338772941/media"
COMMENTS_NEXT = "/v11.0/17846368219941692/comments"


def user_response() -> dict[str, Any]:
    user = load("instagram/ig_user_fields.json")
    media = load("instagram/ig_user_media_page1.json")
    comments = load("instagram/ig_media_comments_page1.json")
    replies = load("instagram/ig_comment_replies.json")
    # synthetic edit: the recorded reply has no author; make it the account's own answer
    replies["data"][0]["username"] = user["username"]
    comments["data"][0]["replies"] = replies
    media["data"][0]["comments"] = comments
    user["media"] = media
    return user


def connector() -> Any:
    return get_connector("instagram", make_config(backfill="1000d"), sleep=Sleeps())


def account() -> Any:
    return make_config().account("uni-ig")


@responses.activate
def test_poll_reads_profile_media_comments_and_replies_in_few_calls() -> None:
    responses.get(f"{API}/v25.0/{IG_ID}", json=user_response())
    responses.get(f"{API}{MEDIA_NEXT}", json=load("instagram/ig_user_media_page2_last.json"))
    responses.get(f"{API}{COMMENTS_NEXT}", json=load("instagram/ig_media_comments_page2_last.json"))

    result = connector().fetch(account(), {}, NOW)

    paths = [urlsplit(c.request.url).path for c in responses.calls]
    assert paths == [f"/v25.0/{IG_ID}", MEDIA_NEXT, COMMENTS_NEXT]
    fields = parse_qs(urlsplit(responses.calls[0].request.url).query)["fields"][0]
    assert fields.startswith("id,username,name,biography,profile_picture_url,media.limit(25){")
    assert (
        "comments.limit(50){id,text,timestamp,username,from{id,username},hidden,replies.limit(50){" in fields
    )
    assert "replies.limit(50){id,text,timestamp,username,from{id,username},hidden,parent_id}" in fields
    assert result.api_calls == 3

    assert result.profile is not None
    assert (result.profile.handle, result.profile.name) == (
        "facebookfordevelopers",
        "Facebook for Developers",
    )
    assert result.profile.text.startswith("Follow us for updates")
    assert [p.native_id for p in result.posts] == [
        "17895731045244887",
        "17896622936197745",
        "17896129349106152",
        "17893085207160254",
    ]
    assert result.posts[0].url == "https://www.instagram.com/p/CSgf9BChwVq/"
    assert {m.native_id for m in result.messages} == {
        "17858154961981086",
        "17874875428706419",
        "17892250648466172",
        "17914413430382429",
    }
    assert all(m.channel == "comment" and m.in_reply_to == "17895731045244887" for m in result.messages)
    [reply] = result.replies
    assert (reply.native_id, reply.in_reply_to) == ("17847314687296283", "17858154961981086")
    assert result.cursor["comments_since"] == "2020-08-07T03:30:06Z"


@responses.activate
def test_second_poll_is_one_request() -> None:
    responses.get(f"{API}/v25.0/{IG_ID}", json=user_response())
    responses.get(f"{API}{MEDIA_NEXT}", json=load("instagram/ig_user_media_page2_last.json"))
    responses.get(f"{API}{COMMENTS_NEXT}", json=load("instagram/ig_media_comments_page2_last.json"))
    first = connector().fetch(account(), {}, NOW)
    responses.mock.reset()
    user = user_response()
    del user["media"]["paging"]["next"]  # a steady-state page with nothing older to fetch
    responses.get(f"{API}/v25.0/{IG_ID}", json=user)

    second = connector().fetch(account(), first.cursor, NOW + timedelta(minutes=15))
    assert second.api_calls == 1 == len(responses.calls)
    assert second.messages == []
    # Only what lies inside the one-hour overlap before the cursor comes back (the store dedups it).
    assert [r.native_id for r in second.replies] == ["17847314687296283"]


@responses.activate
def test_igapiexception_is_rejected() -> None:
    responses.get(
        f"{API}/v25.0/{IG_ID}",
        status=400,
        body=raw("instagram/error_2500_igapiexception.json"),
        content_type="application/json",
    )
    with pytest.raises(Rejected, match="2500"):
        connector().fetch(account(), {}, NOW)


@responses.activate
def test_hidden_comments_are_read_and_a_later_hide_comes_back_past_the_cursor() -> None:
    user = user_response()
    # synthetic edit: no public recording requests `hidden`; the IG Comment field is a boolean
    # (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment)
    for comment in user["media"]["data"][0]["comments"]["data"]:
        comment["hidden"] = False
    user["media"]["data"][0]["comments"]["data"][1]["hidden"] = True
    hidden_id = user["media"]["data"][0]["comments"]["data"][1]["id"]
    responses.get(f"{API}/v25.0/{IG_ID}", json=user)
    responses.get(f"{API}{MEDIA_NEXT}", json=load("instagram/ig_user_media_page2_last.json"))
    responses.get(f"{API}{COMMENTS_NEXT}", json=load("instagram/ig_media_comments_page2_last.json"))
    first = connector().fetch(account(), {}, NOW)
    assert {m.native_id for m in first.messages if m.hidden} == {hidden_id}
    assert sum(not m.hidden for m in first.messages) == 3

    responses.mock.reset()
    later = user_response()
    del later["media"]["paging"]["next"]
    later_comments = later["media"]["data"][0]["comments"]["data"]
    later_comments[0]["hidden"] = True  # the moderators hid an old comment after the cursor passed it
    responses.get(f"{API}/v25.0/{IG_ID}", json=later)
    second = connector().fetch(account(), first.cursor, NOW + timedelta(minutes=15))
    # An old comment comes back only when hidden, so the store's flag follows the hide.
    assert [(m.native_id, m.hidden) for m in second.messages] == [(later_comments[0]["id"], True)]
