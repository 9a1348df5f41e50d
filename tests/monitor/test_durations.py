"""Durations in config: units, combinations, fractions, and the shortest form back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h30m", 5400), ("7d", 604800), ("0.5s", 0.5), ("1.5h", 5400), (2, 2)],
)
def test_parse(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "5", "5x", ".5s", "1.s", "-1s", "1e3s"])
def test_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(("seconds", "text"), [(900, "15m"), (90, "90s"), (0.3, "0.3s"), (86400, "1d")])
def test_format(seconds: float, text: str) -> None:
    assert format_duration(timedelta(seconds=seconds)) == text
    assert parse_duration(text) == timedelta(seconds=seconds)
