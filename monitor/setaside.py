"""Items that keep failing are set aside, so one bad record never blinds an account.

Two ways an item fails.

Normalising it (a field of the wrong type): the poll is recorded as a `bad_payload` failure naming
the item (the cursor stays, so the next poll sees it again), and once the same item has failed
SET_ASIDE_AFTER polls it is set aside: recorded here, reported to operations, and skipped by the
connector from then on (`set_aside_keys`).

Storing it (the database refuses it): when a poll's records cannot be stored together,
`set_aside_unstorable` tries each record on its
own inside a savepoint that is always rolled back (a probe: nothing is kept), finds the ones the
database refuses, records each in `set_aside_items` (with how often it failed) and tells
operations once per item. It returns the poll's result without those items, which the caller
then stores in one transaction as usual: the cursor moves on and the other items flow.

If no single record is to blame (the database itself is failing), it raises `StoreFailed` and
the poll is recorded as a failure of kind `store_failed`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from monitor.config import Account, Config
from monitor.db import CursorRow, SetAsideItemRow
from monitor.logs import get_logger, redact
from monitor.models import FetchResult
from monitor.storable import storable_text
from monitor.store import (
    Store,
    store_messages,
    store_posts,
    store_profile,
    store_replies,
    store_scheduled,
)

log = get_logger(component="poll")

SET_ASIDE_AFTER = 3  # polls that failed on the same item


class StoreFailed(Exception):
    """Storing failed and no single record was to blame."""


class _Rollback(Exception):
    """Ends the probe transaction without keeping anything."""


@dataclasses.dataclass(frozen=True)
class Unstorable:
    record_type: str  # post | message | reply | profile | scheduled
    native_id: str
    error: str


def _probes(result: FetchResult, now: datetime) -> list[tuple[str, Any, Callable[[Session], Any]]]:
    """(record type, record, store-it-alone) for every record of a poll."""
    probes: list[tuple[str, Any, Callable[[Session], Any]]] = []
    if result.profile is not None:
        probes.append(("profile", result.profile, partial(_store_profile, record=result.profile)))
    for post in result.posts:
        probes.append(("post", post, partial(_store_many, store_posts, [post], now)))
    for message in result.messages:
        probes.append(("message", message, partial(_store_many, store_messages, [message], now)))
    for reply in result.replies:
        probes.append(("reply", reply, partial(_store_many, store_replies, [reply], now)))
    for scheduled in result.scheduled or []:
        probes.append(("scheduled", scheduled, partial(_store_scheduled, result.account_id, scheduled, now)))
    return probes


def _store_profile(session: Session, record: Any) -> None:
    store_profile(session, record)


def _store_many(store: Callable[..., Any], records: list[Any], now: datetime, session: Session) -> None:
    store(session, records, now)


def _store_scheduled(account_id: str, record: Any, now: datetime, session: Session) -> None:
    store_scheduled(session, account_id, [record], now)


def find_unstorable(store: Store, result: FetchResult, now: datetime) -> list[Unstorable]:
    """The records the database refuses, each tried alone in a savepoint; nothing is kept."""
    bad: list[Unstorable] = []
    try:
        with store.session() as session:
            # A write first, so that the driver has begun the transaction the savepoints nest in.
            session.execute(update(CursorRow).where(CursorRow.account_id == "").values(data={}))
            for record_type, record, store_alone in _probes(result, now):
                try:
                    with session.begin_nested():
                        store_alone(session)
                except Exception as exc:
                    error = redact(storable_text(f"{type(exc).__name__}: {exc}"))[:500]
                    native = storable_text(str(getattr(record, "native_id", "")))[:255]
                    bad.append(Unstorable(record_type, native, error))
            raise _Rollback
    except _Rollback:
        pass
    return bad


def without(result: FetchResult, bad: Sequence[Unstorable]) -> FetchResult:
    """The poll's result minus the unstorable records, with a warning naming each."""
    refused = {(b.record_type, b.native_id) for b in bad}

    def keep(record_type: str, records: list[Any]) -> list[Any]:
        return [r for r in records if (record_type, r.native_id) not in refused]

    warnings = [*result.warnings, *(f"{b.record_type} {b.native_id} set aside: not storable" for b in bad)]
    return dataclasses.replace(
        result,
        profile=None if any(kind == "profile" for kind, _ in refused) else result.profile,
        posts=keep("post", result.posts),
        messages=keep("message", result.messages),
        replies=keep("reply", result.replies),
        scheduled=keep("scheduled", result.scheduled) if result.scheduled is not None else None,
        warnings=warnings,
    )


