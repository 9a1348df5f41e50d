"""welsh-reply-language: the account replied to a Welsh message, and no reply has Welsh in it.

A Welsh message is one detected as `cy` or `cy+en` (any channel, enquiry or not). The rule is met
by any reply to it detected as `cy` or `cy+en`. Replies detected as `unknown` (an emoji, a link)
carry no language either way and are not judged; a message answered only by such replies is no
finding. `since` is the time of the first reply without Welsh. A comment the account's moderators
hid is not judged.
"""

from __future__ import annotations

from checks.base import (
    HIDDEN_REASON,
    Check,
    CheckContext,
    ReplyIndex,
    excerpt,
    is_inbound,
    is_welsh,
    message_subject,
    subject_native_id,
    when,
)
from monitor.models import Finding, Reply

# Labels that show a reply was written in a language other than Welsh.
_NON_WELSH = frozenset({"en", "other"})


class WelshReplyLanguageCheck(Check):
    id = "welsh-reply-language"
    title = "Reply to a Welsh message has no Welsh"
    policy_section = (
        "Language Policy - “When replying to messages and enquiries written in Welsh, either public or "
        "private, the reply will be in Welsh”"
    )
    severity = "high"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        index = ReplyIndex.build(ctx.replies, ctx.messages, ctx.posts)
        findings = []
        for message in ctx.messages:
            if message.hidden or not is_welsh(message.language) or not is_inbound(message, ctx.account):
                continue
            replies = index.replies_to(message)
            if not replies or any(is_welsh(r.language) for r in replies):
                continue
            judged = [r for r in replies if r.language in _NON_WELSH]
            if not judged:
                continue
            first: Reply = judged[0]
            detail = (
                f"A Welsh {message.channel} ({when(message.created_at, ctx)}) {excerpt(message.text, 60)} "
                f"was answered without Welsh ({when(first.created_at, ctx)}: {excerpt(first.text, 60)}). "
                "Send a reply in Welsh."
            )
            subject = message_subject(message)
            findings.append(self.finding(ctx, subject, first.created_at, detail, url=message.url))
        return findings

    def resolution_reason(self, ctx: CheckContext, subject: str) -> str:
        native_id = subject_native_id(subject)
        message = next((m for m in ctx.messages if m.native_id == native_id), None)
        if message is None:
            return "the message is no longer stored (deleted, or older than the look-back)"
        replies = ReplyIndex.build(ctx.replies, ctx.messages, ctx.posts).replies_to(message)
        welsh = [r for r in replies if is_welsh(r.language)]
        if welsh:
            return f"a reply in Welsh arrived ({when(welsh[0].created_at, ctx)})"
        if message.hidden:
            return HIDDEN_REASON
        if not is_welsh(message.language):
            return "the message is no longer classed as Welsh"
        return "condition no longer holds"
