"""Working-time arithmetic: an account's monitoring hours in its zone, minus bank holidays and closures.

Reply SLAs count only the time an account is staffed. `WorkingTime.add(start, duration)` is the
instant an SLA that starts at `start` runs out; `WorkingTime.between(a, b)` is the working time
that passed between two instants (the digest's median reply time).

Intervals are built per local calendar day from the weekly windows and converted to UTC, so a
window such as 09:00-17:00 stays 8 hours on the days the clocks change, while a 24/7 account's
day is 23 hours on the last Sunday of March and 25 on the last Sunday of October.
An account with no registered hours (a registry gap) is treated as Mon-Fri 09:00-17:00; callers
say so in what they report (`WorkingTime.assumed`). A 24/7 account skips nothing, not even bank
holidays: it says it is always watched.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from monitor.config import Account, Calendar, Config
from monitor.hours import WeeklyHours, parse_hours

DEFAULT_HOURS: WeeklyHours = parse_hours("Mon-Fri 09:00-17:00")
_END_OF_DAY = time(23, 59, 59, 999999)
# How far `add` searches for working time before deciding there is none (a closure of a year).
_MAX_SEARCH_DAYS = 800

Interval = tuple[datetime, datetime]


@lru_cache(maxsize=64)
def holiday_dates(calendar: str, year: int) -> frozenset[date]:
    """Bank holidays of one calendar ("GB-WLS": country GB, subdivision WLS) in one year; cached."""
    country, _, subdivision = calendar.partition("-")
    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None, years=year).keys())


class WorkingTime:
    """Monitoring hours of one account as a calendar of UTC intervals."""

    def __init__(
        self,
        hours: WeeklyHours | None,
        tz: ZoneInfo | str = "Europe/London",
        holidays: str | None = "GB-WLS",
        closures: Iterable[date] = (),
    ):
        self.assumed = hours is None
        self.hours = DEFAULT_HOURS if hours is None else hours
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.calendar = holidays
        self.closures = frozenset(closures)
        self._by_weekday: dict[int, list[tuple[time, time]]] = {}
        for window in self.hours.windows:
            self._by_weekday.setdefault(window.weekday, []).append((window.start, window.end))
        for windows in self._by_weekday.values():
            windows.sort()
        self._day_cache: dict[date, tuple[Interval, ...]] = {}

    # -- the calendar -------------------------------------------------------------------------

    def is_day_off(self, day: date) -> bool:
        """A bank holiday or a closure day (never for a 24/7 account)."""
        if self.hours.always:
            return False
        if day in self.closures:
            return True
        return self.calendar is not None and day in holiday_dates(self.calendar, day.year)

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        """The UTC intervals of working time on one local calendar day."""
        cached = self._day_cache.get(day)
        if cached is not None:
            return cached
        if self.hours.always:
            spans = [(time(0, 0), _END_OF_DAY)]
        elif self.is_day_off(day):
            spans = []
        else:
            spans = self._by_weekday.get(day.weekday(), [])
        intervals = tuple(self._to_utc(day, start, end) for start, end in spans)
        self._day_cache[day] = intervals
        return intervals

    def _to_utc(self, day: date, start: time, end: time) -> Interval:
        begin = datetime.combine(day, start, tzinfo=self.tz).astimezone(UTC)
        if end == _END_OF_DAY:  # "until midnight": the start of the next local day
            finish = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=self.tz).astimezone(UTC)
        else:
            finish = datetime.combine(day, end, tzinfo=self.tz).astimezone(UTC)
        return begin, finish

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    # -- arithmetic ---------------------------------------------------------------------------

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant when `duration` of working time has passed since `start`."""
        _require_aware(start)
        remaining = duration
        day = self._local_date(start)
        for _ in range(_MAX_SEARCH_DAYS):
            for begin, finish in self.intervals_on(day):
                if finish <= start:
                    continue
                begin = max(begin, start)
                available = finish - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += timedelta(days=1)
        raise ValueError(f"no working time within {_MAX_SEARCH_DAYS} days of {start.isoformat()}")

    def between(self, a: datetime, b: datetime) -> timedelta:
        """Working time elapsed from `a` to `b` (zero if `b` is not after `a`)."""
        _require_aware(a)
        _require_aware(b)
        if b <= a:
            return timedelta(0)
        total = timedelta(0)
        day, last = self._local_date(a), self._local_date(b)
        while day <= last:
            for begin, finish in self.intervals_on(day):
                overlap = min(finish, b) - max(begin, a)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total

    def is_working(self, instant: datetime) -> bool:
        intervals = self.intervals_on(self._local_date(instant))
        return any(begin <= instant < finish for begin, finish in intervals)

    def describe(self) -> str:
        text = self.hours.describe()
        return f"{text} (assumed: no hours registered)" if self.assumed else text


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None:
        raise ValueError("working time needs timezone-aware datetimes")


def for_account(account: Account, config: Config) -> WorkingTime:
    """The WorkingTime of a config Account under a Config (its zone, bank holidays, closures)."""
    return WorkingTime(
        account.hours,
        config.account_tz(account),
        config.calendar.bank_holidays,
        closure_days(tuple(config.calendar.closures)),
    )


@lru_cache(maxsize=8)
def closure_days(entries: tuple[str, ...]) -> frozenset[date]:
    """Configured closure days ("2025-12-24" or "2025-12-24..2026-01-02"), expanded; cached."""
    return frozenset(Calendar(closures=list(entries)).closure_days())
