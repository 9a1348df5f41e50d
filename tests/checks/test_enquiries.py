"""welsh-unanswered and response-time: enquiries unanswered past the reply SLA in monitoring hours."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from check_factories import NOW, account, ago, context, message, reply

from checks.response_time import ResponseTimeCheck
from checks.welsh_unanswered import WelshUnansweredCheck

WELSH = WelshUnansweredCheck()
ANY = ResponseTimeCheck()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("case", "build", "welsh_expected", "any_expected"),
    [
        ("Welsh question, no reply, SLA passed", lambda: ([message()], []), True, True),
        (
            "English question, no reply",
            lambda: ([message("When is the library open?", "en")], []),
            False,
            True,
        ),
        ("bilingual question counts as Welsh", lambda: ([message("Pryd? / When?", "cy+en")], []), True, True),
        ("not an enquiry", lambda: ([message("Diolch!", is_enquiry=False)], []), False, False),
        (
            "every DM is an enquiry",
            lambda: ([message("Helo", channel="dm", is_enquiry=False)], []),
            True,
            True,
        ),
        ("answered", lambda: (lambda m: ([m], [reply(m)]))(message()), False, False),
        (
            "answered in English still answered",
            lambda: (lambda m: ([m], [reply(m, "Open till 5", "en")]))(message()),
            False,
            False,
        ),
        ("SLA not yet passed", lambda: ([message(created_at=ago(hours=1))], []), False, False),
        ("the account's own comment", lambda: ([message(author_id="DeptX")], []), False, False),
        (
            "a comment the moderators hid is no enquiry",
            lambda: ([message(platform="facebook", channel="comment", hidden=True)], []),
            False,
            False,
        ),
        (
            "a hidden Instagram reply neither",
            lambda: ([message("When?", "en", platform="instagram", channel="reply", hidden=True)], []),
            False,
            False,
        ),
    ],
)
def test_unanswered_table(case: str, build, welsh_expected: bool, any_expected: bool) -> None:  # type: ignore[no-untyped-def]
    messages, replies = build()
    ctx = context(messages=messages, replies=replies)
    assert bool(WELSH.evaluate(ctx)) is welsh_expected, case
    assert bool(ANY.evaluate(ctx)) is any_expected, case


def test_since_is_when_the_sla_ran_out_in_working_time() -> None:
    # Asked Friday 6 June 2025 at 15:30 BST; 4 h SLA in Mon-Fri 09:00-17:00 runs out Monday 11:30 BST.
    asked = utc(2025, 6, 6, 14, 30)
    ctx = context(messages=[message(created_at=asked)], now=utc(2025, 6, 9, 10, 31))
    (finding,) = WELSH.evaluate(ctx)
    assert finding.since == utc(2025, 6, 9, 10, 30)
    assert finding.severity == "high" and finding.subject.startswith("message:x:")
    assert "Pryd" in finding.detail and "Reply to it" in finding.detail
    # Says what the allowance was and when it ran out, not that the wait was only 4 h.
    assert "has had no reply; the policy allows 4 h of monitoring hours" in finding.detail
    assert "so it was due by Mon 9 Jun 11:30" in finding.detail
    # One minute before the deadline: nothing yet.
    assert WELSH.evaluate(context(messages=[message(created_at=asked)], now=utc(2025, 6, 9, 10, 29))) == []
    (warning,) = ANY.evaluate(ctx)
    assert warning.severity == "warning" and warning.since == finding.since


def test_bank_holiday_and_clock_change_stop_the_clock() -> None:
    # Friday 24 Oct 2025 16:00 BST (15:00 UTC); clocks go back Sunday 26th; Monday 09:00 GMT = 09:00 UTC.
    asked = utc(2025, 10, 24, 15)
    (finding,) = WELSH.evaluate(context(messages=[message(created_at=asked)], now=utc(2025, 10, 28)))
    assert finding.since == utc(2025, 10, 27, 12)
    # Thursday before Easter 2025 (17 April) 16:00 BST: Good Friday and Easter Monday are bank holidays.
    asked = utc(2025, 4, 17, 15)
    (finding,) = WELSH.evaluate(context(messages=[message(created_at=asked)], now=utc(2025, 4, 23)))
    assert finding.since == utc(2025, 4, 22, 11)  # Tuesday 12:00 BST


def test_account_reply_sla_override_and_no_hours_assumed() -> None:
    asked = NOW - timedelta(hours=2)  # 11:00 BST, same day
    assert WELSH.evaluate(context(account(reply_sla="1h"), messages=[message(created_at=asked)]))
    assert not WELSH.evaluate(context(account(), messages=[message(created_at=asked)]))
    (finding,) = WELSH.evaluate(context(account(monitoring_hours=None), messages=[message()]))
    assert "assumed" in finding.detail


@pytest.mark.parametrize(
    ("case", "msg_kwargs", "reply_kwargs", "answered"),
    [
        ("reply to the message itself", {}, {}, True),
        (
            "reply in the same DM conversation",
            {"channel": "dm", "conversation_id": "c1"},
            {"in_reply_to": "", "conversation_id": "c1"},
            True,
        ),
        (
            "DM reply before the message does not count",
            {"channel": "dm", "conversation_id": "c1"},
            {"in_reply_to": "", "conversation_id": "c1", "created_at": ago(hours=40)},
            False,
        ),
        (
            "reply under the same parent comment",
            {"channel": "reply", "in_reply_to": "c-parent"},
            {"in_reply_to": "c-parent"},
            True,
        ),
        (
            "a top-level comment is not answered by a reply to the post",
            {"channel": "comment", "in_reply_to": "post-1"},
            {"in_reply_to": "post-1"},
            False,
        ),
        ("reply to another message", {}, {"in_reply_to": "someone-else"}, False),
    ],
)
def test_what_counts_as_a_reply(case: str, msg_kwargs: dict, reply_kwargs: dict, answered: bool) -> None:  # type: ignore[type-arg]
    m = message(**msg_kwargs)
    r = reply(m, **reply_kwargs)
    findings = WELSH.evaluate(context(messages=[m], replies=[r]))
    assert (findings == []) is answered, case


def test_resolution_reason_names_the_reply() -> None:
    m = message()
    ctx = context(messages=[m], replies=[reply(m)])
    subject = f"message:x:{m.native_id}"
    assert WELSH.resolution_reason(ctx, subject).startswith("a reply in Welsh arrived")
    assert "no longer stored" in WELSH.resolution_reason(context(), subject)


def test_a_finding_resolves_when_the_comment_is_hidden() -> None:
    asked = message(platform="facebook", channel="comment")
    subject = f"message:facebook:{asked.native_id}"
    assert WELSH.evaluate(context(messages=[asked])) and ANY.evaluate(context(messages=[asked]))
    hidden = context(messages=[replace(asked, hidden=True)])
    assert WELSH.evaluate(hidden) == [] and ANY.evaluate(hidden) == []
    assert WELSH.resolution_reason(hidden, subject) == "the comment was hidden"
    assert ANY.resolution_reason(hidden, subject) == "the comment was hidden"
