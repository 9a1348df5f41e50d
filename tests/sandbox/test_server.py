"""The sandbox over real HTTP: platform shapes (compared with recorded responses), paging, since,
failure modes and the admin endpoints."""

from __future__ import annotations

import json
import time

import pytest
import requests

from monitor.sandbox import SandboxClient, SandboxServer
from monitor.sandbox.client import SandboxError
from tests.sandbox.conftest import get, real

XU = "/2/users/1000000000000000001"


# --- X ------------------------------------------------------------------------------------------


def test_x_default_fields_match_the_recorded_timeline(small: SandboxServer) -> None:
    body = get(small, XU + "/tweets", max_results=5).json()
    recorded = real("users_tweets_page1_default_fields.json")
    assert set(body) == set(recorded)
    assert {k for t in body["data"] for k in t} == {k for t in recorded["data"] for k in t}
    assert set(body["meta"]) == set(recorded["meta"])


def test_x_user_fields_are_the_recorded_ones(small: SandboxServer) -> None:
    fields = (
        "created_at,description,entities,location,profile_image_url,protected,public_metrics,url,verified"
    )
    user = get(small, "/2/users/by/username/AcmeUni", **{"user.fields": fields}).json()["data"]
    recorded = real("users_by_usernames_with_description.json")["data"][0]
    assert set(user) <= set(recorded) | {"entities"}
    assert user["description"] == "Monitored Mon-Fri 9am-5pm"


def test_x_pages_with_next_token_and_honours_since_id(small: SandboxServer) -> None:
    first = get(small, XU + "/tweets", max_results=5).json()
    assert first["meta"]["result_count"] == 5 and "next_token" in first["meta"]
    rest = get(small, XU + "/tweets", max_results=5, pagination_token=first["meta"]["next_token"]).json()
    ids = [t["id"] for t in first["data"] + rest["data"]]
    assert len(ids) == len(set(ids)) == 8  # seven posts and the reply to the mention
    assert "next_token" not in rest["meta"]
    newest = first["meta"]["newest_id"]
    assert get(small, XU + "/tweets", since_id=newest).json() == {"meta": {"result_count": 0}}
    third = sorted(ids, key=int)[-3]
    newer = get(small, XU + "/tweets", since_id=third).json()
    assert [t["id"] for t in newer["data"]] == sorted(ids, key=int, reverse=True)[:2]


def test_x_rejects_what_x_rejects(small: SandboxServer) -> None:
    bad = get(small, XU + "/tweets", max_results=500)
    assert bad.status_code == 400 and bad.json()["title"] == "Invalid Request"
    assert get(small, XU + "/tweets", **{"tweet.fields": "colour"}).status_code == 400
    assert requests.get(small.url + XU + "/tweets", timeout=5).status_code == 401  # no token
    missing = get(small, "/2/users/by/username/nobody").json()
    assert missing["errors"][0]["title"] == "Not Found Error"


def test_x_expansions_and_reply_shape(small: SandboxServer) -> None:
    body = get(
        small, XU + "/tweets", max_results=100,
        **{"tweet.fields": "created_at,referenced_tweets,in_reply_to_user_id,entities,attachments",
           "expansions": "attachments.media_keys"},
    ).json()  # fmt: skip
    replies = [t for t in body["data"] if t.get("referenced_tweets", [{}])[0].get("type") == "replied_to"]
    assert len(replies) == 1 and replies[0]["in_reply_to_user_id"] != "1000000000000000001"
    assert body["includes"]["media"][0]["type"] == "photo"
    first = body["data"][-1] if "links" not in body["data"][-1] else body["data"][0]
    assert first["created_at"].endswith("Z")
    mentions = get(small, XU + "/mentions", expansions="author_id", **{"user.fields": "name,username"}).json()
    assert mentions["includes"]["users"][0]["name"] == "Ann"


def test_x_dm_events_need_a_user_token(small: SandboxServer) -> None:
    app_only = get(small, "/2/dm_events", token="some-app-token")
    assert app_only.status_code == 403 and "Application-Only" in app_only.json()["detail"]
    body = get(small, "/2/dm_events", **{"dm_event.fields": "created_at,sender_id,dm_conversation_id"}).json()
    recorded = real("dm_events_by_conversation_page1.json")
    assert {k for e in recorded["data"] for k in e} <= {k for e in body["data"] for k in e}
    senders = [e["sender_id"] for e in body["data"]]
    assert "1000000000000000001" in senders and len(set(senders)) == 2  # the reply and the inbound DM


