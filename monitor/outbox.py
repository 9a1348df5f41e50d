"""The outbox sender: claims due rows, delivers them, records every attempt, backs off, survives crashes.

Claiming is one conditional UPDATE (pending and due, or "sending" with an expired lease) that
returns the ids it changed: a row changes for exactly one process, so two senders never deliver
the same row. A row left in "sending" by a crash is re-claimed after LEASE and delivered again:
delivery is at-least-once (a crash after the receiver accepted, before the outcome was stored,
sends it twice; the e-mail Message-ID lets clients fold such a duplicate).
"""

from __future__ import annotations

import os
import random
import socket
import threading
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.orm import Session

from monitor.channel_health import note_delivered, note_timeout, timed_out
from monitor.clock import utcnow
from monitor.config import Config
from monitor.db import AlertAttemptRow, AlertRow
from monitor.logs import get_logger, redact
from monitor.notifiers import DeliveryError, Notifier, OutgoingAlert, get_notifier
from monitor.seams import AlertPayload
from monitor.store import Store, rows_changed

log = get_logger(component="outbox")


@dataclass(frozen=True)
class RetryPolicy:
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 12  # about six hours of trying with the defaults
    lease: timedelta = timedelta(minutes=5)  # a "sending" row older than this was abandoned by a crash

    def delay(self, attempts: int, retry_after: float | None = None) -> timedelta:
        """Exponential backoff with jitter (50-100 % of the step), capped; a receiver's Retry-After wins
        when it asks for longer."""
        step = min(self.cap.total_seconds(), self.base.total_seconds() * 2 ** max(attempts - 1, 0))
        seconds = step * random.uniform(0.5, 1.0)
        if retry_after is not None:
            seconds = max(seconds, retry_after) if step else retry_after
        return timedelta(seconds=min(seconds, self.cap.total_seconds()))


DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True)
class SendResult:
    alert_id: int
    route: str
    channel: str
    reason: str
    outcome: str  # delivered | retry | failed
    error: str | None = None
    next_attempt_at: datetime | None = None
    timed_out: bool = False


@dataclass
class SendReport:
    claimed: int = 0
    reclaimed: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    results: list[SendResult] = field(default_factory=list)
    released: int = 0  # claimed rows handed back untried: their channel had just timed out


_COUNTERS = {"delivered": "delivered", "retry": "retried", "failed": "failed"}


def default_instance_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- claiming ----------------------------------------------------------------------------------


# On-call first: emergency and security alerts are claimed (and sent) before digest and operations.
PRIORITY_ROUTES = ("emergency", "security")

# Channels this process is delivering right now: a channel stuck on a dead server is not claimed
# again by a concurrent sender (which would only queue behind it) until its current run ends.
_busy_lock = threading.Lock()
_busy: dict[str, int] = {}


def _priority() -> Any:
    return case((AlertRow.route.in_(PRIORITY_ROUTES), 0), else_=1)


def _sort_key(row: AlertRow) -> tuple[int, int]:
    return (0 if row.route in PRIORITY_ROUTES else 1, row.id)


def busy_channels() -> set[str]:
    with _busy_lock:
        return {channel for channel, count in _busy.items() if count > 0}


def _set_busy(channels: Collection[str], delta: int) -> None:
    with _busy_lock:
        for channel in channels:
            _busy[channel] = _busy.get(channel, 0) + delta
            if _busy[channel] <= 0:
                del _busy[channel]


def _claimable(now: datetime, lease: timedelta) -> Any:
    return or_(
        and_(AlertRow.status == "pending", AlertRow.next_attempt_at <= now),
        and_(AlertRow.status == "sending", AlertRow.claimed_at < now - lease),
    )


