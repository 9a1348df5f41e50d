"""YouTubeConnector against real recorded YouTube Data API payloads served by a local HTTP server.

google-api-python-client talks httplib2, so the tests serve the recorded bodies from a recording
server on loopback (tests/connectors/conftest.py) and assert on exactly what it received.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors import get_connector
from connectors.base import AuthExpired, PermissionMissing, RateLimited, TransientError
from connectors.youtube import quota_day
from tests.connectors.conftest import SECRETS, RecordingServer, Sleeps, load, make_config, raw

CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"
NOW = datetime(2019, 11, 25, 12, 0, tzinfo=UTC)
V3 = "/youtube/v3"


def channels() -> dict[str, Any]:
    body = load("youtube/channels_list_snippet_contentdetails.json")
    body["items"] = [i for i in body["items"] if i["id"] == CHANNEL]  # the recorded list holds two channels
    return body


def serve_first_poll(server: RecordingServer, threads: dict[str, Any] | None = None) -> None:
    server.add("GET", f"{V3}/channels", channels())
    server.add("GET", f"{V3}/playlistItems", load("youtube/playlist_items_list_page1.json"))
    server.add("GET", f"{V3}/playlistItems", load("youtube/playlist_items_list_page2_last.json"))
    server.add("GET", f"{V3}/videos", load("youtube/videos_list_content_details_caption.json"))
    server.add(
        "GET", f"{V3}/commentThreads", threads or load("youtube/comment_threads_by_video_with_replies.json")
    )


# --- one malformed item among recorded ones (test_hostile_input.py, test_youtube_set_aside.py) ---

BAD_VIDEO = "Fu2bldybpkA"  # the newest upload on the recorded playlist pages (2019-11-23T00:49:59Z)
THREAD = "UgydxWWoeA7F1OdqypJ4AaABAg"  # a recorded comment thread (its id is its top-level comment's)
THREAD_REPLY = "UgydxWWoeA7F1OdqypJ4AaABAg.8wWQ3tdHcFx8xcDheui-qb"  # that thread's one inline reply
GOOD_VIDEOS = {"D-lhorsDlUQ", "ovdbrdCIP7U"}


def playlist_pages() -> list[dict[str, Any]]:
    return [
        load("youtube/playlist_items_list_page1.json"),
        load("youtube/playlist_items_list_page2_last.json"),
    ]


def bad_playlist_item(pages: list[dict[str, Any]]) -> dict[str, Any]:
    """BAD_VIDEO's playlist item (the last on the last page)."""
    item = pages[-1]["items"][-1]
    assert item["snippet"]["resourceId"]["videoId"] == BAD_VIDEO
    return item  # type: ignore[no-any-return]


def videos_with_bad(change: Any = None, published: str = "2019-11-23T00:49:59.000Z") -> dict[str, Any]:
    """The two recorded videos (D-lhorsDlUQ with captions, ovdbrdCIP7U) and BAD_VIDEO, a copy of the
    second (# synthetic: its id and time edited), changed by `change`."""
    body = load("youtube/videos_list_content_details_caption.json")
    second = load("youtube/videos_list_snippet_multi.json")["items"][1]
    bad = copy.deepcopy(second)
    bad["id"] = BAD_VIDEO
    bad["snippet"]["publishedAt"] = published
    if change is not None:
        change(bad)
    body["items"] = [*body["items"], second, bad]
    return body


def serve_poll(
    server: RecordingServer,
    pages: list[dict[str, Any]] | None = None,
    videos: dict[str, Any] | None = None,
    threads: list[dict[str, Any]] | None = None,
) -> None:
    """A whole first poll, answered afresh (the server's queues and what it saw are cleared)."""
    server.routes.clear()
    server.seen.clear()
    server.add("GET", f"{V3}/channels", channels())
    for page in pages or playlist_pages():
        server.add("GET", f"{V3}/playlistItems", page)
    server.add("GET", f"{V3}/videos", videos or videos_with_bad())
    for page in threads or [load("youtube/comment_threads_by_video_with_replies.json")]:
        server.add("GET", f"{V3}/commentThreads", page)


def connector(server: RecordingServer, sleeps: Sleeps | None = None) -> Any:
    config = make_config(base_url=server.url, backfill="1000d")
    return get_connector("youtube", config, sleep=sleeps if sleeps is not None else Sleeps())


def account() -> Any:
    return make_config().account("uni-yt")


