"""XConnector against real recorded X API v2 payloads, stubbed at the HTTP layer with `responses`."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connectors import get_connector
from connectors.base import AuthExpired, BadPayload, RateLimited, Rejected, TransientError
from tests.connectors.conftest import SECRETS, Sleeps, load, make_config, raw

API = "https://api.twitter.com"
USER_ID = "2351222345"
NOW = datetime(2020, 5, 6, 12, 0, tzinfo=UTC)
EMPTY = load("x/dm_events_empty.json")  # {"meta": {"result_count": 0}}: also an empty timeline page


def user_body() -> dict[str, Any]:
    """GET /2/users/:id: the account's own user object, as recorded in the timeline page's includes."""
    page = load("x/users_tweets_page_all_fields.json")
    user = next(u for u in page["includes"]["users"] if u["id"] == USER_ID)
    return {"data": user}


def query(call: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def connector(sleeps: Sleeps | None = None, **config: Any) -> Any:
    return get_connector("x", make_config(**config), sleep=sleeps if sleeps is not None else Sleeps())


def account() -> Any:
    return make_config().account("uni-x")


def mentions_before_now() -> dict[str, Any]:
    """The recorded mentions (June 2020), re-dated to the day before NOW: items more than a day
    ahead of the poll are refused, and these tests poll in May 2020."""
    body = load("x/search_recent_sample_all_fields.json")
    for tweet in body["data"]:
        tweet["created_at"] = "2020-05-05" + tweet["created_at"][10:]
    return body


def stub_first_poll(rsps: responses.RequestsMock, dm_status: int = 200, dm_body: Any = None) -> None:
    rsps.get(f"{API}/2/users/{USER_ID}", json=user_body())
    rsps.get(f"{API}/2/users/{USER_ID}/tweets", json=load("x/users_tweets_page_all_fields.json"))
    rsps.get(f"{API}/2/users/{USER_ID}/tweets", json=EMPTY)
    rsps.get(f"{API}/2/users/{USER_ID}/mentions", json=mentions_before_now())
    rsps.get(f"{API}/2/dm_events", json=dm_body if dm_body is not None else EMPTY, status=dm_status)


@responses.activate
def test_first_poll_normalises_tweets_mentions_and_replies() -> None:
    stub_first_poll(responses.mock)
    result = connector().fetch(account(), {}, NOW)

    calls = responses.calls
    assert [urlsplit(c.request.url).path for c in calls] == [
        f"/2/users/{USER_ID}",
        f"/2/users/{USER_ID}/tweets",
        f"/2/users/{USER_ID}/tweets",
        f"/2/users/{USER_ID}/mentions",
        "/2/dm_events",
    ]
    assert query(calls[0]) == {"user.fields": "description,profile_image_url"}
    first_page = query(calls[1])
    assert first_page["start_time"] == "2020-04-29T12:00:00Z"  # backfill window, not the whole history
    assert first_page["max_results"] == "100"
    assert "since_id" not in first_page
    assert set(first_page["tweet.fields"].split(",")) >= {"referenced_tweets", "conversation_id", "entities"}
    assert query(calls[2])["pagination_token"] == "7140dibdnow9c7btw3t3bne6afapt2a6nif3ncl044raq"
    assert query(calls[4])["event_types"] == "MessageCreate"
    assert all(c.request.headers["Authorization"] == f"Bearer {SECRETS['X_TOKEN']}" for c in calls)
    assert result.api_calls == 5

    assert result.profile is not None and result.profile.handle
    assert len(result.posts) == 100
    assert Counter(p.kind for p in result.posts) == {"reply": 41, "share": 34, "original": 25}
    assert all(p.url.endswith(f"/status/{p.native_id}") for p in result.posts)
    videos = [p for p in result.posts if p.has_video]
    assert videos and all(p.media for p in videos)
    assert any(p.hashtags == ("year16",) for p in result.posts)  # lowercased, no '#'
    assert {p.language for p in result.posts} == {"unknown"}  # the poll tags languages, not the connector
    # A reply to someone else is also a Reply record linked to the tweet it answers.
    page = load("x/users_tweets_page_all_fields.json")
    to_others = [
        t
        for t in page["data"]
        if any(r["type"] == "replied_to" for r in t.get("referenced_tweets", []))
        and t.get("in_reply_to_user_id") != USER_ID
    ]
    assert {r.native_id for r in result.replies} == {t["id"] for t in to_others}
    sample = next(r for r in result.replies if r.native_id == to_others[0]["id"])
    assert sample.in_reply_to == next(
        r["id"] for r in to_others[0]["referenced_tweets"] if r["type"] == "replied_to"
    )
    assert sample.conversation_id == to_others[0]["conversation_id"]

    assert [m.channel for m in result.messages] == ["mention"] * 4
    first = result.messages[0]
    assert first.native_id == "1276035977375477760"
    assert first.in_reply_to == "1275653067283759104"
    assert first.author_name == "happycamper"
    assert "https://twitter.com/happycamper/status/1276035977375477760/photo/1" in first.text  # t.co expanded
    assert result.cursor["tweets_since_id"] == "1257786232978968578"
    assert result.cursor["mentions_since_id"] == "1276035977375477760"
    assert result.warnings == []


@responses.activate
def test_second_poll_over_unchanged_data_spends_the_minimum() -> None:
    stub_first_poll(responses.mock)
    first = connector().fetch(account(), {}, NOW)
    responses.mock.reset()
    responses.get(f"{API}/2/users/{USER_ID}", json=user_body())
    responses.get(f"{API}/2/users/{USER_ID}/tweets", json=EMPTY)
    responses.get(f"{API}/2/users/{USER_ID}/mentions", json=EMPTY)
    responses.get(f"{API}/2/dm_events", json=EMPTY)

    second = connector().fetch(account(), first.cursor, NOW + timedelta(minutes=15))

    assert second.api_calls == 4 == len(responses.calls)  # profile, tweets, mentions, DMs: one each
    assert query(responses.calls[1])["since_id"] == "1257786232978968578"
    assert "start_time" not in query(responses.calls[1])
    assert query(responses.calls[2])["since_id"] == "1276035977375477760"
    assert second.posts == second.messages == second.replies == []
    assert second.cursor["tweets_since_id"] == first.cursor["tweets_since_id"]


# synthetic: no recorded X 403 for an app-only token on /2/dm_events
DM_FORBIDDEN = {
    "title": "Unsupported Authentication",
    "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.",
    "type": "https://api.twitter.com/2/problems/unsupported-authentication",
    "status": 403,
}


@responses.activate
def test_dms_forbidden_is_a_warning_and_not_asked_again_for_a_day() -> None:
    stub_first_poll(responses.mock, dm_status=403, dm_body=DM_FORBIDDEN)
    result = connector().fetch(account(), {}, NOW)
    assert result.posts and result.warnings and "direct messages" in result.warnings[0]
    assert result.cursor["dm_denied_until"] == "2020-05-07T12:00:00Z"

    responses.mock.reset()
    responses.get(f"{API}/2/users/{USER_ID}", json=user_body())
    responses.get(f"{API}/2/users/{USER_ID}/tweets", json=EMPTY)
    responses.get(f"{API}/2/users/{USER_ID}/mentions", json=EMPTY)
    again = connector().fetch(account(), result.cursor, NOW + timedelta(minutes=15))
    assert "/2/dm_events" not in [urlsplit(c.request.url).path for c in responses.calls]
    assert again.api_calls == 3 and again.warnings


@responses.activate
def test_dm_events_become_messages_and_the_accounts_answers_replies() -> None:
    # synthetic: recorded DM events only carry default fields (no sender_id/created_at)
    events = {
        "data": [
            {
                "id": "1585800613752881160",
                "event_type": "MessageCreate",
                "text": "Diolch!",
                "sender_id": USER_ID,
                "dm_conversation_id": "750362064426721281-2351222345",
                "created_at": "2020-05-06T11:50:00.000Z",
            },
            {
                "id": "1585800613752881156",
                "event_type": "MessageCreate",
                "text": "Pryd mae'r llyfrgell ar agor?",
                "sender_id": "750362064426721281",
                "dm_conversation_id": "750362064426721281-2351222345",
                "created_at": "2020-05-06T11:40:00.000Z",
            },
        ],
        "includes": {"users": [{"id": "750362064426721281", "name": "Student", "username": "student1"}]},
        "meta": {"result_count": 2},
    }
    stub_first_poll(responses.mock, dm_body=events)
    result = connector().fetch(account(), {}, NOW)
    dms = [m for m in result.messages if m.channel == "dm"]
    assert [(m.native_id, m.author_name) for m in dms] == [("1585800613752881156", "student1")]
    answer = next(r for r in result.replies if r.native_id == "1585800613752881160")
    assert answer.in_reply_to == "1585800613752881156"
    assert answer.conversation_id == "750362064426721281-2351222345"
    assert result.cursor["dm_since_id"] == "1585800613752881160"


@responses.activate
def test_401_is_auth_expired_and_never_shows_the_token() -> None:
    # synthetic: X's 401 problem body
    responses.get(
        f"{API}/2/users/{USER_ID}",
        status=401,
        json={"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
    )
    with pytest.raises(AuthExpired) as info:
        connector().fetch(account(), {}, NOW)
    assert info.value.kind == "auth_expired" and info.value.api_calls == 1
    assert SECRETS["X_TOKEN"] not in str(info.value)
    # the body's title and detail say the same thing: the message says it once
    assert str(info.value).endswith("401 unauthorized: Unauthorized")


@responses.activate
def test_429_is_rate_limited_until_the_reset_header() -> None:
    responses.get(f"{API}/2/users/{USER_ID}", json=user_body())
    # synthetic: no recorded X 429 (headers as X sends them)
    responses.get(
        f"{API}/2/users/{USER_ID}/tweets",
        status=429,
        json={
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        },
        headers={
            "x-rate-limit-limit": "900",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": "1588767300",
        },
    )
    with pytest.raises(RateLimited) as info:
        connector().fetch(account(), {}, NOW)
    assert info.value.until == datetime.fromtimestamp(1588767300, UTC)
    assert len(responses.calls) == 2  # a rate limit is not retried
    bucket = {r.bucket: r for r in info.value.rate_limits}["GET /2/users/:id/tweets"]
    assert bucket.remaining == 0


@responses.activate
def test_400_invalid_request_body_is_rejected() -> None:
    responses.get(
        f"{API}/2/users/{USER_ID}",
        status=400,
        body=raw("x/error_invalid_request_problem.json"),
        content_type="application/json",
    )
    with pytest.raises(Rejected) as info:
        connector().fetch(account(), {}, NOW)
    assert "One or more parameters to your request was invalid" in str(info.value)


@responses.activate
def test_503_is_retried_honouring_retry_after() -> None:
    responses.get(
        f"{API}/2/users/{USER_ID}",
        status=503,
        json={"title": "Service Unavailable"},
        headers={"retry-after": "7"},
    )
    stub_first_poll(responses.mock)
    sleeps = Sleeps()
    result = connector(sleeps).fetch(account(), {}, NOW)
    assert sleeps == [7.0]
    assert result.api_calls == 6 and result.profile is not None


@responses.activate
def test_persistent_503_gives_up_within_the_budget_as_transient() -> None:
    responses.get(f"{API}/2/users/{USER_ID}", status=503, json={"title": "Service Unavailable"})
    sleeps = Sleeps()
    with pytest.raises(TransientError):
        connector(sleeps).fetch(account(), {}, NOW)
    assert len(responses.calls) == 4 and len(sleeps) == 3  # stop_after_attempt(4), jittered backoff
    assert sum(sleeps) < 7.5 * 60


@responses.activate
def test_truncated_response_is_a_bad_payload() -> None:
    body = raw("x/users_tweets_page_all_fields.json")
    responses.get(f"{API}/2/users/{USER_ID}", json=user_body())
    responses.get(
        f"{API}/2/users/{USER_ID}/tweets", body=body[: len(body) // 2], content_type="application/json"
    )
    with pytest.raises(BadPayload):
        connector().fetch(account(), {}, NOW)


@responses.activate
def test_tweet_without_created_at_is_a_bad_payload() -> None:
    page = load("x/users_tweets_page_all_fields.json")
    del page["data"][3]["created_at"]
    del page["meta"]["next_token"]
    responses.get(f"{API}/2/users/{USER_ID}", json=user_body())
    responses.get(f"{API}/2/users/{USER_ID}/tweets", json=page)
    with pytest.raises(BadPayload, match="created_at"):
        connector().fetch(account(), {}, NOW)


def _own_page_with(*tweets: dict[str, Any]) -> dict[str, Any]:
    page = load("x/users_tweets_page_all_fields.json")
    page["data"] = [*tweets, *page["data"]]
    return page


def _recorded_reply_to_another_user() -> dict[str, Any]:
    page = load("x/users_tweets_page_all_fields.json")
    return next(t for t in page["data"] if t.get("in_reply_to_user_id") not in (None, USER_ID))


@responses.activate
def test_quote_tweets_answer_the_tweet_they_quote_and_a_reply_that_quotes_stays_a_reply() -> None:
    # synthetic: the recorded timeline has no quote tweet; these are its recorded reply re-shaped
    # with X's documented `referenced_tweets` type "quoted".
    base = _recorded_reply_to_another_user()
    quote = {
        **base,
        "id": "1257786232978968590",
        "in_reply_to_user_id": None,
        "conversation_id": "1257786232978968590",
    }
    quote["referenced_tweets"] = [{"type": "quoted", "id": "1257700000000000001"}]
    reply_quoting = {**base, "id": "1257786232978968591"}
    reply_quoting["referenced_tweets"] = [
        *base["referenced_tweets"],
        {"type": "quoted", "id": "1257700000000000002"},
    ]
    responses.get(f"{API}/2/users/{USER_ID}", json=user_body())
    responses.get(f"{API}/2/users/{USER_ID}/tweets", json=_own_page_with(quote, reply_quoting))
    responses.get(f"{API}/2/users/{USER_ID}/tweets", json=EMPTY)
    responses.get(f"{API}/2/users/{USER_ID}/mentions", json=EMPTY)
    responses.get(f"{API}/2/dm_events", json=EMPTY)
    result = connector().fetch(account(), {}, NOW)
    replies = {r.native_id: r for r in result.replies}
    assert replies[quote["id"]].in_reply_to == "1257700000000000001"  # a quote answers what it quotes
    replied_to = next(r["id"] for r in base["referenced_tweets"] if r["type"] == "replied_to")
    assert replies[reply_quoting["id"]].in_reply_to == replied_to  # was dropped as a mere "quote" before
    # self-thread tweets (replies to the account's own tweets) are still no answers to anyone
    page = load("x/users_tweets_page_all_fields.json")
    own_thread = [t["id"] for t in page["data"] if t.get("in_reply_to_user_id") == USER_ID]
    assert not set(own_thread) & set(replies)


@responses.activate
def test_a_retweet_of_the_accounts_post_in_mentions_is_not_a_message() -> None:
    # recorded: a retweet ("RT @bibaigna96: ...") as X returns it; as a mention of that user
    retweet = load("x/search_all_retweet_all_fields.json")
    quote_like = json.loads(json.dumps(retweet["data"][0]))
    quote_like.update(id="1394735776701816899", text="@bibaigna96 Is this open to postgrads?")
    quote_like["referenced_tweets"] = [{"type": "quoted", "id": "1391677057810288641"}]  # synthetic
    retweet["data"].append(quote_like)
    for tweet in retweet["data"]:
        tweet["created_at"] = "2020-05-05" + tweet["created_at"][10:]
    responses.get(f"{API}/2/users/{USER_ID}", json=user_body())
    responses.get(f"{API}/2/users/{USER_ID}/tweets", json=EMPTY)
    responses.get(f"{API}/2/users/{USER_ID}/mentions", json=retweet)
    responses.get(f"{API}/2/dm_events", json=EMPTY)
    result = connector().fetch(account(), {}, NOW)
    # The retweet repeats the account's own words: nobody asked anything. A quote is the quoter's own words.
    assert [m.native_id for m in result.messages] == ["1394735776701816899"]