def claim_due(
    store: Store,
    now: datetime,
    instance_id: str,
    limit: int = 100,
    *,
    ids: Sequence[int] | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    exclude_channels: Collection[str] = (),
) -> list[AlertRow]:
    """Claim up to `limit` due rows for this instance (committed before returning), emergency and
    security first; rows of `exclude_channels` are left for later."""
    with store.session() as session:
        candidates = select(AlertRow.id).where(_claimable(now, policy.lease))
        if ids is not None:
            candidates = candidates.where(AlertRow.id.in_(list(ids)))
        if exclude_channels:
            candidates = candidates.where(AlertRow.channel.not_in(list(exclude_channels)))
        candidates = candidates.order_by(_priority(), AlertRow.next_attempt_at, AlertRow.id).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            candidates = candidates.with_for_update(
                skip_locked=True
            )  # concurrent senders pick different rows
        chosen = list(session.scalars(candidates))
        if not chosen:
            return []
        abandoned = {
            row_id: (by, at)
            for row_id, by, at in session.execute(
                select(AlertRow.id, AlertRow.claimed_by, AlertRow.claimed_at).where(
                    AlertRow.id.in_(chosen), AlertRow.status == "sending"
                )
            )
        }
        # The condition is repeated in the UPDATE: only rows still claimable change, whoever raced us.
        won = list(
            session.scalars(
                update(AlertRow)
                .where(AlertRow.id.in_(chosen), _claimable(now, policy.lease))
                .values(status="sending", claimed_at=now, claimed_by=instance_id)
                .returning(AlertRow.id)
                .execution_options(synchronize_session=False)
            )
        )
        for row_id in won:
            if row_id in abandoned:
                by, at = abandoned[row_id]
                session.add(
                    AlertAttemptRow(
                        alert_id=row_id,
                        at=now,
                        outcome="interrupted",
                        instance=instance_id,
                        error=f"claimed by {by} at {at:%Y-%m-%d %H:%M:%S}Z and never finished",
                    )
                )
        rows = list(session.scalars(select(AlertRow).where(AlertRow.id.in_(won)).order_by(AlertRow.id)))
        for row in rows:
            session.expunge(row)
    for row in rows:
        # A transient mark on the detached row (not a column): send_due counts the reclaimed.
        setattr(row, "reclaimed", row.id in abandoned)  # noqa: B010
    return sorted(rows, key=_sort_key)


# --- delivering --------------------------------------------------------------------------------


def send_due(
    config: Config,
    store: Store,
    now: datetime | None = None,
    instance_id: str = "",
    limit: int = 100,
    *,
    ids: Sequence[int] | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    notifiers: dict[str, Notifier] | None = None,
) -> SendReport:
    """Claim and deliver due outbox rows (all of `ids` when given); returns what happened to each.

    Without `now` each outcome is stamped with the clock when it happens; with `now` (tests, a
    replay) every timestamp is `now`, so backoff and leases can be tested with a fixed clock.
    """
    fixed = now

    def clock() -> datetime:
        return fixed if fixed is not None else utcnow()

    now = clock()
    instance_id = instance_id or default_instance_id()
    report = SendReport()
    rows = claim_due(store, now, instance_id, limit, ids=ids, policy=policy, exclude_channels=busy_channels())
    report.claimed = len(rows)
    report.reclaimed = sum(1 for r in rows if getattr(r, "reclaimed", False))
    queues: dict[str, list[AlertRow]] = {}
    for row in rows:
        queues.setdefault(row.channel, []).append(row)

    def deliver_channel(queue: list[AlertRow], shared: dict[str, Notifier] | None) -> list[SendResult]:
        own = shared if shared is not None else {}
        results: list[SendResult] = []
        try:
            for index, row in enumerate(queue):
                result = _deliver_one(config, store, row, instance_id, policy, own, clock)
                results.append(result)
                if result.timed_out:  # the rest of this channel waits for the next run, untried
                    report.released += _release(store, queue[index + 1 :], instance_id)
                    break
        finally:
            if shared is None:
                for notifier in own.values():
                    notifier.close()
            _set_busy([queue[0].channel], -1)
        return results

    _set_busy(queues, +1)
    if notifiers is not None or len(queues) <= 1:
        # One channel (or the caller's notifiers, which may not be thread-safe): no thread needed.
        outcomes = [deliver_channel(queue, notifiers) for queue in queues.values()]
    else:
        # Each channel on its own thread: a slow or dead channel delays only itself.
        with ThreadPoolExecutor(max_workers=len(queues), thread_name_prefix="outbox") as pool:
            futures = [pool.submit(deliver_channel, queue, None) for queue in queues.values()]
            outcomes = [future.result() for future in futures]
    order = {row.id: i for i, row in enumerate(rows)}
    for result in sorted((r for rs in outcomes for r in rs), key=lambda r: order[r.alert_id]):
        report.results.append(result)
        counter = _COUNTERS[result.outcome]
        setattr(report, counter, getattr(report, counter) + 1)
    return report