def test_first_poll_reads_channel_uploads_videos_and_comment_threads(server: RecordingServer) -> None:
    serve_first_poll(server)

    result = connector(server).fetch(account(), {}, NOW)

    assert server.paths() == [
        f"{V3}/channels",
        f"{V3}/playlistItems",
        f"{V3}/playlistItems",
        f"{V3}/videos",
        f"{V3}/commentThreads",
    ]
    channel, page1, page2, videos, threads = (s.query for s in server.seen)
    assert channel == {
        "part": "snippet,contentDetails",
        "id": CHANNEL,
        "key": SECRETS["YT_KEY"],
        "alt": "json",
    }
    assert page1["playlistId"] == "UU_x5XG1OV2P6uZZ5FSM9Ttw" and page1["maxResults"] == "50"
    assert page2["pageToken"] == "CAoQAA"
    assert videos["part"] == "snippet,contentDetails,liveStreamingDetails"
    assert len(videos["id"].split(",")) == 13
    assert threads == {
        "part": "snippet,replies",
        "allThreadsRelatedToChannelId": CHANNEL,
        "maxResults": "100",
        "order": "time",
        "textFormat": "plainText",
        "key": SECRETS["YT_KEY"],
        "alt": "json",
    }
    assert not any("search" in p for p in server.paths())  # search.list (100 units) is never used
    assert result.api_calls == result.quota_units == 5

    recorded = channels()["items"][0]["snippet"]
    assert result.profile is not None
    assert (result.profile.name, result.profile.text) == (recorded["title"], recorded["description"])
    [video] = result.posts
    assert (video.native_id, video.has_video, video.video_captions, video.live) == (
        "D-lhorsDlUQ",
        True,
        "yes",
        False,
    )
    assert video.title == "What are Actions on Google (Assistant on Air)"
    assert video.text.startswith(video.title)
    assert len(result.messages) == 6
    assert sum(m.channel == "reply" for m in result.messages) == 1
    reply = next(m for m in result.messages if m.channel == "reply")
    assert (
        reply.in_reply_to == "UgydxWWoeA7F1OdqypJ4AaABAg"
        and reply.conversation_id == "UgydxWWoeA7F1OdqypJ4AaABAg"
    )
    assert result.messages[0].text == "Actions.ai"  # textOriginal, not the HTML textDisplay
    assert result.cursor["uploads"] == "UU_x5XG1OV2P6uZZ5FSM9Ttw"
    assert len(result.cursor["video_ids_seen"]) == 13


def test_second_poll_costs_two_units_when_nothing_changed(server: RecordingServer) -> None:
    serve_first_poll(server)
    first = connector(server).fetch(account(), {}, NOW)
    server.seen.clear()
    server.routes.clear()
    server.add("GET", f"{V3}/playlistItems", load("youtube/playlist_items_list_page1.json"))
    server.add("GET", f"{V3}/commentThreads", load("youtube/comment_threads_by_video_with_replies.json"))

    second = connector(server).fetch(account(), first.cursor, NOW + timedelta(minutes=15))

    # channels.list waits for PROFILE_REFRESH; no new video and none to recheck: no videos.list.
    assert server.paths() == [f"{V3}/playlistItems", f"{V3}/commentThreads"]
    assert second.quota_units == 2 and second.profile is None
    assert second.posts == []
    # Only the newest comment, inside the one-hour overlap before the cursor, comes back (deduped on store).
    assert [m.native_id for m in second.messages] == ["UgydxWWoeA7F1OdqypJ4AaABAg.8wWQ3tdHcFx8xcDheui-qb"]


def test_owner_replies_are_recognised_by_author_channel_id(server: RecordingServer) -> None:
    threads = load("youtube/comment_threads_by_video_with_replies.json")
    # synthetic edit: the recorded replies are by viewers; make the inline reply the channel owner's
    threads["items"][0]["replies"]["comments"][0]["snippet"]["authorChannelId"]["value"] = CHANNEL
    serve_first_poll(server, threads)
    result = connector(server).fetch(account(), {}, NOW)
    [reply] = result.replies
    assert reply.native_id == "UgydxWWoeA7F1OdqypJ4AaABAg.8wWQ3tdHcFx8xcDheui-qb"
    assert reply.in_reply_to == "UgydxWWoeA7F1OdqypJ4AaABAg"
    assert len(result.messages) == 5


