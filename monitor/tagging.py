"""Language and enquiry tags, given once per poll to everything a connector fetched.

Connectors return records with the platform's facts only; `tag_result` labels the language of
each post, message, reply and profile (`monitor.language.classify`) and marks which messages
are enquiries: every direct message (the policy asks for a prompt answer to each), and a comment,
reply or mention that asks a question or requests something in its own language.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

from monitor import language
from monitor.models import FetchResult, Message, Post, ProfileSnapshot, Reply

T = TypeVar("T", Post, Message, Reply)


def tag_text(record: T) -> T:
    """The record with the language of its text and that label's confidence."""
    detection = language.classify(record.text or "")
    return replace(record, language=detection.label, language_confidence=float(detection.confidence))


def tag_message(message: Message) -> Message:
    tagged = tag_text(message)
    enquiry = tagged.channel == "dm" or language.is_enquiry(tagged.text or "", tagged.language)
    return replace(tagged, is_enquiry=bool(enquiry))


def tag_profile(profile: ProfileSnapshot) -> ProfileSnapshot:
    """The snapshot with its language and the languages of its segments (a Welsh line counts)."""
    detection = language.classify(profile.text or "")
    return replace(
        profile,
        language=detection.label,
        language_confidence=float(detection.confidence),
        languages=tuple(dict.fromkeys(s.label for s in detection.segments)),
    )


def tag_result(result: FetchResult) -> FetchResult:
    """Tag everything in `result` in place (the result is the poll's own); returns it."""
    result.posts = [tag_text(p) for p in result.posts]
    result.messages = [tag_message(m) for m in result.messages]
    result.replies = [tag_text(r) for r in result.replies]
    if result.profile is not None:
        result.profile = tag_profile(result.profile)
    return result
