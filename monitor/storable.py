"""Platform text made storable at the connector boundary, and items from the future refused.

SQLite cannot encode a lone surrogate (`\\ud800`, which JSON allows) and PostgreSQL refuses a NUL
character in text: either one in a single post or mention would make every later poll of the
account fail at the storage step. `storable_result` replaces exactly those characters with
U+FFFD and changes nothing else, in every text field of every record (and in the cursor).

A `created_at` more than a day in the future is a platform bug or a forged item: kept, it would
freeze the cadence check ("last post -2912110 days ago"), so that item alone is refused with a
warning on the poll.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta
from typing import Any, TypeVar

from monitor.models import FetchResult

REPLACEMENT = "\ufffd"
FUTURE_TOLERANCE = timedelta(days=1)
# Lone surrogates (not valid in UTF-8) and NUL (refused by PostgreSQL text).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

T = TypeVar("T")


def storable_text(text: str) -> str:
    """`text` with lone surrogates and NULs replaced by U+FFFD; otherwise unchanged."""
    return _UNSTORABLE.sub(REPLACEMENT, text) if _UNSTORABLE.search(text) else text


def storable_value(value: Any) -> Any:
    """Strings anywhere inside lists, tuples and dicts (keys too) made storable."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, tuple):
        return tuple(storable_value(v) for v in value)
    if isinstance(value, list):
        return [storable_value(v) for v in value]
    if isinstance(value, dict):
        return {storable_value(k): storable_value(v) for k, v in value.items()}
    return value


def storable_record(record: T) -> T:
    """A frozen record with every text field made storable (the same object when nothing changes)."""
    changes: dict[str, Any] = {}
    for item in dataclasses.fields(record):  # type: ignore[arg-type]
        value = getattr(record, item.name)
        clean = storable_value(value)
        if clean != value:
            changes[item.name] = clean
    return dataclasses.replace(record, **changes) if changes else record  # type: ignore[type-var]


def _in_future(record: Any, now: datetime) -> bool:
    created = getattr(record, "created_at", None)
    return isinstance(created, datetime) and created > now + FUTURE_TOLERANCE


def storable_result(result: FetchResult, now: datetime) -> FetchResult:
    """`result` with storable text everywhere and items dated more than a day ahead refused."""
    warnings = list(result.warnings)

    def keep(records: list[T], what: str) -> list[T]:
        kept = []
        for record in records:
            if _in_future(record, now):
                ident = getattr(record, "native_id", "?")
                when = getattr(record, "created_at", None)
                warnings.append(
                    storable_text(
                        f"{what} {ident}: created_at {when:%Y-%m-%dT%H:%M:%SZ} is more than a day "
                        "in the future; item refused"
                    )
                )
                continue
            kept.append(storable_record(record))
        return kept

    return dataclasses.replace(
        result,
        profile=storable_record(result.profile) if result.profile is not None else None,
        posts=keep(result.posts, "post"),
        messages=keep(result.messages, "message"),
        replies=keep(result.replies, "reply"),
        scheduled=[storable_record(s) for s in result.scheduled] if result.scheduled is not None else None,
        cursor=storable_value(result.cursor),
        warnings=[storable_text(w) for w in warnings],
    )