def test_threads_with_more_replies_than_inlined_read_comments_list(server: RecordingServer) -> None:
    threads = load("youtube/comment_threads_by_video_with_replies.json")
    threads["items"][0]["snippet"]["totalReplyCount"] = 3
    serve_first_poll(server, threads)
    replies = load("youtube/comments_by_parent_page1.json")
    last = copy.deepcopy(replies)
    del last["nextPageToken"]
    server.add("GET", f"{V3}/comments", replies)
    server.add("GET", f"{V3}/comments", last)
    # The recorded replies run to 2019-12-01: poll after them (items over a day ahead are refused).
    result = connector(server).fetch(account(), {}, NOW + timedelta(days=7))
    comment_calls = [s.query for s in server.seen if s.path == f"{V3}/comments"]
    assert [q["parentId"] for q in comment_calls] == ["UgydxWWoeA7F1OdqypJ4AaABAg"] * 2
    assert result.quota_units == 7
    assert sum(m.channel == "reply" for m in result.messages) == 4  # two pages of two


def test_key_invalid_is_auth_expired(server: RecordingServer) -> None:
    server.add("GET", f"{V3}/channels", raw("youtube/error_400_key_invalid.json"), status=400)
    with pytest.raises(AuthExpired, match="keyInvalid") as info:
        connector(server).fetch(account(), {}, NOW)
    assert SECRETS["YT_KEY"] not in str(info.value)
    assert info.value.quota_units == 1


def test_backend_error_is_retried_then_transient(server: RecordingServer) -> None:
    server.add("GET", f"{V3}/channels", raw("youtube/error_503_backend_error.json"), status=503)
    sleeps = Sleeps()
    with pytest.raises(TransientError, match="backendError"):
        connector(server, sleeps).fetch(account(), {}, NOW)
    assert len(server.seen) == 4 and len(sleeps) == 3


def test_quota_exceeded_is_rate_limited_until_pacific_midnight(server: RecordingServer) -> None:
    # synthetic: no recorded quotaExceeded body (the envelope is the recorded 400's)
    body = {
        "error": {
            "code": 403,
            "message": "The request cannot be completed because you have exceeded your quota.",
            "errors": [{"message": "quota", "domain": "youtube.quota", "reason": "quotaExceeded"}],
        }
    }
    server.add("GET", f"{V3}/channels", body, status=403)
    with pytest.raises(RateLimited) as info:
        connector(server).fetch(account(), {}, NOW)
    assert info.value.until == datetime(2019, 11, 26, 8, 0, tzinfo=UTC)  # 00:00 PST
    assert quota_day(NOW) == "2019-11-25"


def test_forbidden_is_permission_missing(server: RecordingServer) -> None:
    body = {
        "error": {
            "code": 403,
            "message": "forbidden",
            "errors": [{"domain": "youtube.commentThread", "reason": "forbidden"}],
        }
    }
    serve_first_poll(server)
    server.routes[("GET", f"{V3}/commentThreads")] = []
    server.add("GET", f"{V3}/commentThreads", body, status=403)
    with pytest.raises(PermissionMissing):
        connector(server).fetch(account(), {}, NOW)


def test_recording_of_a_finished_live_stream_counts_as_live(server: RecordingServer) -> None:
    videos = load("youtube/videos_list_content_details_caption.json")
    # synthetic edit: the stream has ended (liveBroadcastContent "none") but it was streamed live
    item = next(v for v in videos["items"] if v["id"] == "D-lhorsDlUQ")
    item["snippet"]["liveBroadcastContent"] = "none"
    item["contentDetails"]["caption"] = "false"
    item["liveStreamingDetails"] = {
        "actualStartTime": "2019-11-20T10:00:00Z",
        "actualEndTime": "2019-11-20T11:00:00Z",
    }
    server.add("GET", f"{V3}/channels", channels())
    server.add("GET", f"{V3}/playlistItems", load("youtube/playlist_items_list_page1.json"))
    server.add("GET", f"{V3}/playlistItems", load("youtube/playlist_items_list_page2_last.json"))
    server.add("GET", f"{V3}/videos", videos)
    server.add("GET", f"{V3}/commentThreads", load("youtube/comment_threads_by_video_with_replies.json"))

    [video] = connector(server).fetch(account(), {}, NOW).posts

    assert (video.video_captions, video.live) == ("no", True)  # exempt from video-captions
