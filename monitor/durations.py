"""Durations written as `90s`, `15m`, `4h`, `7d`, `0.5s` (and combinations such as `1h30m`)."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_WHOLE = re.compile(r"^\s*(\d+(?:\.\d+)?\s*[smhdw]\s*)+$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_MAX_SECONDS = 3650 * 86400  # ten years: longer is a typo, and timedelta overflows not far beyond


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """Parse a duration; a bare number is seconds. Raises ValueError with a readable message."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 90s, 15m, 4h or 7d")
    if isinstance(value, int | float):
        if not -_MAX_SECONDS <= value <= _MAX_SECONDS:  # also rejects NaN
            raise ValueError(f"{value!r} is out of range for a duration")
        return timedelta(seconds=value)
    text = str(value).strip().lower()
    if not _WHOLE.match(text):
        raise ValueError(f"{value!r} is not a duration (use e.g. 90s, 15m, 4h, 7d)")
    seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(text))
    if seconds > _MAX_SECONDS:
        raise ValueError(f"{value!r} is too long (at most 3650d)")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """The shortest exact form: 900s -> 15m, 90s -> 90s, 0.5s -> 0.5s."""
    total = delta.total_seconds()
    if total != int(total):
        return f"{total:g}s"
    seconds = int(total)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
