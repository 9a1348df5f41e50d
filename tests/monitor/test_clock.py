"""The shared time helpers: Retry-After (both forms), aware datetimes, durations people read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.clock import as_utc, human_duration, parse_retry_after

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "cap", "expected"),
    [
        ("120", None, 120.0),
        (" 1.5 ", None, 1.5),
        ("Mon, 02 Mar 2026 10:01:00 GMT", None, 60.0),
        ("Mon, 02 Mar 2026 09:00:00 GMT", None, 0.0),  # a date already past: no wait
        ("86400", 3600.0, 3600.0),
        ("nan", None, None),
        ("-5", None, None),
        ("soon", None, None),
        ("", None, None),
        (None, None, None),
    ],
)
def test_retry_after(value: str | None, cap: float | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW, cap=cap) == expected


def test_as_utc_takes_naive_as_utc_and_keeps_aware() -> None:
    assert as_utc(datetime(2026, 3, 2, 10, 0)) == NOW
    assert as_utc(NOW).tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "-"),
        (timedelta(seconds=59), "0 min"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(minutes=125), "2 h 05 min"),
    ],
)
def test_human_duration(value: timedelta | None, expected: str) -> None:
    assert human_duration(value) == expected
