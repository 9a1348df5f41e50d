"""Working time: SLA clocks count monitoring hours only, across weekends, bank holidays and clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.config import parse_config
from monitor.hours import parse_hours
from monitor.worktime import WorkingTime, for_account, holiday_dates

LONDON = ZoneInfo("Europe/London")
OFFICE = parse_hours("Mon-Fri 09:00-17:00")
H4 = timedelta(hours=4)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "sla", "expected", "why"),
    [
        (local(2025, 6, 3, 10), H4, local(2025, 6, 3, 14), "within one working day"),
        (local(2025, 6, 3, 15), H4, local(2025, 6, 4, 11), "runs over into the next morning"),
        (local(2025, 6, 3, 20), H4, local(2025, 6, 4, 13), "evening: clock starts at 9"),
        (local(2025, 6, 6, 16), H4, local(2025, 6, 9, 12), "Friday afternoon: over the weekend"),
        (local(2025, 6, 7, 12), H4, local(2025, 6, 9, 13), "asked on Saturday"),
        # Spring bank holiday, Monday 26 May 2025
        (local(2025, 5, 23, 16), H4, local(2025, 5, 27, 12), "weekend then bank holiday"),
        # St David's Day is not a bank holiday in Wales; Christmas and Boxing Day are
        (local(2025, 12, 24, 16), H4, local(2025, 12, 29, 12), "Christmas, Boxing Day, weekend"),
        (local(2025, 6, 3, 9), timedelta(hours=8), local(2025, 6, 3, 17), "exactly one day"),
        (local(2025, 6, 3, 12), timedelta(0), local(2025, 6, 3, 12), "zero duration"),
    ],
)
def test_add_counts_only_working_time(start: datetime, sla: timedelta, expected: datetime, why: str) -> None:
    assert WorkingTime(OFFICE, LONDON).add(start, sla) == expected, why


def test_add_across_spring_clock_change() -> None:
    # Last Sunday of March 2025 (30th): 01:00 GMT -> 02:00 BST. Friday 16:00 GMT (= UTC) leaves 1 h
    # on Friday; the other 3 h run from Monday 09:00 BST (08:00 UTC).
    worktime = WorkingTime(OFFICE, LONDON)
    due = worktime.add(utc(2025, 3, 28, 16), timedelta(hours=4))
    assert due == utc(2025, 3, 31, 11)  # 12:00 BST
    assert due.astimezone(LONDON).hour == 12


def test_add_across_autumn_clock_change() -> None:
    # Last Sunday of October 2025 (26th): 02:00 BST -> 01:00 GMT. Friday 16:00 BST = 15:00 UTC.
    worktime = WorkingTime(OFFICE, LONDON)
    due = worktime.add(utc(2025, 10, 24, 15), timedelta(hours=4))
    assert due == utc(2025, 10, 27, 12)  # 12:00 GMT
    assert due.astimezone(LONDON).hour == 12


def test_always_on_account_counts_the_short_and_long_sundays() -> None:
    always = WorkingTime(parse_hours("24/7"), LONDON)
    # Local midnight to midnight is 23 h on the spring Sunday and 25 h on the autumn one.
    assert always.between(local(2025, 3, 30), local(2025, 3, 31)) == timedelta(hours=23)
    assert always.between(local(2025, 10, 26), local(2025, 10, 27)) == timedelta(hours=25)
    # An SLA of 4 h over the spring change ends 4 real hours later.
    assert always.add(utc(2025, 3, 30, 0, 30), timedelta(hours=4)) == utc(2025, 3, 30, 4, 30)
    # 24/7 skips nothing, bank holidays included.
    assert always.add(local(2025, 12, 25, 10), timedelta(hours=4)) == local(2025, 12, 25, 14)


def test_weekend_hours_and_evening_window_through_midnight() -> None:
    hours = parse_hours("Mon-Fri 09:00-17:00; Sat 10:00-12:00; Sun 20:00-24:00")
    worktime = WorkingTime(hours, LONDON)
    assert worktime.add(local(2025, 6, 6, 16), timedelta(hours=3)) == local(2025, 6, 7, 12)  # Fri 1h Sat 2h
    assert worktime.add(local(2025, 6, 6, 16), timedelta(hours=4)) == local(2025, 6, 8, 21)  # and Sun 1 h
    assert worktime.between(local(2025, 6, 8, 19), local(2025, 6, 9, 10)) == timedelta(hours=5)


def test_between_is_the_inverse_of_add() -> None:
    worktime = WorkingTime(OFFICE, LONDON, closures={date(2025, 6, 4)})
    start = local(2025, 6, 2, 11, 30)
    for hours in (1, 5, 9, 20, 45):
        due = worktime.add(start, timedelta(hours=hours))
        assert worktime.between(start, due) == timedelta(hours=hours)
    assert worktime.between(local(2025, 6, 9), local(2025, 6, 2)) == timedelta(0)


def test_closure_days_are_skipped() -> None:
    worktime = WorkingTime(OFFICE, LONDON, closures={date(2025, 6, 4), date(2025, 6, 5)})
    assert worktime.add(local(2025, 6, 3, 16), timedelta(hours=2)) == local(2025, 6, 6, 10)
    assert not worktime.is_working(local(2025, 6, 4, 10))
    assert worktime.is_working(local(2025, 6, 6, 10))


def test_wales_bank_holidays_come_from_the_wls_subdivision() -> None:
    days = holiday_dates("GB-WLS", 2025)
    assert date(2025, 5, 26) in days and date(2025, 12, 26) in days
    assert date(2025, 8, 25) in days  # summer bank holiday (last Monday of August in Wales)
    assert date(2025, 8, 4) not in days  # Scotland's summer bank holiday is not Wales's
    assert date(2025, 3, 17) not in days  # nor Northern Ireland's St Patrick's Day


def test_no_registered_hours_assumes_office_hours_and_says_so() -> None:
    worktime = WorkingTime(None, LONDON)
    assert worktime.assumed
    assert "assumed" in worktime.describe()
    assert worktime.add(local(2025, 6, 6, 16), timedelta(hours=4)) == local(2025, 6, 9, 12)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        WorkingTime(OFFICE, LONDON).add(datetime(2025, 6, 3, 10), timedelta(hours=1))


def test_no_working_time_at_all_is_an_error_not_a_hang() -> None:
    closed = WorkingTime(OFFICE, LONDON, closures={date(2025, 1, 1) + timedelta(days=i) for i in range(900)})
    with pytest.raises(ValueError, match="no working time"):
        closed.add(local(2025, 1, 1, 10), timedelta(hours=1))


def test_for_account_uses_account_zone_calendar_and_closures() -> None:
    config = parse_config(
        """
calendar: {bank_holidays: GB-WLS, closures: ["2025-06-04"]}
accounts:
  - {id: a, platform: x, handle: a, name: A, role: central, language: {mode: bilingual},
     monitoring_hours: "Mon-Fri 09:00-17:00", timezone: Europe/Dublin}
""",
        env={},
    )
    worktime = for_account(config.accounts[0], config)
    assert worktime.tz == ZoneInfo("Europe/Dublin")
    assert worktime.is_day_off(date(2025, 6, 4))
    assert worktime.is_day_off(date(2025, 5, 26))