# --- Graph --------------------------------------------------------------------------------------


def graph(server: SandboxServer, path: str, **params: str) -> requests.Response:
    return requests.get(server.url + path, params={"access_token": "t", **params}, timeout=5)


def test_graph_returns_only_the_fields_asked_for(small: SandboxServer) -> None:
    page = graph(small, "/v25.0/104000000000099", fields="id,name,about,picture{url}").json()
    assert page == {
        "id": "104000000000099",
        "name": "Acme University",
        "about": "About Acme",
        "picture": {"data": {"url": "https://sandbox.invalid/avatars/acme-fb.png"}},
    }
    assert graph(small, "/v25.0/104000000000099").json() == {
        "name": "Acme University",
        "id": "104000000000099",
    }
    unknown = graph(small, "/v25.0/104000000000099", fields="id,colour")
    assert unknown.status_code == 400
    assert (
        unknown.json()["error"]["message"]
        == "(#100) Tried accessing nonexisting field (colour) on node type (Page)"
    )


def test_graph_comment_shape_matches_the_recorded_one(small: SandboxServer) -> None:
    post = graph(small, "/v25.0/104000000000099/published_posts").json()["data"][0]
    recorded = real("comment_replies_by_parent_page2_last.json")
    fields = ",".join(sorted({k for c in recorded["data"] for k in c}))
    comments = graph(small, f"/v25.0/{post['id']}/comments", fields=fields, summary="true").json()
    assert {k for c in comments["data"] for k in c} <= set(fields.split(","))
    assert set(comments) == set(recorded) - {"paging"} | ({"paging"} if "paging" in comments else set())
    assert comments["data"][0]["from"]["name"] == "Cai"
    stream = graph(
        small, f"/v25.0/{post['id']}/comments", fields="id,from{id},parent{id}", filter="stream"
    ).json()
    assert len(stream["data"]) == 3  # the comment, the page's reply and the visitor's reply
    assert sum(1 for c in stream["data"] if c.get("parent")) == 2


def test_graph_nested_edges_page_and_filter_by_since(small: SandboxServer) -> None:
    comments = "comments.filter(stream).limit(1){{id,from{{id,name}}}}"
    fields = "published_posts.since({}).limit(1){{id,message," + comments + "}}"
    since = int(time.time()) - 2 * 86400
    page = graph(small, "/v25.0/104000000000099", fields=fields.format(since)).json()
    posts = page["published_posts"]
    assert [p["message"] for p in posts["data"]] == ["Page post one"]  # the 10-day-old post is before since
    comments = posts["data"][0]["comments"]
    assert len(comments["data"]) == 1 and "next" in comments["paging"]
    following = requests.get(comments["paging"]["next"], timeout=5).json()  # an absolute URL back to us
    assert len(following["data"]) == 1 and following["data"][0]["id"] != comments["data"][0]["id"]


def test_graph_batch_and_scheduled_posts(small: SandboxServer) -> None:
    batch = [
        {"method": "GET", "relative_url": "104000000000099?fields=id,name"},
        {
            "method": "GET",
            "relative_url": "104000000000099/scheduled_posts?fields=id,message,scheduled_publish_time",
        },
        {"method": "GET", "relative_url": "nope?fields=id"},
    ]
    answer = requests.post(
        small.url + "/v25.0/", data={"batch": json.dumps(batch), "access_token": "t"}, timeout=5
    ).json()
    assert [a["code"] for a in answer] == [200, 200, 400]
    scheduled = json.loads(answer[1]["body"])["data"][0]
    assert scheduled["message"] == "Later today" and isinstance(scheduled["scheduled_publish_time"], int)
    assert json.loads(answer[2]["body"])["error"]["code"] == 100