def set_aside_keys(session: Session, account_id: str) -> frozenset[tuple[str, str]]:
    """(record type, id) of the account's items that kept failing: polls skip them."""
    rows = session.execute(
        select(SetAsideItemRow.record_type, SetAsideItemRow.native_id).where(
            SetAsideItemRow.account_id == account_id, SetAsideItemRow.failures >= SET_ASIDE_AFTER
        )
    ).all()
    return frozenset((kind, native) for kind, native in rows)


def note_bad_item(
    config: Config, store: Store, account: Account, item: tuple[str, str], error: str, now: datetime
) -> bool:
    """Count a poll that failed normalising `item`; True when this one set it aside."""
    record_type, native = item
    native = storable_text(native)[:255]
    with store.session() as session:
        row = session.scalar(
            select(SetAsideItemRow).where(
                SetAsideItemRow.account_id == account.id,
                SetAsideItemRow.record_type == record_type,
                SetAsideItemRow.native_id == native,
            )
        )
        if row is None:
            row = SetAsideItemRow(
                account_id=account.id,
                platform=account.platform,
                record_type=record_type,
                native_id=native,
                error=error,
                failures=0,
                first_failed_at=now,
                last_failed_at=now,
            )
            session.add(row)
        row.failures += 1
        row.error = error
        row.last_failed_at = now
        now_aside = row.failures == SET_ASIDE_AFTER
        if now_aside:
            _report(
                config, session, account, Unstorable(record_type, native, error), now, "could not be read"
            )
    if now_aside:
        log.error(
            "item set aside", account=account.id, record_type=record_type, native_id=native, error=error
        )
    return now_aside


def _report(
    config: Config, session: Session, account: Account, item: Unstorable, now: datetime, what: str
) -> None:
    from monitor.routing import enqueue_alert

    if "operations" not in config.alerts.routes:
        return
    enqueue_alert(
        session,
        config,
        "operations",
        "operations",
        "warning",
        f"[WARNING] A {item.record_type} of {account.id} {what} and was set aside",
        f"{account.platform} {item.record_type} {item.native_id} of account {account.id} {what} "
        f"({item.error}); the account's other items are handled as usual. Listed in the "
        "set_aside_items table.",
        now=now,
        facts=[
            ("Account", account.id),
            ("Item", f"{item.record_type} {item.native_id}"),
            ("Error", item.error),
        ],
        kind="notice",
        dedup_key=f"set-aside:{account.id}:{item.record_type}:{item.native_id}",
    )


def record_set_aside(
    config: Config, store: Store, account: Account, bad: Sequence[Unstorable], now: datetime
) -> None:
    """Count each unstorable item in set_aside_items and tell operations (once per item)."""
    with store.session() as session:
        for item in bad:
            row = session.scalar(
                select(SetAsideItemRow).where(
                    SetAsideItemRow.account_id == account.id,
                    SetAsideItemRow.record_type == item.record_type,
                    SetAsideItemRow.native_id == item.native_id,
                )
            )
            if row is None:
                session.add(
                    SetAsideItemRow(
                        account_id=account.id,
                        platform=account.platform,
                        record_type=item.record_type,
                        native_id=item.native_id,
                        error=item.error,
                        failures=1,
                        first_failed_at=now,
                        last_failed_at=now,
                    )
                )
            else:
                row.failures += 1
                row.error = item.error
                row.last_failed_at = now
            _report(config, session, account, item, now, "could not be stored")
    for item in bad:
        log.error(
            "item set aside",
            account=account.id,
            record_type=item.record_type,
            native_id=item.native_id,
            error=item.error,
        )


def set_aside_unstorable(
    config: Config, store: Store, account: Account, result: FetchResult, now: datetime
) -> FetchResult:
    """`result` without the records the database refuses (recorded and reported); StoreFailed
    when no single record is to blame."""
    bad = find_unstorable(store, result, now)
    if not bad:
        raise StoreFailed("the database refused the poll, and no single record is to blame")
    record_set_aside(config, store, account, bad, now)
    return without(result, bad)
