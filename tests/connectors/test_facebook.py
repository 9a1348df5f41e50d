"""FacebookConnector against real recorded Graph API objects, stubbed at the HTTP layer with `responses`.

No public recording has a Page with `published_posts{...,comments{...}}` nested by field expansion, so
`page_response()` nests real recorded objects (a Page, its posts, comments with `from`) the way Graph
nests them; every object inside is a recorded one.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connectors import get_connector
from connectors.base import AuthExpired, BadPayload, PermissionMissing, RateLimited, Rejected, TransientError
from connectors.graph import VersionedGraphAPI
from tests.connectors.conftest import SECRETS, Sleeps, load, make_config, raw

API = "https://graph.facebook.com"
PAGE_ID = "20531316728"
NOW = datetime(2021, 7, 10, 12, 0, tzinfo=UTC)


def page_response(page_reply: bool = True) -> dict[str, Any]:
    page = load("facebook/page_with_about_and_description.json")
    posts = load("facebook/page_posts_time_paging_page2_last.json")["data"]
    comments = load("facebook/comment_replies_by_parent_page2_last.json")["data"]
    comments += load("facebook/post_with_comment_from_and_summary.json")["comments"]["data"]
    comments = sorted(comments, key=lambda c: c["created_time"], reverse=True)  # order(reverse_chronological)
    if page_reply:
        # synthetic edit: the recorded comments are all by people; make the newest one the Page's own
        # reply to the comment before it (Graph marks a Page's comment with from.id == page id).
        comments[0] = {
            **comments[0],
            "from": {"name": page["name"], "id": PAGE_ID},
            "parent": {"id": comments[1]["id"]},
        }
    posts[0] = {**posts[0], "comments": {"data": comments}}
    page["published_posts"] = {"data": posts}
    return page


def batch_answer(*bodies: tuple[int, Any]) -> list[dict[str, Any]]:
    return [{"code": code, "body": json.dumps(body)} for code, body in bodies]


# synthetic: the Graph error for a token without pages_messaging (code 10, as Meta documents it)
NO_MESSAGING = {
    "error": {
        "message": "(#10) Requires pages_messaging permission to manage the object",
        "type": "OAuthException",
        "code": 10,
        "fbtrace_id": "AbCdEf",
    }
}


def connector(sleeps: Sleeps | None = None, **config: Any) -> Any:
    return get_connector(
        "facebook", make_config(backfill="1000d", **config), sleep=sleeps if sleeps is not None else Sleeps()
    )


def account() -> Any:
    return make_config().account("uni-fb")


def form(call: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def query(call: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


@responses.activate
def test_first_poll_probes_optional_edges_in_one_batch() -> None:
    responses.post(
        f"{API}/v25.0/", json=batch_answer((200, page_response()), (200, {"data": []}), (403, NO_MESSAGING))
    )

    result = connector().fetch(account(), {}, NOW)

    assert len(responses.calls) == 1 and result.api_calls == 3  # one HTTP request, three counted calls
    sent = form(responses.calls[0])
    assert sent["access_token"] == SECRETS["META_TOKEN"] and sent["include_headers"] == "false"
    batch = json.loads(sent["batch"])
    assert [b["method"] for b in batch] == ["GET"] * 3
    main = parse_qs(urlsplit(batch[0]["relative_url"]).query)["fields"][0]
    assert batch[0]["relative_url"].startswith(f"{PAGE_ID}?")
    assert main.startswith("id,name,username,about,description,link,picture{url},published_posts.since(")
    assert "comments.filter(stream).order(reverse_chronological)" in main
    assert batch[1]["relative_url"].startswith(f"{PAGE_ID}/scheduled_posts?")
    assert batch[2]["relative_url"].startswith(f"{PAGE_ID}/conversations?")

    assert result.profile is not None
    assert (result.profile.name, result.profile.handle) == ("Facebook App", "facebookapp")
    assert result.profile.text.startswith("The Facebook app Page celebrates")  # about, then description
    assert "Community Values" in result.profile.text
    assert len(result.posts) == 5 and result.posts[0].native_id == "4_10113477241177441"
    assert result.posts[0].created_at == datetime(2021, 7, 4, 19, 50, 58, tzinfo=UTC)
    assert {m.native_id for m in result.messages} == {
        "2498598377021978_2509257692622713",
        "2498598377021978_2509257922622690",
    }
    assert {m.channel for m in result.messages} == {"comment"}
    assert all(m.in_reply_to == "4_10113477241177441" and m.author_name for m in result.messages)
    [reply] = result.replies
    assert reply.native_id == "123456789_9876543"
    assert reply.in_reply_to == "2498598377021978_2509257922622690"
    assert result.scheduled == []  # fetched and empty
    assert any("conversations" in w for w in result.warnings)
    assert result.cursor["edges"] == {"scheduled_posts": "ok", "conversations": "denied"}
    assert result.cursor["page_id"] == PAGE_ID


@responses.activate
def test_steady_state_is_one_request_with_permitted_edges_nested() -> None:
    responses.post(
        f"{API}/v25.0/", json=batch_answer((200, page_response()), (200, {"data": []}), (403, NO_MESSAGING))
    )
    first = connector().fetch(account(), {}, NOW)
    responses.mock.reset()
    page = page_response()
    page["scheduled_posts"] = {
        "data": [
            {"id": "20531316728_999", "message": "Open day tomorrow", "scheduled_publish_time": 1626000000}
        ]
    }
    responses.get(f"{API}/v25.0/{PAGE_ID}", json=page)

    second = connector().fetch(account(), first.cursor, NOW + timedelta(minutes=15))

    assert len(responses.calls) == 1 and second.api_calls == 1
    fields = query(responses.calls[0])["fields"]
    assert "scheduled_posts.limit(100){" in fields and "conversations" not in fields
    assert second.messages == []  # nothing newer than the comments cursor
    assert [s.native_id for s in second.scheduled or []] == ["20531316728_999"]
    assert second.scheduled and second.scheduled[0].scheduled_for == datetime.fromtimestamp(1626000000, UTC)
    assert second.warnings  # conversations still denied: a health warning every poll


@responses.activate
def test_graph_version_comes_from_config_on_every_path() -> None:
    responses.post(
        f"{API}/v24.0/", json=batch_answer((200, page_response()), (200, {"data": []}), (200, {"data": []}))
    )
    connector(graph_version="v24.0").fetch(account(), {}, NOW)
    assert urlsplit(responses.calls[0].request.url).path == "/v24.0/"


def test_versioned_client_bypasses_the_sdk_version_check() -> None:
    import facebook
    import requests

    with pytest.raises(facebook.GraphAPIError):
        facebook.GraphAPI(access_token="t", version="25.0")  # what the SDK does on its own
    assert facebook.GraphAPI(access_token="t").version == "v2.8"  # and its retired default
    assert VersionedGraphAPI("t", "v25.0", 5, requests.Session()).version == "v25.0"
    with pytest.raises(ValueError):
        VersionedGraphAPI("t", "25", 5, requests.Session())


@pytest.mark.parametrize(
    ("fixture", "status", "error"),
    [
        ("facebook/error_190_oauth_docs_example.json", 400, AuthExpired),
        ("facebook/error_100_pages_public_content_access.json", 400, PermissionMissing),
        ("facebook/error_1_unknown_with_user_msg.json", 400, Rejected),  # is_transient: false
    ],
)
@responses.activate
def test_recorded_graph_errors_map_to_typed_errors(fixture: str, status: int, error: type) -> None:
    responses.post(f"{API}/v25.0/", status=status, body=raw(fixture), content_type="application/json")
    with pytest.raises(error) as info:
        connector().fetch(account(), {}, NOW)
    assert SECRETS["META_TOKEN"] not in str(info.value)
    assert len(responses.calls) == 1  # permanent: not retried


@responses.activate
def test_error_inside_the_batch_for_the_page_fails_the_poll() -> None:
    responses.post(
        f"{API}/v25.0/",
        json=batch_answer(
            (400, load("facebook/error_190_oauth_docs_example.json")),
            (200, {"data": []}),
            (200, {"data": []}),
        ),
    )
    with pytest.raises(AuthExpired):
        connector().fetch(account(), {}, NOW)


@responses.activate
def test_rate_limit_error_uses_the_business_use_case_header() -> None:
    # synthetic: no recorded Graph code 80001 body; the header is the recorded Instagram one
    headers = json.loads(raw("instagram/response_headers_business_use_case_usage.json"))
    body = {
        "error": {
            "message": "There have been too many calls to this Page account.",
            "type": "OAuthException",
            "code": 80001,
            "fbtrace_id": "x",
        }
    }
    responses.post(
        f"{API}/v25.0/",
        status=400,
        json=body,
        headers={"x-business-use-case-usage": headers["x-business-use-case-usage"]},
    )
    with pytest.raises(RateLimited) as info:
        connector().fetch(account(), {}, NOW)
    assert info.value.until == NOW + timedelta(minutes=20)  # estimated_time_to_regain_access
    assert any(
        r.bucket.startswith("buc:17841400455970028") and r.used_percent == 72 for r in info.value.rate_limits
    )


@responses.activate
def test_usage_header_near_the_limit_stops_before_the_next_call() -> None:
    responses.post(
        f"{API}/v25.0/", json=batch_answer((200, page_response()), (200, {"data": []}), (403, NO_MESSAGING))
    )
    first = connector().fetch(account(), {}, NOW)
    responses.mock.reset()
    page = page_response()
    page["published_posts"]["paging"] = {
        "next": f"{API}/v25.0/{PAGE_ID}/published_posts?after=abc&access_token=t"
    }
    posts = page["published_posts"]["data"]
    posts[-1] = {**posts[-1], "created_time": "2021-07-10T11:00:00+0000"}  # page still inside the window
    responses.get(
        f"{API}/v25.0/{PAGE_ID}",
        json=page,
        headers={"x-app-usage": '{"call_count":97,"total_cputime":10,"total_time":12}'},
    )
    with pytest.raises(RateLimited, match="x-app-usage at 97%"):
        connector().fetch(account(), first.cursor, NOW)
    assert len(responses.calls) == 1


@responses.activate
def test_5xx_without_json_is_transient_and_retried() -> None:
    responses.post(f"{API}/v25.0/", status=502, body="<html>Bad Gateway</html>", content_type="text/html")
    responses.post(
        f"{API}/v25.0/", json=batch_answer((200, page_response()), (200, {"data": []}), (200, {"data": []}))
    )
    sleeps = Sleeps()
    result = connector(sleeps).fetch(account(), {}, NOW)
    assert len(sleeps) == 1 and result.api_calls == 6 and result.posts


@responses.activate
def test_persistent_5xx_is_a_transient_error() -> None:
    responses.post(f"{API}/v25.0/", status=500, body="oops", content_type="text/plain")
    with pytest.raises(TransientError):
        connector().fetch(account(), {}, NOW)


@responses.activate
def test_truncated_body_is_a_bad_payload() -> None:
    text = json.dumps(batch_answer((200, page_response()), (200, {"data": []}), (200, {"data": []})))
    responses.post(f"{API}/v25.0/", body=text[:-40], content_type="application/json")
    with pytest.raises(BadPayload):
        connector().fetch(account(), {}, NOW)


@responses.activate
def test_post_without_created_time_is_a_bad_payload() -> None:
    page = copy.deepcopy(page_response())
    del page["published_posts"]["data"][2]["created_time"]
    responses.post(f"{API}/v25.0/", json=batch_answer((200, page), (200, {"data": []}), (200, {"data": []})))
    with pytest.raises(BadPayload, match="created_time"):
        connector().fetch(account(), {}, NOW)


@responses.activate
def test_conversations_become_dms_and_page_answers_replies() -> None:
    # synthetic: recorded messages (messages_by_ids) lack the nested conversation shape; built from them
    conversation = {
        "id": "t_587956915396498",
        "updated_time": "2021-07-10T11:30:00+0000",
        "link": "/20531316728/inbox/1/",
        "messages": {
            "data": [
                {
                    "id": "m_2",
                    "message": "Diolch, mae ar agor tan 5.",
                    "created_time": "2021-07-10T11:30:00+0000",
                    "from": {"id": PAGE_ID, "name": "Facebook App"},
                },
                {
                    "id": "m_1",
                    "message": "Pryd mae'r llyfrgell ar agor?",
                    "created_time": "2021-07-10T11:00:00+0000",
                    "from": {"id": "2711636948859886", "name": "Kun Liu"},
                },
            ]
        },
    }
    responses.post(
        f"{API}/v25.0/",
        json=batch_answer((200, page_response()), (200, {"data": []}), (200, {"data": [conversation]})),
    )
    result = connector().fetch(account(), {}, NOW)
    [dm] = [m for m in result.messages if m.channel == "dm"]
    assert (dm.native_id, dm.author_name, dm.conversation_id) == ("m_1", "Kun Liu", "t_587956915396498")
    answer = next(r for r in result.replies if r.native_id == "m_2")
    assert answer.in_reply_to == "m_1"
    assert result.cursor["edges"] == {"scheduled_posts": "ok", "conversations": "ok"}
    assert not result.warnings


@responses.activate
def test_hidden_comments_are_read_and_a_later_hide_comes_back_past_the_cursor() -> None:
    page = page_response()
    comments = page["published_posts"]["data"][0]["comments"]["data"]
    # synthetic edit: no public recording requests `is_hidden`; the Comment field is a boolean
    # (https://developers.facebook.com/docs/graph-api/reference/comment)
    for comment in comments:
        comment["is_hidden"] = False
    comments[-1]["is_hidden"] = True
    responses.post(f"{API}/v25.0/", json=batch_answer((200, page), (200, {"data": []}), (403, NO_MESSAGING)))
    first = connector().fetch(account(), {}, NOW)
    main = parse_qs(urlsplit(json.loads(form(responses.calls[0])["batch"])[0]["relative_url"]).query)[
        "fields"
    ][0]
    assert "{id,message,created_time,from{id,name},parent{id},permalink_url,is_hidden}" in main
    assert {m.native_id: m.hidden for m in first.messages} == {
        "2498598377021978_2509257922622690": False,
        "2498598377021978_2509257692622713": True,  # comments[-1]
    }

    responses.mock.reset()
    later = page_response()
    later_comments = later["published_posts"]["data"][0]["comments"]["data"]
    hidden_later = next(c for c in later_comments if c["id"] == "2498598377021978_2509257922622690")
    hidden_later["is_hidden"] = True  # the moderators hid it after the comments cursor passed it
    responses.get(f"{API}/v25.0/{PAGE_ID}", json=later)
    second = connector().fetch(account(), first.cursor, NOW + timedelta(minutes=15))
    # An old comment comes back only when hidden, so the store's flag follows the hide.
    assert [(m.native_id, m.hidden) for m in second.messages] == [("2498598377021978_2509257922622690", True)]
