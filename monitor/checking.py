"""The finding lifecycle: run the policy checks on the stored records and keep `findings` in step.

`run_checks(config, store, now, account_ids)`:
1. loads, for the accounts evaluated, only the records the checks need (`monitor.records`, the
   read side, says which);
2. gives each check a `CheckContext` per account and collects what it finds (pure: no I/O);
3. applies the lifecycle in one transaction: a finding new by fingerprint opens (`since` is when
   the breach began, `opened_at` is now); one still found stays open (`last_seen_at`, detail
   refreshed); an open finding no longer found resolves, with the time and the check's reason.
   Only findings of the accounts (and checks) evaluated can resolve, so the run after one
   account's poll touches that account (and its language pair) only. A check that fails on an
   account is logged and leaves that account's findings of that check as they were.
"""

from __future__ import annotations

import time as _time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from checks import all_checks, get_check
from checks.base import Check, CheckContext
from monitor.access import sync_registry
from monitor.clock import utcnow
from monitor.config import Account, Config
from monitor.db import FindingRow
from monitor.logs import get_logger, redact
from monitor.models import Finding, severity_rank
from monitor.records import CHUNK as _CHUNK
from monitor.records import load_records
from monitor.store import Store, dialect_insert


@dataclass(frozen=True)
class Resolution:
    finding_id: int
    fingerprint: str
    check: str
    account_id: str
    subject: str
    reason: str
    resolved_at: datetime


@dataclass(frozen=True)
class Exemption:
    check: str
    account_id: str
    reason: str


@dataclass
class CheckRun:
    """What one run did: findings opened and resolved, how many are open for the accounts evaluated."""

    opened: list[Finding] = field(default_factory=list)
    resolved: list[Resolution] = field(default_factory=list)
    open_count: int = 0
    accounts: list[str] = field(default_factory=list)
    exempt: list[Exemption] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


def accounts_to_evaluate(config: Config, account_ids: Sequence[str] | None) -> list[Account]:
    """The enabled accounts asked for, plus their language pairs (a Welsh post clears the English one)."""
    enabled = [a for a in config.accounts if a.enabled]
    if account_ids is None:
        return enabled
    by_id = {a.id: a for a in config.accounts}
    unknown = [i for i in account_ids if i not in by_id]
    if unknown:
        raise KeyError(f"no account {unknown[0]!r} in the configuration")
    wanted = set(account_ids)
    wanted.update(by_id[i].pair for i in account_ids if by_id[i].pair)  # type: ignore[misc]
    return [a for a in enabled if a.id in wanted]


def run_checks(
    config: Config,
    store: Store,
    now: datetime | None = None,
    account_ids: list[str] | None = None,
) -> CheckRun:
    """Evaluate every check for the accounts (all when None) and apply the finding lifecycle."""
    started = _time.perf_counter()
    now = now or utcnow()
    accounts = accounts_to_evaluate(config, account_ids)
    run = CheckRun(accounts=[a.id for a in accounts])
    checks = all_checks()
    with store.session() as session:
        ids = [a.id for a in accounts]
        open_rows = _open_findings(session, None if account_ids is None else ids)
        sync_registry(session, accounts, now)  # access-review: who left since the last run
        records = load_records(session, config, accounts, now, open_rows)
        contexts = {a.id: records.context(config, a, now) for a in accounts}
        found: dict[str, Finding] = {}
        evaluated: set[tuple[str, str]] = set()
        for account in accounts:
            ctx = contexts[account.id]
            for check in checks:
                if not check.applies_to(account):
                    continue
                exempt = check.exemption(ctx)
                if exempt is not None:
                    run.exempt.append(Exemption(check.id, account.id, exempt))
                try:
                    results = check.evaluate(ctx)
                except Exception as exc:  # one failing check must not blind the others
                    message = f"{check.id} on {account.id}: {type(exc).__name__}: {redact(str(exc))}"
                    logger = get_logger(component="checks", check=check.id, account=account.id)
                    logger.error("check_failed", error=redact(str(exc)))
                    run.errors.append(message)
                    continue
                evaluated.add((check.id, account.id))
                for finding in results:
                    found[finding.fingerprint] = finding
        monitored = {a.id for a in accounts}
        full_run = account_ids is None
        _apply_lifecycle(session, run, now, found, open_rows, evaluated, contexts, monitored, full_run)
        run.open_count = _count_open(session, None if account_ids is None else ids)
    run.seconds = _time.perf_counter() - started
    # Bound per call: a logger bound at import would keep the configuration of that moment.
    get_logger(component="checks").info(
        "checks_run",
        accounts=len(accounts),
        opened=len(run.opened),
        resolved=len(run.resolved),
        open=run.open_count,
        errors=len(run.errors),
        seconds=round(run.seconds, 3),
    )
    return run


# --- lifecycle --------------------------------------------------------------------------------


