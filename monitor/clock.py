"""Time helpers every part shares: the clock, aware datetimes, Retry-After, durations people read."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

_DELAY_SECONDS = re.compile(r"\d+(?:\.\d+)?")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """An aware datetime: a naive one (SQLite hands them back) is taken to be UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_retry_after(value: object, now: datetime | None = None, cap: float | None = None) -> float | None:
    """Retry-After as seconds (RFC 9110: delay-seconds or an HTTP date), never negative, at most `cap`.

    None when there is no value or it is neither form.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if _DELAY_SECONDS.fullmatch(text):
        seconds = float(text)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = (as_utc(when) - (now or utcnow())).total_seconds()
    seconds = max(seconds, 0.0)
    return seconds if cap is None else min(seconds, cap)


def human_duration(value: timedelta | None) -> str:
    """A length of time as people read it: "45 min", "2 h 05 min"; "-" for none."""
    if value is None:
        return "-"
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
