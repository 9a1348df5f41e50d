"""The poll's tagging: languages of posts, messages, replies and profiles; which messages are enquiries."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert

from monitor.db import ProfileSnapshotRow
from monitor.models import FetchResult, Message, Post, ProfileSnapshot, Reply
from monitor.records import load_records
from monitor.store import Store
from monitor.tagging import tag_result
from tests.connectors.conftest import make_config

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def message(native_id: str, text: str, channel: str = "comment") -> Message:
    return Message("x", native_id, "uni-x", channel, "u1", "Student", NOW, text)  # type: ignore[arg-type]


def test_every_record_gets_its_language_and_messages_their_enquiry_flag() -> None:
    result = FetchResult(
        account_id="uni-x",
        posts=[Post("x", "p1", "uni-x", NOW, "Croeso i'r brifysgol! Mae'r llyfrgell ar agor heddiw.")],
        messages=[
            message("m1", "Pryd mae'r llyfrgell ar agor?"),
            message("m2", "Great photos from graduation day, well done everyone"),
            message("m3", "Thanks, that was lovely", channel="dm"),
        ],
        replies=[Reply("x", "r1", "uni-x", NOW, "The library is open until nine tonight.", "m1")],
        profile=ProfileSnapshot("uni-x", NOW, "Uni", "uni", "Official account.\nCyfrif swyddogol.", "a"),
    )
    tagged = tag_result(result)
    assert tagged.posts[0].language == "cy" and tagged.posts[0].language_confidence > 0
    tags = [(m.language, m.is_enquiry) for m in tagged.messages]
    assert tags == [("cy", True), ("en", False), ("en", True)]  # every DM is an enquiry
    assert tagged.replies[0].language == "en"
    profile = tagged.profile
    assert profile is not None and "cy" in profile.languages and profile.has_welsh


def test_a_profile_without_welsh_says_so() -> None:
    text = "Official account. Monitored Mon-Fri 9am-5pm."
    snapshot = ProfileSnapshot("uni-x", NOW, "Uni", "uni", text, "a")
    profile = tag_result(FetchResult(account_id="uni-x", profile=snapshot)).profile
    assert profile is not None and profile.language == "en" and not profile.has_welsh


def test_a_profile_stored_before_profiles_carried_a_language_is_tagged_when_read(any_store: Store) -> None:
    config = make_config()
    account = config.account("uni-x")
    with any_store.session() as session:
        row = {"account_id": account.id, "taken_at": NOW, "last_seen_at": NOW, "name": "Uni", "handle": "uni"}
        row |= {"text": "Official account.\nCyfrif swyddogol.", "avatar_fingerprint": "a", "url": ""}
        # the columns revision 0002 added are NULL on older rows
        row |= {"language": None, "language_confidence": None, "languages": None}
        session.execute(insert(ProfileSnapshotRow.__table__).values(row))
    with any_store.session() as session:
        [profile] = load_records(session, config, [account], NOW).profiles[account.id]
    assert profile.has_welsh and profile.language != "unknown"
