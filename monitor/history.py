"""What post-anomaly and clickable read beyond the look-back: an account's posting history.

`load_history(session, ids, now, judged_from)` returns, per account, a `PostingHistory`:
- the baseline, from its posts of the year before `judged_from` (the start of the look-back the
  checks judge; kept per account and day in the process): how many, the UTC hours of day it
  posted in, the most posts in one clock hour and in one 10-minute slot, and the link domains it
  used. Hours and counts are aggregated by the database (one grouped query each); only posts with
  links are read row by row, for their domains;
- its original posts (and quotes) of the last 30 days with their links.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from checks.base import PostingHistory
from monitor.db import PostRow

BASELINE = timedelta(days=365)
RECENT = timedelta(days=30)
ORIGINAL_KINDS = ("original", "quote")
_CHUNK = 500


def link_domain(url: str) -> str:
    parts = urlsplit(url if "://" in url else "https://" + url)
    return (parts.hostname or "").lower().removeprefix("www.")


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _utc(session: Session) -> Any:
    """created_at as UTC wall time (PostgreSQL extracts fields of a timestamptz in the session zone)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.timezone("UTC", PostRow.created_at)
    return PostRow.created_at  # SQLite stores naive UTC


# The baseline moves by a day a day: it is kept per (database, account, day of its end) in this
# process, so the run after each poll reads only the account's last 30 days (docs/PERFORMANCE.md).
_BASELINES: dict[tuple[str, str], tuple[date, dict[str, Any]]] = {}
_BASELINES_MAX = 20_000


def load_history(
    session: Session, ids: Sequence[str], now: datetime, judged_from: datetime
) -> dict[str, PostingHistory]:
    database = str(session.get_bind().engine.url)
    day = judged_from.date()
    baselines: dict[str, dict[str, Any]] = {}
    missing = []
    for account_id in ids:
        cached = _BASELINES.get((database, account_id))
        if cached is not None and cached[0] == day:
            baselines[account_id] = cached[1]
        else:
            missing.append(account_id)
    if missing:
        fresh = _load_baselines(session, missing, judged_from)
        if len(_BASELINES) + len(fresh) > _BASELINES_MAX:
            _BASELINES.clear()
        for account_id in missing:
            item = fresh.get(account_id) or _empty()
            baselines[account_id] = item
            _BASELINES[(database, account_id)] = (day, item)
    recent = _load_recent(session, ids, now)
    return {
        account_id: PostingHistory(
            start=item["start"],
            end=judged_from,
            posts=item["posts"],
            hours_utc=frozenset(item["hours"]),
            max_per_hour=item["max"],
            max_per_10min=item["max10"],
            domains=frozenset(d for d in item["domains"] if d),
            recent_originals=tuple(sorted(recent.get(account_id, ()))),
        )
        for account_id, item in baselines.items()
    }


def _empty() -> dict[str, Any]:
    return {"hours": set(), "domains": set(), "posts": 0, "max": 0, "max10": 0, "start": None}


def _load_recent(
    session: Session, ids: Sequence[str], now: datetime
) -> dict[str, list[tuple[datetime, tuple[str, ...]]]]:
    recent: dict[str, list[tuple[datetime, tuple[str, ...]]]] = defaultdict(list)
    for chunk in _chunks(list(ids)):
        links_text = cast(PostRow.links, Text)  # decoded only when not empty
        query = select(PostRow.account_id, PostRow.created_at, links_text).where(
            PostRow.account_id.in_(list(chunk)),
            PostRow.created_at >= now - RECENT,
            PostRow.created_at <= now,
            PostRow.kind.in_(ORIGINAL_KINDS),
        )
        for account_id, created_at, links in session.execute(query):
            decoded = json.loads(links) if links and links != "[]" else ()
            recent[account_id].append((created_at, tuple(str(link) for link in decoded)))
    return recent


def _load_baselines(session: Session, ids: Sequence[str], judged_from: datetime) -> dict[str, dict[str, Any]]:
    """One scan of the baseline posts: counted per 10-minute slot, then per clock hour, then per hour
    of day (at most 24 rows per account come back); then the domains of posts with links."""
    start = judged_from - BASELINE
    facts: dict[str, dict[str, Any]] = defaultdict(_empty)
    utc = _utc(session)
    year, day, hour = (func.extract(field, utc) for field in ("year", "doy", "hour"))
    minute = func.extract("minute", utc)
    for chunk in _chunks(list(ids)):
        in_baseline = (
            PostRow.account_id.in_(list(chunk)),
            PostRow.created_at >= start,
            PostRow.created_at < judged_from,
            PostRow.kind.in_(ORIGINAL_KINDS),
        )
        slots = (
            select(
                PostRow.account_id.label("account_id"),
                year.label("y"),
                day.label("d"),
                hour.label("h"),
                func.count().label("n"),
                func.min(PostRow.created_at).label("first"),
            )
            .where(*in_baseline)
            .group_by(PostRow.account_id, year, day, hour, minute - minute.op("%")(10))
            .subquery()
        )
        hours = (
            select(
                slots.c.account_id,
                slots.c.h,
                func.sum(slots.c.n).label("n"),
                func.max(slots.c.n).label("n10"),
                func.min(slots.c.first).label("first"),
            )
            .group_by(slots.c.account_id, slots.c.y, slots.c.d, slots.c.h)
            .subquery()
        )
        per_hour_of_day = select(
            hours.c.account_id,
            hours.c.h,
            func.sum(hours.c.n),
            func.max(hours.c.n),
            func.max(hours.c.n10),
            func.min(hours.c.first),
        ).group_by(hours.c.account_id, hours.c.h)
        for account_id, at_hour, count, most, most10, first in session.execute(per_hour_of_day):
            item = facts[account_id]
            item["hours"].add(int(at_hour))
            item["posts"] += int(count)
            item["max"] = max(item["max"], int(most))
            item["max10"] = max(item["max10"], int(most10))
            first = _aware(first)
            item["start"] = first if item["start"] is None else min(item["start"], first)
        links_text = cast(PostRow.links, Text)
        with_links = select(PostRow.account_id, links_text).where(*in_baseline, links_text != "[]")
        for account_id, links in session.execute(with_links.distinct()):
            facts[account_id]["domains"].update(link_domain(str(link)) for link in json.loads(links or "[]"))
    return facts


def _aware(value: Any) -> datetime:
    """min() over a subquery loses the column's type on SQLite: parse and mark UTC as the store does."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
