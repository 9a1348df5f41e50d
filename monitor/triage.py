"""Findings have a human side: acknowledge, snooze, dismiss and reopen, with an audit trail.

A finding's `status` (open | resolved) belongs to the checks; its `state` belongs to people:
- `none`: nobody has answered it;
- `acknowledged` (by whom, optional note): someone is on it, so critical repeats stop;
- `snoozed` until a time: no alerts and not in the digest's to-do until then;
- `dismissed` (reason required, optional expiry): no alerts, not in the to-do.
Snoozes and dismissals with an `until` expire: the state goes back to `none`, with an `expired`
event, the first time anything (a read here, routing, the digest) looks after that time.
Every change is a row in `finding_events` (at, by, action, note), shown on the finding.

The command line and the web dashboard both call these functions; `TriageError` carries one
line that says what was wrong (an unknown id, a state that does not allow the action, a time).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from monitor.db import FindingEventRow, FindingRow
from monitor.models import SEVERITIES

STATES: tuple[str, ...] = ("none", "acknowledged", "snoozed", "dismissed")
STATUSES: tuple[str, ...] = ("open", "resolved")
QUIET_STATES: tuple[str, ...] = ("snoozed", "dismissed")  # no alerts, not in the digest's to-do
SYSTEM_ACTOR = "socialmon"  # who expires a snooze or a dismissal
MAX_NAME = 255
MAX_NOTE = 2000
_EXPIRY_NOTES = {"snoozed": "the snooze ended", "dismissed": "the dismissal ended"}


class TriageError(Exception):
    """A triage request that cannot be done; the message is one line saying why. `kind` names the
    refusals a person can meet on the dashboard, which says them in its own language."""

    def __init__(self, message: str, kind: str = "", who: str = ""):
        super().__init__(message)
        self.kind, self.who = kind, who


@dataclass(frozen=True)
class FindingEvent:
    at: datetime
    by: str
    action: str  # acknowledged | snoozed | dismissed | reopened | expired
    note: str | None
    until: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {"at": _iso(self.at), "by": self.by, "action": self.action, "note": self.note}


@dataclass(frozen=True)
class FindingView:
    """One finding as people see it. `since` is when the breach began; `state_at` when its state was set."""

    id: int
    check: str
    account: str
    severity: str
    subject: str
    status: str
    state: str
    since: datetime
    by: str | None
    note: str | None
    until: datetime | None
    detail: str
    policy_section: str
    opened_at: datetime
    resolved_at: datetime | None
    title: str
    url: str
    state_at: datetime | None
    resolve_reason: str | None
    last_seen_at: datetime
    immediate: bool

    def to_json(self) -> dict[str, Any]:
        """The `findings list --json` object (these keys are a public interface)."""
        return {
            "id": self.id,
            "check": self.check,
            "account": self.account,
            "severity": self.severity,
            "subject": self.subject,
            "status": self.status,
            "state": self.state,
            "since": _iso(self.since),
            "by": self.by,
            "note": self.note,
            "until": _iso(self.until),
        }


@dataclass(frozen=True)
class FindingDetail(FindingView):
    events: list[FindingEvent] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "events": [e.to_json() for e in self.events]}


# --- actions ------------------------------------------------------------------------------------


def acknowledge(store: Any, finding_id: int, *, by: str, note: str | None, now: datetime) -> None:
    """Someone is on it: repeats stop. Refused on a resolved finding or one already acknowledged."""
    _require_aware(now, "now")
    by, note = _name(by), _note(note)
    with store.session() as session:
        expire_states(session, now)
        row = _open_row(session, finding_id, "acknowledge")
        if row.state == "acknowledged":
            raise TriageError(
                f"finding {finding_id} is already acknowledged by {row.state_by}",
                kind="already-acknowledged",
                who=row.state_by or "",
            )
        _set_state(session, row, "acknowledged", by=by, note=note, until=None, now=now)


def snooze(store: Any, finding_id: int, *, until: datetime, by: str, note: str | None, now: datetime) -> None:
    """No alerts and out of the digest's to-do until `until` (a later snooze replaces it)."""
    _require_aware(now, "now")
    by, note = _name(by), _note(note)
    _require_future(until, now, "a snooze")
    with store.session() as session:
        expire_states(session, now)
        row = _open_row(session, finding_id, "snooze")
        _set_state(session, row, "snoozed", by=by, note=note, until=until, now=now)


def dismiss(
    store: Any, finding_id: int, *, reason: str, by: str, until: datetime | None, now: datetime
) -> None:
    """A false alarm, an accepted exception, handled elsewhere: no alerts; expires at `until` if given."""
    _require_aware(now, "now")
    by = _name(by)
    text = _note(reason)
    if not text:
        raise TriageError(
            "a dismissal needs a reason (false alarm, accepted exception, handled elsewhere...)"
        )
    if until is not None:
        _require_future(until, now, "a dismissal")
    with store.session() as session:
        expire_states(session, now)
        row = _open_row(session, finding_id, "dismiss")
        _set_state(session, row, "dismissed", by=by, note=text, until=until, now=now)