def test_graph_conversations_and_instagram(small: SandboxServer) -> None:
    conversations = graph(
        small, "/v25.0/104000000000099/conversations", fields="id,messages{id,message,from{id,name}}"
    ).json()
    messages = conversations["data"][0]["messages"]["data"]
    assert [m["message"] for m in messages] == ["Hello Eve", "Hello page"]  # newest first
    user = graph(small, "/v25.0/17841400000000099", fields="id,biography,username").json()
    recorded = real("ig_user_fields.json")
    assert set(user) <= set(recorded)
    media = graph(
        small,
        "/v25.0/17841400000000099/media",
        fields="id,media_type,comments{id,text,timestamp,replies{id,username}}",
    ).json()["data"]
    assert [m["media_type"] for m in media] == ["VIDEO", "IMAGE"]
    comment = media[1]["comments"]["data"][0]
    assert set(comment) <= set(real("ig_media_comments_page1.json")["data"][0]) | {"replies"}
    assert comment["replies"]["data"][0]["username"] == "acmeuni"


def test_graph_serves_hidden_comments_and_the_admin_hides_them(small: SandboxServer) -> None:
    post = graph(small, "/v25.0/104000000000099/published_posts").json()["data"][0]

    def fb_hidden() -> dict[str, bool]:
        rows = graph(
            small, f"/v25.0/{post['id']}/comments", fields="message,is_hidden", filter="stream"
        ).json()
        return {c["message"]: c["is_hidden"] for c in rows["data"]}

    assert fb_hidden()["A question?"] is False
    assert SandboxClient(small.url).set_hidden("acme-fb", "c1")["hidden"] is True
    assert fb_hidden()["A question?"] is True and fb_hidden()["Me too?"] is False

    def ig_hidden() -> list[bool]:
        media = graph(small, "/v25.0/17841400000000099/media", fields="comments{hidden,username}").json()
        return [c["hidden"] for m in media["data"] for c in (m.get("comments") or {}).get("data", [])]

    assert ig_hidden() == [False]
    SandboxClient(small.url).set_hidden("acme-ig", "ic1")
    assert ig_hidden() == [True]
    with pytest.raises(SandboxError, match="only Facebook and Instagram"):
        SandboxClient(small.url).set_hidden("acme-x", "m1")


# --- YouTube ------------------------------------------------------------------------------------


def yt(server: SandboxServer, resource: str, **params: str) -> requests.Response:
    return requests.get(f"{server.url}/youtube/v3/{resource}", params={"key": "k", **params}, timeout=5)


def test_youtube_shapes_match_the_recorded_ones(small: SandboxServer) -> None:
    channels = yt(small, "channels", part="snippet,contentDetails", id="UCacmeacmeacmeacmeacme01").json()
    recorded = real("channels_list_snippet_contentdetails.json")
    assert set(channels) <= set(recorded)
    assert set(channels["items"][0]["snippet"]) <= set(recorded["items"][0]["snippet"]) | {"country"}
    uploads = channels["items"][0]["contentDetails"]["relatedPlaylists"]["uploads"]
    items = yt(
        small, "playlistItems", part="snippet,contentDetails", playlistId=uploads, maxResults="2"
    ).json()
    recorded_items = real("playlist_items_list_page1.json")
    assert set(items) == set(recorded_items)  # kind, etag, nextPageToken, pageInfo, items
    more = yt(
        small, "playlistItems", part="contentDetails", playlistId=uploads, pageToken=items["nextPageToken"]
    )
    assert [i["contentDetails"]["videoId"] for i in more.json()["items"]]
    ids = ",".join(i["contentDetails"]["videoId"] for i in items["items"])
    videos = yt(small, "videos", part="snippet,contentDetails,liveStreamingDetails", id=ids).json()["items"]
    assert {v["contentDetails"]["caption"] for v in videos} <= {"true", "false"}
    live = [v for v in videos if v["snippet"]["liveBroadcastContent"] == "live"]
    assert live and "liveStreamingDetails" in live[0]
    nothing = yt(small, "channels", part="snippet", id="UCnobody").json()
    assert "items" not in nothing  # the real API leaves items out when nothing matches


def test_youtube_threads_mark_owner_replies_and_escape_html(small: SandboxServer) -> None:
    threads = yt(
        small,
        "commentThreads",
        part="snippet,replies",
        allThreadsRelatedToChannelId="UCacmeacmeacmeacmeacme01",
    ).json()
    recorded = real("comment_threads_by_video_with_replies.json")["items"][0]
    thread = threads["items"][0]
    assert set(thread) == set(recorded)
    top = thread["snippet"]["topLevelComment"]["snippet"]
    assert (
        top["textDisplay"] == "Is this &lt;b&gt;bold&lt;/b&gt;?"
        and top["textOriginal"] == "Is this <b>bold</b>?"
    )
    owners = [c["snippet"]["authorChannelId"]["value"] for c in thread["replies"]["comments"]]
    assert "UCacmeacmeacmeacmeacme01" in owners and thread["snippet"]["totalReplyCount"] == 2


