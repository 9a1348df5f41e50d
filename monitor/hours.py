"""Monitoring hours as the registry writes them: "Mon-Fri 09:00-17:00; Sat 10:00-12:00" or "24/7"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES = {d: i for i, d in enumerate(DAYS)} | {
    "monday": 0,
    "tuesday": 1,
    "tues": 1,
    "wednesday": 2,
    "thursday": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_CLAUSE = re.compile(
    r"^(?P<days>[A-Za-z]+(?:\s*-\s*[A-Za-z]+)?(?:\s*,\s*[A-Za-z]+(?:\s*-\s*[A-Za-z]+)?)*)\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$"
)


@dataclass(frozen=True)
class Window:
    weekday: int  # 0 = Monday
    start: time
    end: time  # exclusive; time.max-like 24:00 is stored as time(23, 59, 59, 999999)


@dataclass(frozen=True)
class WeeklyHours:
    windows: tuple[Window, ...]
    always: bool = False
    source: str = ""

    def days(self) -> set[int]:
        return set(range(7)) if self.always else {w.weekday for w in self.windows}

    def describe(self) -> str:
        return "24/7" if self.always else self.source


def _parse_time(text: str) -> time:
    hours, minutes = (int(p) for p in text.split(":"))
    if hours == 24 and minutes == 0:
        return time(23, 59, 59, 999999)
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(f"{text!r} is not a time of day")
    return time(hours, minutes)


def _parse_days(text: str) -> list[int]:
    days: list[int] = []
    for part in text.split(","):
        ends = [p.strip().lower() for p in part.split("-")]
        try:
            idx = [_DAY_ALIASES[e] for e in ends]
        except KeyError as exc:
            raise ValueError(f"unknown day {exc.args[0]!r} (use Mon, Tue, Wed, Thu, Fri, Sat, Sun)") from None
        if len(idx) == 1:
            days.append(idx[0])
        else:
            first, last = idx
            span = range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]
            days.extend(span)
    return days


def parse_hours(text: str) -> WeeklyHours:
    """Parse a monitoring-hours entry; raises ValueError naming what is wrong."""
    source = text.strip()
    if source.lower() in {"24/7", "always"}:
        return WeeklyHours(windows=(), always=True, source="24/7")
    if not source:
        raise ValueError("monitoring hours are empty")
    windows: list[Window] = []
    for clause in (c.strip() for c in source.split(";")):
        if not clause:
            continue
        match = _CLAUSE.match(clause)
        if not match:
            raise ValueError(f"{clause!r} is not like 'Mon-Fri 09:00-17:00'")
        start, end = _parse_time(match["start"]), _parse_time(match["end"])
        if end <= start:
            raise ValueError(f"{clause!r}: hours must end after they start")
        for day in _parse_days(match["days"]):
            _refuse_overlap(windows, Window(day, start, end))
            windows.append(Window(day, start, end))
    if not windows:
        raise ValueError("monitoring hours name no days (write e.g. 'Mon-Fri 09:00-17:00' or '24/7')")
    return WeeklyHours(windows=tuple(windows), source=source)


def _refuse_overlap(windows: list[Window], new: Window) -> None:
    # Overlapping windows would count the shared time twice in working-time arithmetic.
    for old in windows:
        if old.weekday == new.weekday and new.start < old.end and old.start < new.end:
            day = DAYS[new.weekday].capitalize()
            raise ValueError(f"{day} is listed twice with overlapping hours")