def reopen(store: Any, finding_id: int, *, by: str, now: datetime) -> None:
    """Undo an acknowledgement, snooze or dismissal: the finding alerts and nags as before."""
    _require_aware(now, "now")
    by = _name(by)
    with store.session() as session:
        expire_states(session, now)
        row = _row(session, finding_id)
        if row.state == "none":
            raise TriageError(
                f"finding {finding_id} is not acknowledged, snoozed or dismissed: nothing to reopen",
                kind="not-triaged",
            )
        if row.status != "open":
            raise TriageError(
                f"finding {finding_id} is resolved: a new breach opens a new finding", kind="resolved"
            )
        _set_state(session, row, "none", by=by, note=None, until=None, now=now, action="reopened")


# --- reads --------------------------------------------------------------------------------------


def list_findings(
    store: Any,
    *,
    status: str | None = None,
    check: str | None = None,
    account: str | None = None,
    state: str | None = None,
    severity: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    now: datetime,
) -> list[FindingView]:
    """Findings matching the filters: open before resolved, most severe first, then oldest breach."""
    if (limit is not None and limit < 0) or offset < 0:
        raise TriageError("limit and offset must not be negative")
    where = _filters(status, check, account, state, severity, now)
    with store.session() as session:
        expire_states(session, now)
        rank = case({s: i for i, s in enumerate(SEVERITIES)}, value=FindingRow.severity, else_=-1)
        stmt = (
            select(FindingRow)
            .where(*where)
            .order_by((FindingRow.status != "open"), rank.desc(), FindingRow.since, FindingRow.id)
            .offset(offset)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        return [view_of(row) for row in session.scalars(stmt)]


def count_findings(
    store: Any,
    *,
    status: str | None = None,
    check: str | None = None,
    account: str | None = None,
    state: str | None = None,
    severity: str | None = None,
    now: datetime,
) -> int:
    """How many findings `list_findings` would return without a limit (for paging)."""
    where = _filters(status, check, account, state, severity, now)
    with store.session() as session:
        expire_states(session, now)
        return int(session.scalar(select(func.count(FindingRow.id)).where(*where)) or 0)


def _filters(
    status: str | None,
    check: str | None,
    account: str | None,
    state: str | None,
    severity: str | None,
    now: datetime,
) -> list[Any]:
    _require_aware(now, "now")
    _require_choice(status, STATUSES, "status")
    _require_choice(state, STATES, "state")
    _require_choice(severity, SEVERITIES, "severity")
    pairs = (
        (FindingRow.status, status),
        (FindingRow.check, check),
        (FindingRow.account_id, account),
        (FindingRow.state, state),
        (FindingRow.severity, severity),
    )
    return [column == value for column, value in pairs if value is not None]


def get_finding(store: Any, finding_id: int, *, now: datetime) -> FindingDetail:
    _require_aware(now, "now")
    with store.session() as session:
        expire_states(session, now)
        row = _row(session, finding_id)
        events = [
            FindingEvent(at=e.at, by=e.by, action=e.action, note=e.note, until=e.until)
            for e in session.scalars(
                select(FindingEventRow)
                .where(FindingEventRow.finding_id == finding_id)
                .order_by(FindingEventRow.at, FindingEventRow.id)
            )
        ]
        return FindingDetail(**_view_fields(row), events=events)


def view_of(row: FindingRow) -> FindingView:
    return FindingView(**_view_fields(row))


def _view_fields(row: FindingRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "check": row.check,
        "account": row.account_id,
        "severity": row.severity,
        "subject": row.subject,
        "status": row.status,
        "state": row.state or "none",
        "since": row.since,
        "by": row.state_by,
        "note": row.state_note,
        "until": row.state_until,
        "detail": row.detail,
        "policy_section": row.policy_section,
        "opened_at": row.opened_at,
        "resolved_at": row.resolved_at,
        "title": row.title,
        "url": row.url,
        "state_at": row.state_at,
        "resolve_reason": row.resolve_reason,
        "last_seen_at": row.last_seen_at,
        "immediate": row.immediate,
    }


# --- expiry (lazy: whoever reads after `until` records it) -------------------------------------


def expire_states(session: Session, now: datetime) -> list[int]:
    """Open findings' snoozes and dismissals whose `until` has passed go back to `none`; returns their ids.

    One guarded UPDATE ... RETURNING per chunk: of two processes expiring at once, each row is
    changed (and its `expired` event recorded) by one only.
    """
    due_condition = (
        # A resolved finding keeps the state it resolved in: expiring it later would, say,
        # announce a long-past resolution that the dismissal had kept quiet.
        FindingRow.status == "open",
        FindingRow.state.in_(QUIET_STATES),
        FindingRow.state_until.is_not(None),
        FindingRow.state_until <= now,
    )
    was = {
        row.id: row.state
        for row in session.execute(select(FindingRow.id, FindingRow.state).where(*due_condition))
    }
    if not was:
        return []
    expired: list[int] = []
    ids = sorted(was)
    for start in range(0, len(ids), 500):
        stmt = (
            update(FindingRow)
            .where(FindingRow.id.in_(ids[start : start + 500]), *due_condition)
            .values(state="none", state_at=now, state_by=None, state_note=None, state_until=None)
            .returning(FindingRow.id)
        )
        expired += session.scalars(stmt, execution_options={"synchronize_session": False}).all()
    session.add_all(
        FindingEventRow(
            finding_id=finding_id,
            at=now,
            by=SYSTEM_ACTOR,
            action="expired",
            note=_EXPIRY_NOTES.get(was[finding_id]),
        )
        for finding_id in expired
    )
    for finding_id in expired:  # rows already loaded in this session must not show the old state
        row = session.identity_map.get(session.identity_key(FindingRow, finding_id))
        if row is not None:
            session.expire(row)
    session.flush()
    return sorted(expired)


def quiet_finding_ids(session: Session, finding_ids: Sequence[int]) -> set[int]:
    """Of these findings, those snoozed or dismissed now (call `expire_states` first)."""
    out: set[int] = set()
    ids = list(finding_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        stmt = select(FindingRow.id).where(FindingRow.id.in_(chunk), FindingRow.state.in_(QUIET_STATES))
        out.update(session.scalars(stmt))
    return out


# --- helpers ------------------------------------------------------------------------------------


def _set_state(
    session: Session,
    row: FindingRow,
    state: str,
    *,
    by: str,
    note: str | None,
    until: datetime | None,
    now: datetime,
    action: str | None = None,
) -> None:
    row.state, row.state_at, row.state_by, row.state_note, row.state_until = state, now, by, note, until
    if state == "none":
        row.state_by = row.state_note = None
    session.add(
        FindingEventRow(finding_id=row.id, at=now, by=by, action=action or state, note=note, until=until)
    )


def _row(session: Session, finding_id: int) -> FindingRow:
    if isinstance(finding_id, bool) or not isinstance(finding_id, int) or finding_id <= 0:
        raise TriageError(f"{finding_id!r} is not a finding id (a positive whole number)")
    row = session.get(FindingRow, finding_id, with_for_update=True)
    if row is None:
        raise TriageError(f"no finding {finding_id}")
    return row


def _open_row(session: Session, finding_id: int, verb: str) -> FindingRow:
    row = _row(session, finding_id)
    if row.status != "open":
        raise TriageError(
            f"finding {finding_id} is resolved: nothing to {verb} (a new breach opens a new finding)",
            kind="resolved",
        )
    return row


def parse_finding_id(text: str) -> int:
    """A finding id as typed (`12` or `#12`); TriageError otherwise."""
    value = text.strip().removeprefix("#")
    if not value.isdigit() or int(value) <= 0:
        raise TriageError(f"{text!r} is not a finding id (a positive whole number, as `findings list` shows)")
    return int(value)


def parse_until(text: str, tz: tzinfo, now: datetime) -> datetime:
    """When a snooze or dismissal ends, as typed: `2026-12-01 09:00`, `2026-12-01` (midnight),
    `09:00` (the next time the clock reads it) or ISO 8601 with an offset. Local times are in `tz`.
    TriageError for anything else or a time not in the future.
    """
    value = text.strip()
    try:
        if re.fullmatch(r"\d{1,2}:\d{2}", value):
            hour, minute = (int(p) for p in value.split(":"))
            local_now = now.astimezone(tz)
            candidate = datetime.combine(local_now.date(), time(hour, minute), tzinfo=tz)
            if candidate <= now:
                candidate = datetime.combine(
                    local_now.date() + timedelta(days=1), time(hour, minute), tzinfo=tz
                )
            return candidate.astimezone(UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise TriageError(
            f"{text!r} is not a time (use e.g. 2026-12-01 09:00, 2026-12-01, 09:00 or ISO 8601)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    parsed = parsed.astimezone(UTC)
    _require_future(parsed, now, "a snooze or dismissal")
    return parsed


def _name(by: str) -> str:
    name = " ".join((by or "").split())
    if not name:
        raise TriageError("say who you are (by): a name is required")
    if len(name) > MAX_NAME:
        raise TriageError(f"the name (by) is longer than {MAX_NAME} characters")
    return name


def _note(note: str | None) -> str | None:
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise TriageError(f"the note is longer than {MAX_NOTE} characters")
    return text or None


def _require_aware(value: datetime, what: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise TriageError(f"{what} must be a time with a time zone")


def _require_future(until: datetime, now: datetime, what: str) -> None:
    _require_aware(until, "until")
    if until <= now:
        raise TriageError(f"{what} must end in the future (until {_iso(until)} is not after now)")


def _require_choice(value: str | None, choices: Sequence[str], what: str) -> None:
    if value is not None and value not in choices:
        raise TriageError(f"{what} {value!r} is not one of {', '.join(choices)}")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
