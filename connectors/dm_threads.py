"""Direct-message threading that X and Facebook share: which DM an account's message answers.

Both platforms give a conversation's messages without saying which one the account answered.
`DmThreads` reads them oldest first: a message from someone else is a `Message(channel="dm")`
and becomes the conversation's latest inbound; a message from the account is a `Reply` to that
latest inbound (none yet: it answers nothing we track). The latest inbound per conversation is
kept in the cursor (`dm_last_inbound`), so an answer in a later poll still finds its question;
it is bounded to the `MAX_TRACKED_CONVERSATIONS` most recent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.models import Message, Reply

MAX_TRACKED_CONVERSATIONS = 500
CURSOR_KEY = "dm_last_inbound"


@dataclass(frozen=True)
class DmEvent:
    """One message of a conversation, as a connector read it."""

    native_id: str
    conversation_id: str
    created_at: datetime
    text: str
    outbound: bool  # sent by the account itself
    author_id: str = ""
    author_name: str = ""
    url: str = ""


class DmThreads:
    def __init__(self, platform: str, account_id: str, cursor: dict[str, Any]) -> None:
        self.platform = platform
        self.account_id = account_id
        self.last_inbound: dict[str, str] = dict(cursor.get(CURSOR_KEY) or {})
        self.messages: list[Message] = []
        self.replies: list[Reply] = []

    def add(self, event: DmEvent, keep: bool = True) -> None:
        """Thread one event (call them oldest first); `keep=False` threads it without a record (too old)."""
        if event.outbound:
            answered = self.last_inbound.get(event.conversation_id)
            if answered and keep:
                self.replies.append(self._reply(event, answered))
            return
        self.last_inbound[event.conversation_id] = event.native_id
        if keep:
            self.messages.append(self._message(event))

    def save(self, cursor: dict[str, Any], recency: Callable[[str], Any] | None = None) -> None:
        """Store the latest inbound per conversation, the most recent `MAX_TRACKED_CONVERSATIONS` of them.

        `recency` orders message ids oldest first (X's ids grow with time); without it the
        conversations threaded last are kept.
        """
        tracked = self.last_inbound
        if len(tracked) > MAX_TRACKED_CONVERSATIONS:
            items = list(tracked.items())
            if recency is not None:
                items.sort(key=lambda kv: recency(kv[1]))
            tracked = dict(items[-MAX_TRACKED_CONVERSATIONS:])
        if tracked:
            cursor[CURSOR_KEY] = tracked

    def _message(self, event: DmEvent) -> Message:
        return Message(
            platform=self.platform,
            native_id=event.native_id,
            account_id=self.account_id,
            channel="dm",
            author_id=event.author_id,
            author_name=event.author_name,
            created_at=event.created_at,
            text=event.text,
            conversation_id=event.conversation_id,
            url=event.url,
        )

    def _reply(self, event: DmEvent, answered: str) -> Reply:
        return Reply(
            platform=self.platform,
            native_id=event.native_id,
            account_id=self.account_id,
            created_at=event.created_at,
            text=event.text,
            in_reply_to=answered,
            conversation_id=event.conversation_id,
        )
