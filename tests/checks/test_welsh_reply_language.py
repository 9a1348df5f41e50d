from __future__ import annotations

from dataclasses import replace

import pytest
from check_factories import context, message, reply

from checks.welsh_reply_language import WelshReplyLanguageCheck

CHECK = WelshReplyLanguageCheck()


@pytest.mark.parametrize(
    ("case", "message_language", "reply_languages", "expected"),
    [
        ("Welsh answered in Welsh", "cy", ["cy"], False),
        ("Welsh answered bilingually", "cy", ["cy+en"], False),
        ("Welsh answered in English", "cy", ["en"], True),
        ("Welsh answered in English, then in Welsh", "cy", ["en", "cy"], False),
        ("Welsh answered in another language", "cy", ["other"], True),
        ("Welsh answered with an emoji only", "cy", ["unknown"], False),
        ("bilingual message answered in English", "cy+en", ["en"], True),
        ("English answered in English", "en", ["en"], False),
        ("Welsh not answered (welsh-unanswered's business)", "cy", [], False),
    ],
)
def test_reply_language_table(
    case: str, message_language: str, reply_languages: list[str], expected: bool
) -> None:
    m = message(language=message_language, is_enquiry=False)
    replies = [
        reply(m, language=lang, created_at=m.created_at.replace(minute=i))
        for i, lang in enumerate(reply_languages)
    ]
    findings = CHECK.evaluate(context(messages=[m], replies=replies))
    assert bool(findings) is expected, case
    if expected:
        (finding,) = findings
        assert finding.since == replies[0].created_at and finding.severity == "high"
        assert "Send a reply in Welsh" in finding.detail


def test_resolves_when_a_welsh_reply_arrives() -> None:
    m = message()
    english = reply(m, "Open till 5pm", "en")
    assert CHECK.evaluate(context(messages=[m], replies=[english]))
    welsh = reply(m, "Ar agor tan 5yh", "cy", created_at=english.created_at.replace(minute=59))
    ctx = context(messages=[m], replies=[english, welsh])
    assert CHECK.evaluate(ctx) == []
    assert CHECK.resolution_reason(ctx, f"message:x:{m.native_id}").startswith("a reply in Welsh arrived")


def test_a_hidden_comment_is_not_judged_and_its_finding_resolves() -> None:
    m = message(platform="instagram", channel="comment", is_enquiry=False)
    english = reply(m, "Open till 5pm", "en")
    assert CHECK.evaluate(context(messages=[m], replies=[english]))
    ctx = context(messages=[replace(m, hidden=True)], replies=[english])
    assert CHECK.evaluate(ctx) == []
    assert CHECK.resolution_reason(ctx, f"message:instagram:{m.native_id}") == "the comment was hidden"
