"""access-review's memory: the registry each account had, who left it, and confirmed reviews.

- `sync_registry` (called by each check run for the accounts it evaluates, in its transaction)
  compares an account's `people` and `manager` with what was recorded last time: everyone who
  left `people`, and a manager who stopped being the manager, becomes a `registry_changes` row
  (who, in which role, when it was seen). The first run that sees an account records its
  registry as the baseline (nobody "left").
- `confirm_access` records `socialmon accounts confirm-access`: who confirmed, when, and a note.
- `load_access` gives the check each account's `AccessState`: when the registry was first
  recorded, the changes since the last confirmation, and that confirmation.
Email addresses are compared case-insensitively.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from checks.base import AccessState, RegistryChange
from monitor.config import Account
from monitor.db import AccessConfirmationRow, AccountRegistryRow, RegistryChangeRow


def _people(account: Account) -> list[str]:
    return sorted({p.lower() for p in account.people})


def _manager(account: Account) -> str | None:
    return account.manager.lower() if account.manager else None


def sync_registry(session: Session, accounts: Sequence[Account], now: datetime) -> int:
    """Record registry changes since the last run; returns how many changes were recorded."""
    ids = [a.id for a in accounts]
    rows = {
        row.account_id: row
        for row in session.scalars(select(AccountRegistryRow).where(AccountRegistryRow.account_id.in_(ids)))
    }
    changes = 0
    for account in accounts:
        people, manager = _people(account), _manager(account)
        row = rows.get(account.id)
        if row is None:
            session.add(
                AccountRegistryRow(
                    account_id=account.id, people=people, manager=manager, first_seen_at=now, updated_at=now
                )
            )
            continue
        if list(row.people or []) == people and row.manager == manager:
            continue
        for person in sorted(set(row.people or []) - set(people)):
            session.add(RegistryChangeRow(account_id=account.id, person=person, role="person", at=now))
            changes += 1
        if row.manager and row.manager != manager:
            session.add(RegistryChangeRow(account_id=account.id, person=row.manager, role="manager", at=now))
            changes += 1
        row.people, row.manager, row.updated_at = people, manager, now
    session.flush()
    return changes


def confirm_access(session: Session, account_id: str, by: str, note: str, now: datetime) -> None:
    session.add(AccessConfirmationRow(account_id=account_id, confirmed_by=by, note=note, confirmed_at=now))
    session.flush()


def load_access(session: Session, ids: Sequence[str]) -> dict[str, AccessState]:
    ids = list(ids)
    latest = (
        select(AccessConfirmationRow.account_id, func.max(AccessConfirmationRow.id).label("id"))
        .where(AccessConfirmationRow.account_id.in_(ids))
        .group_by(AccessConfirmationRow.account_id)
        .subquery()
    )
    confirmed = {
        row.account_id: row
        for row in session.scalars(
            select(AccessConfirmationRow).join(latest, AccessConfirmationRow.id == latest.c.id)
        )
    }
    changes: dict[str, list[RegistryChange]] = {}
    query = (
        select(RegistryChangeRow).where(RegistryChangeRow.account_id.in_(ids)).order_by(RegistryChangeRow.at)
    )
    for change in session.scalars(query):
        last = confirmed.get(change.account_id)
        if last is not None and change.at <= last.confirmed_at:
            continue
        changes.setdefault(change.account_id, []).append(
            RegistryChange(change.person, change.role, change.at)
        )
    states = {}
    for row in session.scalars(select(AccountRegistryRow).where(AccountRegistryRow.account_id.in_(ids))):
        last = confirmed.get(row.account_id)
        states[row.account_id] = AccessState(
            first_seen_at=row.first_seen_at,
            changes=tuple(changes.get(row.account_id, ())),
            last_confirmed_at=last.confirmed_at if last else None,
            last_confirmed_by=last.confirmed_by if last else "",
        )
    return states