def _release(store: Any, rows: Sequence[AlertRow], instance_id: str) -> int:
    """Hand claimed rows back, untried and without counting an attempt."""
    if not rows:
        return 0
    with store.session() as session:
        released = session.execute(
            update(AlertRow)
            .where(
                AlertRow.id.in_([r.id for r in rows]),
                AlertRow.status == "sending",
                AlertRow.claimed_by == instance_id,
            )
            .values(status="pending", claimed_at=None, claimed_by=None)
            .execution_options(synchronize_session=False)
        ).rowcount
    return int(released or 0)


def to_outgoing(row: AlertRow) -> OutgoingAlert:
    return OutgoingAlert(
        id=row.id,
        route=row.route,
        channel=row.channel,
        reason=row.reason,
        severity=row.severity,
        subject=row.subject,
        payload=cast(AlertPayload, dict(row.payload or {})),  # JSON written by enqueue_alert
        created_at=row.created_at,
    )


def _deliver_one(
    config: Config,
    store: Store,
    row: AlertRow,
    instance_id: str,
    policy: RetryPolicy,
    notifiers: dict[str, Notifier],
    clock: Callable[[], datetime] = utcnow,
) -> SendResult:
    bound = log.bind(alert_id=row.id, route=row.route, channel=row.channel, reason=row.reason)
    channel = config.alerts.channels.get(row.channel)
    error: DeliveryError | None = None
    if channel is None:
        error = DeliveryError(f"channel {row.channel!r} is not in the configuration any more", permanent=True)
    else:
        notifier = notifiers.get(channel.type)
        if notifier is None:
            notifier = notifiers[channel.type] = get_notifier(channel.type)
        try:
            notifier.send(to_outgoing(row), channel)
        except DeliveryError as exc:
            error = exc
        except Exception as exc:  # a bug in rendering must not wedge the row in "sending"
            error = DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False)
    finished = clock()
    if error is None:
        _finish(
            store, row, instance_id, finished, "delivered", None, status="delivered", delivered_at=finished
        )
        bound.info("alert_delivered", attempts=row.attempts + 1)
        note_delivered(store, row.channel, finished)
        return SendResult(row.id, row.route, row.channel, row.reason, "delivered")
    message = redact(error.message)[:1000]
    if timed_out(error) and channel is not None:
        note_timeout(config, store, row.channel, message, finished)
        result = _after_failure(config, store, row, instance_id, policy, error, message, finished, bound)
        return SendResult(
            result.alert_id,
            result.route,
            result.channel,
            result.reason,
            result.outcome,
            result.error,
            result.next_attempt_at,
            timed_out=True,
        )
    return _after_failure(config, store, row, instance_id, policy, error, message, finished, bound)


def _after_failure(
    config: Config,
    store: Any,
    row: AlertRow,
    instance_id: str,
    policy: RetryPolicy,
    error: DeliveryError,
    message: str,
    finished: datetime,
    bound: Any,
) -> SendResult:
    attempts = row.attempts + 1
    permanent = error.permanent or row.reason == "test" or attempts >= policy.max_attempts
    if permanent:
        why = (
            message
            if error.permanent or row.reason == "test"
            else f"gave up after {attempts} attempts: {message}"
        )
        _finish(store, row, instance_id, finished, "failed", why, status="failed")
        bound.error("alert_failed", attempts=attempts, error=why)
        if row.reason != "test":
            _raise_channel_problem(config, store, row, why, finished)
        return SendResult(row.id, row.route, row.channel, row.reason, "failed", why)
    next_at = finished + policy.delay(attempts, error.retry_after)
    _finish(store, row, instance_id, finished, "retry", message, status="pending", next_attempt_at=next_at)
    bound.warning("alert_retry", attempts=attempts, error=message, next_attempt_at=next_at.isoformat())
    return SendResult(row.id, row.route, row.channel, row.reason, "retry", message, next_at)


