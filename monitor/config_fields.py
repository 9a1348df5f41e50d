"""Configuration field types shared by the schema, the platform specs and the channel settings.

Kept apart from `monitor.config_schema` so that a connector's or channel's settings model can use
them without importing the whole schema (which imports those settings models in turn).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from monitor.durations import format_duration, parse_duration

SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _duration(value: Any) -> timedelta:
    if isinstance(value, int | float) and not isinstance(value, bool):
        # `poll_interval: 15` is ambiguous (seconds? minutes?): make the unit explicit.
        raise ValueError(f"{value} has no unit: write e.g. {value}s, {value}m, {value}h or {value}d")
    delta = parse_duration(value)
    if delta <= timedelta(0):
        raise ValueError("must be a positive duration")
    return delta


Duration = Annotated[timedelta, BeforeValidator(_duration), PlainSerializer(format_duration)]


def _email(value: Any) -> str:
    if not isinstance(value, str) or not _EMAIL.match(value.strip()):
        raise ValueError(f"{value!r} is not a valid email address")
    return value.strip()


Email = Annotated[str, BeforeValidator(_email)]


def _hhmm(value: Any) -> str:
    text = str(value)
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"{value!r} is not a time of day like 08:30")
    return f"{int(match[1]):02d}:{match[2]}"


TimeOfDay = Annotated[str, BeforeValidator(_hhmm)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def check_base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value.rstrip("/")


def zone_info(value: str) -> ZoneInfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a time zone (e.g. Europe/London)") from None
