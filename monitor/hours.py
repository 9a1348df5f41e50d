"""Monitoring hours: as the registry writes them, and as a profile states them in prose.

The registry writes "Mon-Fri 09:00-17:00; Sat 10:00-12:00" or "24/7" (`parse_hours`).

A profile's text is read by `parse_stated_hours`, which knows English and Welsh ways of writing hours:

- days: "Mon-Fri", "Monday to Friday", "Mon–Fri", "weekdays", "Llun-Gwener",
  "dydd Llun i ddydd Gwener", "yn ystod yr wythnos", "every day" / "bob dydd";
- times: "9am-5pm", "9.30am to 4:30pm", "9:00-17:00", "9yb-5yh", "9-5" (next to days only);
- always: "24/7", "24 awr".

Each time range belongs to the days written just before it (or just after it, "9am-5pm Mon-Fri").
`compare` says how what a profile states differs from the registry's `WeeklyHours`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time
from typing import cast

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


# --- hours stated in a profile's prose -----------------------------------------------------

_END_OF_DAY = time(23, 59, 59, 999999)

_DAY_WORDS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        "monday mon llun",
        "tuesday tues tue mawrth maw",
        "wednesday weds wed mercher mer",
        "thursday thurs thur thu iau",
        "friday fri gwener gwe",
        "saturday sat sadwrn sad",
        "sunday sun sul",
    )
):
    for _name in _names.split():
        _DAY_WORDS[_name] = _index
# Day words that are also ordinary words ("Llun" is a picture, "sun", "sad"): only days in a range,
# after "dydd", or just before a time.
_UNAMBIGUOUS_DAYS = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "mon", "tues", "tue", "weds", "thurs", "thur", "thu", "fri", "gwener", "sadwrn", "mercher",
}  # fmt: skip

_DAY = r"(?:d?dydd\s+)?(?:" + "|".join(sorted(_DAY_WORDS, key=len, reverse=True)) + r")\b\.?"
_TO = r"\s*(?:-|–|—|to|till|until|through|thru|i|tan|hyd at|hyd)\s*"
_CLOCK = (
    r"(?:\d{1,2}(?:[:.]\d{2})?\s*(?:a\.?m\.?|p\.?m\.?|y\.?b\.?|y\.?h\.?)?"
    r"|noon|midday|midnight|hanner dydd|canol dydd|hanner nos)"
)
_TOKENS = re.compile(
    r"(?P<always>24\s*/\s*7|24\s*awr|24 hours a day|round the clock|rownd y cloc)"
    r"|(?P<weekdays>week\s*days?|weekdays|yn ystod yr wythnos"
    r"|dyddiau(?:'r| gwaith| yr)? wythnos|dyddiau gwaith)"
    r"|(?P<everyday>every\s*day|daily|7 days a week|seven days a week|bob dydd|saith diwrnod yr wythnos)"
    r"|(?P<weekend>weekends?|penwythnos(?:au)?)"
    rf"|(?P<dayrange>(?<!\w)(?P<d1>{_DAY}){_TO}(?P<d2>{_DAY}))"
    rf"|(?P<timerange>(?<![\w:.])(?P<t1>{_CLOCK}){_TO}(?P<t2>{_CLOCK})(?![\w:]))"
    rf"|(?P<day>(?<!\w){_DAY})",
    re.IGNORECASE,
)
_CONTEXT_WORDS = re.compile(
    r"monitor|hours|oriau|open|agor|staffed|ar gael|available|reply|ateb", re.IGNORECASE
)


@dataclass
class StatedHours:
    """What a profile says about its hours, as (weekday, start, end) windows."""

    windows: set[tuple[int, time, time]] = field(default_factory=set)
    times_without_days: set[tuple[time, time]] = field(default_factory=set)
    days_without_times: set[int] = field(default_factory=set)
    always: bool = False

    @property
    def found(self) -> bool:
        return bool(self.always or self.windows or self.times_without_days or self.days_without_times)


def _day_index(text: str) -> int:
    word = re.sub(r"^d?dydd\s+", "", text.strip().lower()).rstrip(".")
    return _DAY_WORDS[word]


def _day_span(first: int, last: int) -> set[int]:
    if first <= last:
        return set(range(first, last + 1))
    return set(range(first, 7)) | set(range(0, last + 1))


def _clock(text: str) -> tuple[int, int, str | None]:
    """(hour, minute, "am"|"pm"|None); noon and midnight become 12:00 pm / 24:00."""
    raw = text.strip().lower()
    if raw in ("noon", "midday", "hanner dydd", "canol dydd"):
        return 12, 0, "pm"
    if raw in ("midnight", "hanner nos"):
        return 24, 0, None
    match = re.match(r"(\d{1,2})(?:[:.](\d{2}))?\s*(.*)$", raw)
    if not match:
        raise ValueError(text)
    suffix = match[3].replace(".", "")
    meridiem = "am" if suffix in ("am", "yb") else "pm" if suffix in ("pm", "yh") else None
    return int(match[1]), int(match[2] or 0), meridiem


def _to_time(hour: int, minute: int, meridiem: str | None) -> int:
    """Minutes after midnight."""
    if meridiem == "am":
        hour = hour % 12
    elif meridiem == "pm":
        hour = hour % 12 + 12
    return hour * 60 + minute


def parse_time_range(first: str, second: str) -> tuple[time, time] | None:
    h1, m1, s1 = _clock(first)
    h2, m2, s2 = _clock(second)
    if s1 is None and s2 is not None and h1 <= 12:
        # "9-5pm": the end's meridiem applies to the start when that keeps the range in order.
        s1 = s2 if _to_time(h1, m1, s2) < _to_time(h2, m2, s2) else "am"
    start, end = _to_time(h1, m1, s1), _to_time(h2, m2, s2)
    if s1 is None and s2 is None and end <= start and h2 < 12:
        end += 12 * 60  # "9-5" means 9 until 5 in the afternoon
    if not (0 <= start < 24 * 60) or not (0 < end <= 24 * 60) or end <= start:
        return None
    end_time = _END_OF_DAY if end == 24 * 60 else time(end // 60, end % 60)
    return time(start // 60, start % 60), end_time


def parse_stated_hours(text: str) -> StatedHours:
    """Find monitoring hours written in a profile, in English or Welsh."""
    tokens: list[tuple[str, object]] = []
    for match in _TOKENS.finditer(text or ""):
        kind = match.lastgroup
        if match["always"]:
            tokens.append(("always", None))
        elif match["weekdays"]:
            tokens.append(("days", set(range(5))))
        elif match["everyday"]:
            tokens.append(("days", set(range(7))))
        elif match["weekend"]:
            tokens.append(("days", {5, 6}))
        elif match["dayrange"]:
            tokens.append(("days", _day_span(_day_index(match["d1"]), _day_index(match["d2"]))))
        elif match["timerange"]:
            parsed = parse_time_range(match["t1"], match["t2"])
            bare = not re.search(r"[:.apy]|noon|mid|hanner|canol", match["timerange"], re.IGNORECASE)
            if parsed:
                tokens.append(("bare" if bare else "times", parsed))
        elif match["day"]:
            word = match["day"].lower()
            explicit = "dydd" in word or word.rstrip(".") in _UNAMBIGUOUS_DAYS
            tokens.append(("day" if explicit else "weakday", {_day_index(match["day"])}))
        del kind
    return _assemble(tokens, text or "")


def _assemble(tokens: list[tuple[str, object]], text: str) -> StatedHours:
    stated = StatedHours()
    has_days = any(kind in ("days", "day", "weakday") for kind, _ in tokens)
    # A bare "9-5" counts only in a text that also speaks of days or of monitoring.
    keep_bare = has_days or bool(_CONTEXT_WORDS.search(text))
    merged: list[tuple[str, object]] = []
    for index, (kind, value) in enumerate(tokens):
        if kind == "bare":
            if not keep_bare:
                continue
            kind = "times"
        if kind == "weakday":
            next_kind = tokens[index + 1][0] if index + 1 < len(tokens) else ""
            if next_kind not in ("times", "bare"):
                continue
            kind = "day"
        if kind == "day":
            kind = "days"
        if kind == "days" and merged and merged[-1][0] == "days":
            merged[-1] = ("days", merged[-1][1] | value)  # type: ignore[operator]
            continue
        merged.append((kind, value))
    used_days: set[int] = set()
    relevant = [kind for kind, _ in merged if kind in ("times", "days")]
    # "9am-5pm weekdays, 10am-4pm weekends": when the text opens with times, days follow their times.
    days_follow = relevant[:2] == ["times", "days"]
    for index, (kind, value) in enumerate(merged):
        if kind == "always":
            stated.always = True
        if kind != "times":
            continue
        start, end = cast(tuple[time, time], value)
        before = index - 1 if index > 0 and merged[index - 1][0] == "days" else None
        after = index + 1 if index + 1 < len(merged) and merged[index + 1][0] == "days" else None
        order = (after, before) if days_follow else (before, after)
        chosen = next((i for i in order if i is not None and i not in used_days), None)
        if chosen is None:
            chosen = next((i for i in order if i is not None), None)
        if chosen is None:
            stated.times_without_days.add((start, end))
            continue
        used_days.add(chosen)
        stated.windows.update((day, start, end) for day in cast(set[int], merged[chosen][1]))
    if not stated.windows and not stated.times_without_days:
        for index, (kind, value) in enumerate(merged):
            if kind == "days" and index not in used_days:
                stated.days_without_times |= cast(set[int], value)
    return stated


def registry_windows(hours: WeeklyHours) -> set[tuple[int, time, time]]:
    return {(w.weekday, w.start, w.end) for w in hours.windows}


def compare(stated: StatedHours, hours: WeeklyHours) -> str | None:
    """None when the profile agrees with the registry, else what differs."""
    if stated.always or hours.always:
        if stated.always and hours.always and not stated.windows:
            return None
        return f"the profile states {describe(stated)} but the registry says {hours.describe()}"
    registry = registry_windows(hours)
    problems = []
    if stated.windows and stated.windows != registry:
        problems.append(f"the profile states {describe(stated)} but the registry says {hours.describe()}")
    if stated.times_without_days:
        registry_times = {(start, end) for _, start, end in registry}
        if stated.times_without_days != registry_times:
            problems.append(f"the profile states {describe(stated)} but the registry says {hours.describe()}")
    if stated.days_without_times and stated.days_without_times != hours.days():
        problems.append(f"the profile states {describe(stated)} but the registry says {hours.describe()}")
    return problems[0] if problems else None


_DAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _hhmm(value: time) -> str:
    return "24:00" if value == _END_OF_DAY else f"{value:%H:%M}"


def describe(stated: StatedHours) -> str:
    if stated.always:
        return "24/7"
    parts = []
    by_times: dict[tuple[time, time], list[int]] = {}
    for day, start, end in sorted(stated.windows):
        by_times.setdefault((start, end), []).append(day)
    for (start, end), days in by_times.items():
        parts.append(f"{_days_text(days)} {_hhmm(start)}-{_hhmm(end)}")
    parts.extend(f"{_hhmm(s)}-{_hhmm(e)} (no days)" for s, e in sorted(stated.times_without_days))
    if stated.days_without_times:
        parts.append(f"{_days_text(sorted(stated.days_without_times))} (no times)")
    return "; ".join(parts)


def _days_text(days: list[int]) -> str:
    if days and days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        return f"{_DAY_ABBR[days[0]]}-{_DAY_ABBR[days[-1]]}"
    return ",".join(_DAY_ABBR[d] for d in days)


# What a statement of hours is made of; profile-hours strips it to look for a stated purpose.
HOURS_TOKENS = _TOKENS