def _finish(
    store: Store,
    row: AlertRow,
    instance_id: str,
    at: datetime,
    outcome: str,
    error: str | None,
    **values: Any,
) -> None:
    """Record the attempt and the row's new state in one transaction, if the row is still ours."""
    with store.session() as session:
        changed = rows_changed(
            session.execute(
                update(AlertRow)
                .where(
                    AlertRow.id == row.id,
                    AlertRow.status == "sending",
                    AlertRow.claimed_by == instance_id,
                    AlertRow.claimed_at == row.claimed_at,
                )
                .values(
                    attempts=AlertRow.attempts + 1,
                    last_error=error,
                    claimed_at=None,
                    claimed_by=None,
                    **values,
                )
                .execution_options(synchronize_session=False)
            )
        )
        session.add(
            AlertAttemptRow(alert_id=row.id, at=at, outcome=outcome, error=error, instance=instance_id)
        )
        if changed != 1:
            log.warning(
                "alert_claim_lost",
                alert_id=row.id,
                outcome=outcome,
                detail="another sender re-claimed this row after its lease expired",
            )


def _raise_channel_problem(config: Config, store: Store, row: AlertRow, error: str, now: datetime) -> None:
    """Tell operators a channel refuses alerts (at most once a day per channel, never through itself)."""
    from monitor.routing import enqueue_alert

    route = config.alerts.routes.get("operations")
    if route is None:
        return
    channels = [c for c in route.channels if c != row.channel]
    if not channels:
        log.error(
            "channel_problem_unreported",
            channel=row.channel,
            detail="the operations route has no other channel to report it through",
        )
        return
    with store.session() as session:
        enqueue_alert(
            session,
            config,
            "operations",
            "operations",
            "high",
            f"[HIGH] Alert channel {row.channel!r} is failing",
            f"An alert (id {row.id}, route {row.route}) could not be delivered through channel "
            f"{row.channel!r} and was marked failed. Check the channel's settings; failed alerts are "
            "listed by `socialmon alerts list --failed`.",
            now=now,
            facts=[("Channel", row.channel), ("Route", row.route), ("Error", error)],
            kind="notice",
            dedup_key=f"channel-failed:{row.channel}:{now:%Y-%m-%d}",
            channels=channels,
            localize=lambda locale: _channel_problem_texts(locale, row, error),
        )


def _channel_problem_texts(locale: str, row: AlertRow, error: str) -> dict[str, object]:
    """The failing-channel notice in an operations channel's language (the error stays as received)."""
    from monitor.i18n import translator

    t = translator(locale)
    subject = f"[{t.gettext('HIGH')}] " + t.gettext(
        "Alert channel %(channel)r is failing", channel=row.channel
    )
    text = t.gettext(
        "An alert (id %(id)s, route %(route)s) could not be delivered through channel %(channel)r and was "
        "marked failed. Check the channel's settings; failed alerts are listed by "
        "`socialmon alerts list --failed`.",
        id=row.id,
        route=row.route,
        channel=row.channel,
    )
    facts = [
        (t.gettext("Channel"), row.channel),
        (t.gettext("Route"), row.route),
        (t.gettext("Error"), error),
    ]
    return {"subject": subject, "title": subject, "text": text, "facts": facts}


# --- reading -----------------------------------------------------------------------------------


def list_alerts(session: Session, status: str | None = None, limit: int = 200) -> list[AlertRow]:
    stmt = select(AlertRow)
    if status is not None:
        stmt = stmt.where(AlertRow.status == status)
    return list(session.scalars(stmt.order_by(AlertRow.id.desc()).limit(limit)))


def attempts_of(session: Session, alert_id: int) -> list[AlertAttemptRow]:
    return list(
        session.scalars(
            select(AlertAttemptRow).where(AlertAttemptRow.alert_id == alert_id).order_by(AlertAttemptRow.id)
        )
    )
