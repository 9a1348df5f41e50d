"""DM threading shared by X and Facebook: answers find their question, across polls too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.dm_threads import MAX_TRACKED_CONVERSATIONS, DmEvent, DmThreads

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def event(native_id: str, conversation: str, outbound: bool, minutes: int = 0) -> DmEvent:
    return DmEvent(
        native_id, conversation, T0 + timedelta(minutes=minutes), "text", outbound, "u1", "Student"
    )


def test_an_answer_replies_to_the_latest_question_of_its_conversation_even_a_poll_later() -> None:
    cursor: dict[str, object] = {}
    first = DmThreads("x", "uni-x", cursor)
    first.add(event("1", "c1", outbound=False))
    first.add(event("2", "c1", outbound=False, minutes=1))
    first.add(event("3", "c2", outbound=True, minutes=2))  # answers nothing we track
    first.save(cursor)
    assert [m.native_id for m in first.messages] == ["1", "2"] and first.replies == []
    assert {m.channel for m in first.messages} == {"dm"}

    second = DmThreads("x", "uni-x", cursor)
    second.add(event("4", "c1", outbound=True, minutes=30))
    second.add(event("5", "c9", outbound=False, minutes=31), keep=False)  # too old to record: threads only
    assert [(r.native_id, r.in_reply_to, r.conversation_id) for r in second.replies] == [("4", "2", "c1")]
    assert second.messages == [] and second.last_inbound["c9"] == "5"


def test_the_cursor_keeps_the_most_recent_conversations() -> None:
    cursor: dict[str, object] = {}
    threads = DmThreads("x", "uni-x", cursor)
    for n in range(MAX_TRACKED_CONVERSATIONS + 10, 0, -1):  # newest id first: insertion order is not recency
        threads.add(event(str(n), f"c{n}", outbound=False))
    threads.save(cursor, recency=int)
    kept = cursor["dm_last_inbound"]
    assert isinstance(kept, dict) and len(kept) == MAX_TRACKED_CONVERSATIONS
    assert "c1" not in kept and f"c{MAX_TRACKED_CONVERSATIONS + 10}" in kept


def test_the_accounts_opening_message_answers_nothing_and_the_persons_reply_waits_for_an_answer() -> None:
    # X lets the account write first: its opener threads to nothing (no Reply), the person's answer
    # is an inbound DM, and only the account's next message answers it.
    threads = DmThreads("x", "uni-x", {})
    threads.add(event("10", "c1", outbound=True))
    threads.add(event("11", "c1", outbound=False, minutes=5))
    assert threads.replies == [] and [m.native_id for m in threads.messages] == ["11"]
    threads.add(event("12", "c1", outbound=True, minutes=9))
    assert [(r.native_id, r.in_reply_to) for r in threads.replies] == [("12", "11")]


def test_three_messages_then_one_answer_links_the_answer_to_the_last() -> None:
    # The checks count it as the answer to all three (same conversation, after each of them).
    threads = DmThreads("facebook", "uni-fb", {})
    for n in range(3):
        threads.add(event(f"m{n}", "t_1", outbound=False, minutes=n))
    threads.add(event("a1", "t_1", outbound=True, minutes=10))
    assert [(r.in_reply_to, r.conversation_id) for r in threads.replies] == [("m2", "t_1")]
    assert [m.native_id for m in threads.messages] == ["m0", "m1", "m2"]