# --- failure modes and admin --------------------------------------------------------------------


def test_failure_modes_answer_in_each_platforms_form(small: SandboxServer) -> None:
    admin = SandboxClient(small.url)
    admin.set_failure("acme-x", "rate_limited", retry_after=120)
    limited = get(small, XU + "/tweets")
    assert limited.status_code == 429 and limited.headers["x-rate-limit-remaining"] == "0"
    assert int(limited.headers["x-rate-limit-reset"]) >= int(time.time()) + 100
    admin.set_failure("acme-x", "auth_expired")
    assert get(small, XU).status_code == 401
    admin.set_failure("acme-fb", "auth_expired")
    expired = graph(small, "/v25.0/104000000000099", fields="id")
    error = expired.json()["error"]
    assert expired.status_code == 400 and (error["code"], error["error_subcode"]) == (190, 463)
    assert set(error) <= set(real("error_190_oauth_docs_example.json")["error"])
    admin.set_failure("acme-yt", "rate_limited")
    quota = yt(small, "channels", part="id", id="UCacmeacmeacmeacmeacme01")
    assert quota.status_code == 403 and quota.json()["error"]["errors"][0]["reason"] == "quotaExceeded"
    admin.set_failure("acme-ig", "server_error", times=1)
    assert graph(small, "/v25.0/17841400000000099", fields="id").status_code == 500
    assert graph(small, "/v25.0/17841400000000099", fields="id").status_code == 200  # recovered


def test_truncated_body_is_invalid_json_and_only_for_the_named_path(small: SandboxServer) -> None:
    admin = SandboxClient(small.url)
    admin.set_failure("acme-x", "truncated", only="/mentions")
    broken = get(small, XU + "/mentions")
    assert broken.status_code == 200
    try:
        broken.json()
        raise AssertionError("a truncated body must not parse")
    except ValueError:
        pass
    assert get(small, XU + "/tweets").json()["meta"]["result_count"] > 0
    admin.set_failure("acme-x", None)
    assert get(small, XU + "/mentions").json()["meta"]["result_count"] == 1


def test_admin_changes_show_up_in_the_apis(small: SandboxServer) -> None:
    admin = SandboxClient(small.url)
    newest = get(small, XU + "/tweets").json()["meta"]["newest_id"]
    created = admin.add_post("acme-x", "Breaking news")
    assert int(created["id"]) > int(newest)
    assert [t["text"] for t in get(small, XU + "/tweets", since_id=newest).json()["data"]] == [
        "Breaking news"
    ]
    admin.change_profile("acme-fb", name="Hijacked", bio="Free crypto")
    assert graph(small, "/v25.0/104000000000099", fields="name,about").json()["about"] == "Free crypto"
    admin.schedule_post("acme-fb", "Queued", at="+5h")
    queued = graph(small, "/v25.0/104000000000099/scheduled_posts", fields="message").json()["data"]
    assert [q["message"] for q in queued] == ["Later today", "Queued"]
    message = admin.add_message("acme-fb", "comment", "New question?", post="f1", author="Ivy")
    admin.add_reply("acme-fb", message["id"], "New answer")
    post = graph(small, "/v25.0/104000000000099/published_posts").json()["data"][0]
    stream = graph(small, f"/v25.0/{post['id']}/comments", filter="stream", fields="message").json()["data"]
    assert [c["message"] for c in stream][-2:] == ["New question?", "New answer"]
    log = admin.requests()
    assert log and all("access_token" not in r["query"] for r in log)
    assert {r["account"] for r in log} >= {"acme-x", "acme-fb"}
    errors = requests.post(small.url + "/_admin/posts", json={"account": "nobody", "text": "x"}, timeout=5)
    assert errors.status_code == 400 and "no account 'nobody'" in errors.json()["error"]


def test_the_sandbox_listens_on_loopback_only() -> None:
    from monitor.sandbox import parse_scenario
    from tests.sandbox.conftest import SMALL

    try:
        SandboxServer(parse_scenario(SMALL), host="0.0.0.0")
        raise AssertionError("must refuse a non-loopback address")
    except ValueError as exc:
        assert "loopback" in str(exc)
