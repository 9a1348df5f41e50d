"""One malformed YouTube video or comment thread is set aside alone; the channel's others flow.

The whole cycle through `monitor.poll.poll_account`, on SQLite and PostgreSQL (`any_store`): the
first polls fail `bad_payload` naming the item, the third failure sets it aside (one row in
`set_aside_items`, one operations alert), the next poll is ok and stores the channel's other uploads
and comments, the cursor moves past the item and no later poll spends quota on it. Recorded
fixtures carry the good items; the bad one is marked `# synthetic` where it is built
(tests/connectors/test_youtube.py). Connector-level cases, one per kind of malformed item, are in
tests/connectors/test_hostile_input.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from connectors import get_connector
from monitor.config import Config, parse_config
from monitor.db import AlertRow, MessageRow, PollRunRow, PostRow, QuotaUsageRow, SetAsideItemRow
from monitor.poll import PollOutcome, poll_account
from monitor.store import Store, load_cursor
from tests.connectors import test_youtube as yt
from tests.connectors.conftest import SECRETS, RecordingServer, Sleeps, load

OPS_CONFIG = """
policy: {{backfill: 1000d}}
platforms:
  youtube: {{base_url: "{base_url}", api_key: "${{YT_KEY}}"}}
accounts:
  - {{id: uni-yt, platform: youtube, native_id: UC_x5XG1OV2P6uZZ5FSM9Ttw, name: YouTube, role: central,
      language: {{mode: bilingual}}}}
alerts:
  channels:
    ops: {{type: teams, url: "http://127.0.0.1:9/ops", timeout: 5s}}
  routes:
    operations: {{channels: [ops]}}
"""


def polls(config: Config, store: Store, server: RecordingServer, serve: Any, count: int) -> list[Any]:
    """`count` polls 15 minutes apart, each answered afresh; what each asked the API for is kept."""
    account = config.account("uni-yt")
    outcomes = []
    for i in range(count):
        serve()
        outcome = poll_account(
            config,
            store,
            account,
            now=yt.NOW + timedelta(minutes=15 * i),
            connector=get_connector("youtube", config, sleep=Sleeps()),
        )
        outcomes.append((outcome, [s.path.rsplit("/", 1)[-1] for s in server.seen], yt_videos_asked(server)))
    return outcomes


def yt_videos_asked(server: RecordingServer) -> list[str]:
    return [v for s in server.seen if s.path == f"{yt.V3}/videos" for v in s.query["id"].split(",")]


def assert_set_aside_once(store: Store, record_type: str, native_id: str, what: str) -> None:
    with store.session() as s:
        aside = s.scalars(select(SetAsideItemRow)).one()
        assert (aside.account_id, aside.platform, aside.record_type, aside.native_id, aside.failures) == (
            "uni-yt",
            "youtube",
            record_type,
            native_id,
            3,
        )
        ops = s.scalars(select(AlertRow).where(AlertRow.route == "operations")).all()
        assert len(ops) == 1
        assert ops[0].subject == f"[WARNING] A {what} of uni-yt could not be read and was set aside"


def assert_quota_spent(store: Store, outcomes: list[tuple[PollOutcome, list[str], list[str]]]) -> None:
    """Every call is 1 unit (playlistItems, videos, commentThreads, channels): the units recorded,
    failed polls included, are the calls the API saw."""
    calls = [len(paths) for _, paths, _ in outcomes]
    assert [o.quota_units for o, _, _ in outcomes] == calls
    with store.session() as s:
        assert list(s.scalars(select(PollRunRow.quota_units).order_by(PollRunRow.id))) == calls
        assert s.scalar(select(func.sum(QuotaUsageRow.units))) == sum(calls)


def test_a_youtube_video_that_keeps_failing_is_set_aside_and_the_others_flow(
    any_store: Store, server: RecordingServer
) -> None:
    config = parse_config(OPS_CONFIG.format(base_url=server.url), "test.yaml", env=SECRETS)
    videos = yt.videos_with_bad(lambda v: v["snippet"].update(publishedAt=1574470199))

    outcomes = polls(config, any_store, server, lambda: yt.serve_poll(server, videos=videos), 5)

    results = [o for o, _, _ in outcomes]
    assert [o.status for o in results] == ["bad_payload"] * 3 + ["ok", "ok"]
    assert all(o.error and f"video {yt.BAD_VIDEO}" in o.error for o in results[:3])
    assert [paths for _, paths, _ in outcomes] == [
        *[["channels", "playlistItems", "playlistItems", "videos"]] * 3,  # failed at the bad video
        ["channels", "playlistItems", "playlistItems", "videos", "commentThreads"],
        ["playlistItems", "videos", "commentThreads"],  # one page: nothing new; a caption recheck
    ]
    assert all(yt.BAD_VIDEO in asked for _, _, asked in outcomes[:3])
    assert all(yt.BAD_VIDEO not in asked for _, _, asked in outcomes[3:])  # no quota spent on it again
    assert outcomes[4][2] == ["ovdbrdCIP7U"]  # its captions are unknown: rechecked, the set-aside one not
    assert (results[3].new_posts, results[3].new_messages) == (2, 6)
    assert_set_aside_once(any_store, "post", yt.BAD_VIDEO, "post")
    assert_quota_spent(any_store, outcomes)
    with any_store.session() as s:
        assert set(s.scalars(select(PostRow.native_id))) == yt.GOOD_VIDEOS
        assert s.scalar(select(func.count()).select_from(MessageRow)) == 6  # the comments flow as well
        cursor = load_cursor(s, "uni-yt")
    assert yt.BAD_VIDEO in cursor["video_ids_seen"] and len(cursor["video_ids_seen"]) == 13
    assert cursor["last_video_published"] == "2019-11-23T00:49:59Z"
    assert yt.BAD_VIDEO not in cursor["recheck"]


def test_a_youtube_comment_thread_that_keeps_failing_is_set_aside_and_the_others_flow(
    any_store: Store, server: RecordingServer
) -> None:
    config = parse_config(OPS_CONFIG.format(base_url=server.url), "test.yaml", env=SECRETS)
    threads = load("youtube/comment_threads_by_video_with_replies.json")
    assert threads["items"][0]["id"] == yt.THREAD
    threads["items"][0]["snippet"]["topLevelComment"] = "removed"  # synthetic edit

    outcomes = polls(config, any_store, server, lambda: yt.serve_poll(server, threads=[threads]), 4)

    results = [o for o, _, _ in outcomes]
    assert [o.status for o in results] == ["bad_payload"] * 3 + ["ok"]
    assert all(o.error and f"commentThread {yt.THREAD}" in o.error for o in results[:3])
    assert results[3].new_messages == 4  # the other four threads; the bad one's reply goes with it
    assert_set_aside_once(any_store, "message", yt.THREAD, "message")
    assert_quota_spent(any_store, outcomes)
    with any_store.session() as s:
        assert yt.THREAD not in set(s.scalars(select(MessageRow.native_id)))
        assert set(s.scalars(select(PostRow.native_id))) >= yt.GOOD_VIDEOS  # the uploads flow as well
        assert load_cursor(s, "uni-yt")["comments_since"] == "2019-04-20T01:03:39Z"
