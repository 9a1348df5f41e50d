"""The real connectors against the sandbox, through their normal HTTP code and `base_url`.

This is the contract between the two: if a connector changes what it asks for, or the sandbox
what it answers, these fail. Scenario: the demo one (monitor/sandbox/scenarios/demo.yaml).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors import get_connector
from connectors.base import AuthExpired
from monitor.config import load_config
from monitor.demo import write_config
from monitor.sandbox import SandboxClient, SandboxServer
from monitor.tagging import tag_result


@pytest.fixture
def config(demo: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SOCIALMON_DEMO_TEAMS_URL", "http://127.0.0.1:9/webhook")
    return load_config(write_config(tmp_path, demo.url, 2525))


def fetch(config, account_id: str, cursor: dict | None = None):  # type: ignore[no-untyped-def]
    """What the poll has before it stores: the connector's records, tagged with their languages."""
    account = config.account(account_id)
    return tag_result(get_connector(account.platform, config).fetch(account, cursor or {}, datetime.now(UTC)))


def test_x_profile_posts_mentions_dms_and_replies(config, demo: SandboxServer) -> None:  # type: ignore[no-untyped-def]
    result = fetch(config, "prifysgol-x")
    assert result.profile is not None and "9yb-5yh" in result.profile.text
    assert {m.channel for m in result.messages} == {"mention", "dm"}
    dm = next(m for m in result.messages if m.channel == "dm")
    assert dm.language == "cy" and dm.is_enquiry
    answered = {r.in_reply_to: r.language for r in result.replies}
    assert answered[dm.native_id] == "cy"
    assert "en" in answered.values()  # the Welsh mention answered in English
    again = fetch(config, "prifysgol-x", result.cursor)  # since_id: nothing new
    assert again.posts == [] and again.messages == []
    SandboxClient(demo.url).add_post("prifysgol-x", "Neges newydd i bawb")
    newer = fetch(config, "prifysgol-x", result.cursor)
    assert [p.text for p in newer.posts] == ["Neges newydd i bawb"]


def test_facebook_page_comments_dms_and_scheduled(config) -> None:  # type: ignore[no-untyped-def]
    result = fetch(config, "uni-facebook")
    assert result.profile is not None and result.profile.name.startswith("Prifysgol Aberwen")
    assert {p.language for p in result.posts} == {"cy+en", "en"}
    channels = sorted(m.channel for m in result.messages)
    assert channels == ["comment"] * 6 + ["dm"]  # the welcome question and five on the halls post
    assert [r.language for r in result.replies] == ["cy", "cy"]
    assert result.scheduled == []  # read, and empty: the probe found the edge readable
    queued = fetch(config, "ysgol-busnes-facebook").scheduled
    assert queued is not None and len(queued) == 1 and queued[0].scheduled_for is not None


def test_instagram_media_comments_and_replies(config) -> None:  # type: ignore[no-untyped-def]
    result = fetch(config, "cerddoriaeth-instagram")
    assert result.profile is not None and result.profile.handle == "aberwenmusic"
    assert len(result.posts) == 2 and result.messages[0].language == "cy"
    assert result.replies[0].in_reply_to == result.messages[0].native_id


def test_youtube_captions_live_and_owner_replies(config) -> None:  # type: ignore[no-untyped-def]
    result = fetch(config, "uni-youtube")
    captions = {p.title: (p.video_captions, p.live) for p in result.posts}
    assert captions["Ein hymchwil / Our research"] == ("no", False)
    assert captions["Taith o'r campws / Campus tour"] == ("yes", False)
    assert captions["Seremoni raddio yn fyw / Graduation ceremony live"][1] is True
    assert result.replies and result.replies[0].in_reply_to == result.messages[0].native_id


def test_expired_token_is_a_typed_error(config) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AuthExpired):
        fetch(config, "chwaraeon-x")


def test_graph_expired_token_and_youtube_quota_are_typed(config, demo: SandboxServer) -> None:  # type: ignore[no-untyped-def]
    from connectors.base import RateLimited

    admin = SandboxClient(demo.url)
    admin.set_failure("uni-facebook", "auth_expired")
    with pytest.raises(AuthExpired):
        fetch(config, "uni-facebook")
    admin.set_failure("uni-youtube", "rate_limited")
    with pytest.raises(RateLimited):
        fetch(config, "uni-youtube")


def test_hiding_a_comment_resolves_its_unanswered_enquiry_end_to_end(
    config, demo: SandboxServer, any_store
) -> None:  # type: ignore[no-untyped-def]
    """Poll uni-facebook, check, hide the six-day-old unanswered gym question in the sandbox (the
    comms team's moderation), poll and check again: the findings resolve as hidden, the comment stays."""
    from sqlalchemy import select

    from monitor.checking import run_checks
    from monitor.db import FindingRow, MessageRow
    from monitor.poll import poll_account

    account = config.account("uni-facebook")
    now = datetime.now(UTC)
    assert poll_account(config, any_store, account, now=now).failed is False
    run_checks(config, any_store, now=now, account_ids=[account.id])
    with any_store.session() as session:
        gym_id = session.scalars(
            select(MessageRow.native_id).where(MessageRow.text.like("Ydy'r gampfa%"))
        ).one()
        open_rows = session.scalars(
            select(FindingRow).where(
                FindingRow.subject == f"message:facebook:{gym_id}", FindingRow.status == "open"
            )
        ).all()
    assert {r.check for r in open_rows} == {"response-time", "welsh-unanswered"}

    SandboxClient(demo.url).set_hidden("uni-facebook", "gym-q")
    later = now + timedelta(minutes=15)
    assert poll_account(config, any_store, account, now=later).failed is False
    run_checks(config, any_store, now=later, account_ids=[account.id])
    with any_store.session() as session:
        stored = session.scalars(select(MessageRow).where(MessageRow.native_id == gym_id)).one()
        rows = session.scalars(
            select(FindingRow).where(FindingRow.subject == f"message:facebook:{gym_id}")
        ).all()
        assert stored.hidden is True  # still stored, for the history
        assert {(r.check, r.status, r.resolve_reason) for r in rows} == {
            ("response-time", "resolved", "the comment was hidden"),
            ("welsh-unanswered", "resolved", "the comment was hidden"),
        }
