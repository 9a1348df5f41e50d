"""Alert channels that keep timing out are marked broken and reported to operations.

A channel whose server accepts connections and never answers costs its whole timeout per try. The
outbox delivers each channel on its own thread, so such a channel delays only itself; this module
counts its consecutive timeouts (`channel_health`), marks it broken after BROKEN_AFTER of them,
tells operations once a day through the other channels, and clears the mark on the next delivery.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from monitor.config import Config
from monitor.db import ChannelHealthRow
from monitor.logs import get_logger, redact

BROKEN_AFTER = 3  # consecutive timeouts
log = get_logger(component="outbox")


def timed_out(error: BaseException | None) -> bool:
    """Whether a delivery failed by timing out (the notifier's own error keeps the cause as context)."""
    from requests.exceptions import Timeout

    seen = error
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, TimeoutError | Timeout):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def note_delivered(store: Any, channel: str, now: datetime) -> None:
    """A delivery went through: the channel is healthy (one cheap UPDATE only when it was not)."""
    with store.session() as session:
        changed = session.execute(
            update(ChannelHealthRow)
            .where(
                ChannelHealthRow.channel == channel,
                or_(ChannelHealthRow.consecutive_timeouts > 0, ChannelHealthRow.broken_since.is_not(None)),
            )
            .values(consecutive_timeouts=0, broken_since=None, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    if changed:
        log.info("channel_recovered", channel=channel)


def note_timeout(config: Config, store: Any, channel: str, error: str, now: datetime) -> bool:
    """Count a timeout; returns True when this one marked the channel broken (and told operations)."""
    error = redact(error)[:500]
    with store.session() as session:
        row = session.get(ChannelHealthRow, channel)
        if row is None:
            row = ChannelHealthRow(channel=channel, consecutive_timeouts=0, updated_at=now)
            session.add(row)
        row.consecutive_timeouts = (row.consecutive_timeouts or 0) + 1
        row.last_error = error
        row.updated_at = now
        newly_broken = row.broken_since is None and row.consecutive_timeouts >= BROKEN_AFTER
        if newly_broken:
            row.broken_since = now
            _report(config, session, channel, row.consecutive_timeouts, error, now)
    if newly_broken:
        log.error("channel_broken", channel=channel, timeouts=BROKEN_AFTER, error=error)
    return newly_broken


def broken_channels(session: Session) -> dict[str, datetime]:
    """Channels marked broken, with since when (for `status`)."""
    rows = session.execute(
        select(ChannelHealthRow.channel, ChannelHealthRow.broken_since).where(
            ChannelHealthRow.broken_since.is_not(None)
        )
    ).all()
    return {channel: since for channel, since in rows if since is not None}


def _report(config: Config, session: Session, channel: str, timeouts: int, error: str, now: datetime) -> None:
    from monitor.routing import enqueue_alert

    route = config.alerts.routes.get("operations")
    others = [c for c in (route.channels if route else []) if c != channel]
    if not others:
        log.error("channel_broken_unreported", channel=channel, detail="no other operations channel")
        return
    enqueue_alert(
        session,
        config,
        "operations",
        "operations",
        "high",
        f"[HIGH] Alert channel {channel!r} keeps timing out and is marked broken",
        f"The last {timeouts} deliveries through channel {channel!r} got no answer in time. Alerts for "
        "the other channels are delivered as usual; this channel's alerts wait and are retried. Check "
        "the server behind it.",
        now=now,
        facts=[("Channel", channel), ("Last error", error)],
        kind="notice",
        dedup_key=f"channel-broken:{channel}:{now:%Y-%m-%d}",
        channels=others,
    )
