"""What a reply answers, per platform shape: comment sub-threads, DMs, X conversations, @mentions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from check_factories import account, ago, context, message, reply

from checks.base import ReplyIndex
from checks.response_time import ResponseTimeCheck

CHECK = ResponseTimeCheck()


def _comment(platform: str, post: str, native_id: str, author: str, hours_ago: float, **kw: object):  # type: ignore[no-untyped-def]
    return message(
        "Is the library open on Sunday?",
        "en",
        platform=platform,
        native_id=native_id,
        channel=kw.pop("channel", "comment"),
        author_id=author,
        author_name=kw.pop("author_name", author),
        in_reply_to=kw.pop("in_reply_to", post),
        conversation_id=kw.pop("conversation_id", post),
        created_at=ago(hours=hours_ago),
        **kw,
    )


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
def test_a_page_answering_one_person_on_a_post_with_five_questions(platform: str) -> None:
    asks = [_comment(platform, "post-1", f"c{i}", f"user{i}", 30 - i) for i in range(5)]
    # The Page answers only the last asker, after all five asked.
    answer = reply(asks[4], "Yes, 10-4.", "en", in_reply_to="c4", conversation_id="post-1")
    acct = account(platform=platform)
    findings = CHECK.evaluate(context(acct, messages=asks, replies=[answer]))
    assert sorted(f.subject for f in findings) == [f"message:{platform}:c{i}" for i in range(4)]


def test_a_reply_in_a_sub_thread_answers_earlier_comments_of_that_sub_thread_only() -> None:
    top = _comment("facebook", "post-1", "c1", "ann", 30)
    follow_up = _comment("facebook", "post-1", "c1_2", "bob", 29, channel="reply", in_reply_to="c1")
    other_top = _comment("facebook", "post-1", "c2", "cai", 28)
    answer = reply(top, "Yes.", "en", in_reply_to="c1", conversation_id="post-1", created_at=ago(hours=27))
    later = _comment("facebook", "post-1", "c1_3", "dee", 26, channel="reply", in_reply_to="c1")
    index = ReplyIndex.build([answer], [top, follow_up, other_top, later])
    assert index.replies_to(top) == [answer]
    assert index.replies_to(follow_up) == [answer]
    assert index.replies_to(other_top) == []
    assert index.replies_to(later) == []  # asked after the answer


def test_youtube_thread_replies_answer_their_thread_only() -> None:
    a = _comment("youtube", "vid", "t1", "ann", 30, conversation_id="t1")
    b = _comment("youtube", "vid", "t2", "bob", 29, conversation_id="t2")
    answer = reply(a, "Thanks!", "en", in_reply_to="t1", conversation_id="t1")
    index = ReplyIndex.build([answer], [a, b])
    assert index.replies_to(a) == [answer]
    assert index.replies_to(b) == []


def test_dm_reply_answers_earlier_messages_of_its_conversation() -> None:
    first = message(channel="dm", conversation_id="dm1", created_at=ago(hours=30), native_id="d1")
    second = message(channel="dm", conversation_id="dm1", created_at=ago(hours=29), native_id="d2")
    elsewhere = message(channel="dm", conversation_id="dm2", created_at=ago(hours=29), native_id="d3")
    answer = reply(second, in_reply_to="d2", conversation_id="dm1")
    index = ReplyIndex.build([answer], [first, second, elsewhere])
    assert index.replies_to(first) == [answer]
    assert index.replies_to(second) == [answer]
    assert index.replies_to(elsewhere) == []


def test_x_reply_answers_its_tweet_and_the_same_authors_earlier_mentions_only() -> None:
    gwen1 = message(native_id="t1", author_id="gwen", conversation_id="conv", created_at=ago(hours=31))
    gwen2 = message(native_id="t2", author_id="gwen", conversation_id="conv", created_at=ago(hours=30))
    huw = message(native_id="t3", author_id="huw", conversation_id="conv", created_at=ago(hours=30.5))
    # X puts every handle of the thread in a reply's text: @huw does not make this an answer to Huw.
    answer = reply(gwen2, "@gwen @huw Ydy, tan 5yh.", in_reply_to="t2", conversation_id="conv")
    index = ReplyIndex.build([answer], [gwen1, gwen2, huw])
    assert index.replies_to(gwen2) == [answer]
    assert index.replies_to(gwen1) == [answer]
    assert index.replies_to(huw) == []


@pytest.mark.parametrize(
    ("text", "answered"),
    [
        ("@ann yes, it opens at 10.", True),
        ("Ann Jones: yes, it opens at 10.", True),  # a Facebook tag: the name without the @
        ("Yes, it opens at 10.", False),
        ("@annabel yes.", False),
    ],
)
def test_a_top_level_comment_mentioning_the_asker_answers_them(text: str, answered: bool) -> None:
    ask = _comment("facebook", "post-1", "c1", "ann", 30, author_name="Ann Jones")
    ask = ask.__class__(**{**ask.__dict__, "author_id": "ann"})
    top_level = reply(ask, text, "en", in_reply_to="post-1", conversation_id="post-1")
    assert (ReplyIndex.build([top_level], [ask]).replies_to(ask) != []) is answered


def test_a_mention_before_the_question_does_not_answer_it() -> None:
    ask = _comment("facebook", "post-1", "c1", "ann", 30)
    earlier = ask.created_at - timedelta(hours=1)
    early = reply(ask, "@ann welcome!", "en", in_reply_to="post-1", created_at=earlier)
    assert ReplyIndex.build([early], [ask]).replies_to(ask) == []