def _apply_lifecycle(
    session: Session,
    run: CheckRun,
    now: datetime,
    found: dict[str, Finding],
    open_rows: Sequence[FindingRow],
    evaluated: set[tuple[str, str]],
    contexts: dict[str, CheckContext],
    monitored: set[str],
    full_run: bool,
) -> None:
    open_by_fp = {row.fingerprint: row for row in open_rows}
    new = [f for fp, f in found.items() if fp not in open_by_fp]
    _insert_findings(session, new, now)
    run.opened.extend(new)

    unchanged: list[int] = []
    for fp, finding in found.items():
        row = open_by_fp.get(fp)
        if row is None:
            continue
        if (row.severity, row.title, row.detail, row.url, row.immediate) == (
            finding.severity,
            finding.title,
            finding.detail,
            finding.url,
            finding.immediate,
        ):
            unchanged.append(row.id)
            continue
        row.severity, row.title, row.detail = finding.severity, finding.title, finding.detail
        row.url, row.immediate, row.last_seen_at = finding.url, finding.immediate, now
    for start in range(0, len(unchanged), _CHUNK):
        chunk = unchanged[start : start + _CHUNK]
        stmt = update(FindingRow).where(FindingRow.id.in_(chunk)).values(last_seen_at=now)
        # No need to refresh the loaded rows in memory: matching them costs more than the UPDATE.
        session.execute(stmt, execution_options={"synchronize_session": False})

    for fp, row in open_by_fp.items():
        if fp in found:
            continue
        reason = _resolution_reason(row, evaluated, contexts, monitored, full_run)
        if reason is None:
            continue
        row.status, row.resolved_at, row.resolve_reason = "resolved", now, reason
        run.resolved.append(Resolution(row.id, fp, row.check, row.account_id, row.subject, reason, now))
    session.flush()


def _resolution_reason(
    row: FindingRow,
    evaluated: set[tuple[str, str]],
    contexts: dict[str, CheckContext],
    monitored: set[str],
    full_run: bool,
) -> str | None:
    """Why an open finding not found this run resolves; None when this run cannot tell (leave it open)."""
    if row.account_id not in monitored:
        return "the account is no longer monitored (removed or disabled)" if full_run else None
    try:
        check: Check = get_check(row.check)
    except KeyError:
        return f"the check {row.check!r} no longer exists"
    ctx = contexts[row.account_id]
    if not check.applies_to(ctx.account):
        return f"the check no longer applies to {ctx.account.platform} accounts"
    if (row.check, row.account_id) not in evaluated:
        return None  # the check failed on this account this run
    exempt = check.exemption(ctx)
    if exempt is not None:
        return f"the account is exempt: {exempt}"
    try:
        return check.resolution_reason(ctx, row.subject)
    except Exception:  # the reason is a courtesy; the resolution stands
        return "condition no longer holds"


def _insert_findings(session: Session, findings: Sequence[Finding], now: datetime) -> None:
    """Insert new open findings; a concurrent run that opened the same one first wins quietly."""
    if not findings:
        return
    rows = [
        {
            "fingerprint": f.fingerprint,
            "check": f.check,
            "account_id": f.account_id,
            "subject": f.subject,
            "severity": f.severity,
            "status": "open",
            "title": f.title,
            "detail": f.detail,
            "policy_section": f.policy_section,
            "url": f.url,
            "immediate": f.immediate,
            "since": f.since,
            "opened_at": now,
            "last_seen_at": now,
        }
        for f in findings
    ]
    for start in range(0, len(rows), _CHUNK):
        stmt = dialect_insert(session, FindingRow).values(rows[start : start + _CHUNK])
        # The predicate is literal text: PostgreSQL infers a partial index only from a matching predicate.
        open_only = text("status = 'open'")
        stmt = stmt.on_conflict_do_nothing(index_elements=["fingerprint"], index_where=open_only)
        session.execute(stmt)


def _open_findings(session: Session, account_ids: Sequence[str] | None) -> list[FindingRow]:
    stmt = select(FindingRow).where(FindingRow.status == "open")
    if account_ids is not None:
        stmt = stmt.where(FindingRow.account_id.in_(list(account_ids)))
    return list(session.scalars(stmt))


def _count_open(session: Session, account_ids: Sequence[str] | None) -> int:
    stmt = select(func.count()).select_from(FindingRow).where(FindingRow.status == "open")
    if account_ids is not None:
        stmt = stmt.where(FindingRow.account_id.in_(list(account_ids)))
    return int(session.scalar(stmt) or 0)


def list_open_findings(session: Session, account_ids: Sequence[str] | None = None) -> list[FindingRow]:
    """Open findings (all, or of these accounts), most severe and oldest first."""
    rows = _open_findings(session, account_ids)
    return sorted(rows, key=lambda r: (-severity_rank(r.severity), r.since, r.check, r.account_id, r.subject))
