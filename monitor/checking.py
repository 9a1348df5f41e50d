"""Run the policy checks on the stored records and keep the `findings` table in step.

`run_checks(config, store, now, account_ids)`:
1. loads, for the accounts evaluated, only the records the checks need: posts, messages and
   replies of the look-back (max(policy.backfill, 14 days)), videos still lacking captions from
   the last 90 days, every record an open finding is about (so a finding about an old message
   stays open until it is answered), the newest original post, the newest three profile
   snapshots, the queued scheduled posts, the poll state and the active emergency;
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
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, func, or_, select, text, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from checks import all_checks, get_check
from checks.base import AccessState, Check, CheckContext, Emergency, PollState, PostingHistory
from monitor.access import load_access, sync_registry
from monitor.config import Account, Config
from monitor.db import (
    AccountStateRow,
    EmergencyRow,
    FindingRow,
    MessageRow,
    PollRunRow,
    PostRow,
    ProfileSnapshotRow,
    ReplyRow,
    ScheduledPostRow,
)
from monitor.history import load_history
from monitor.logs import get_logger, redact
from monitor.models import Finding, Message, Post, ProfileSnapshot, Reply, ScheduledPost
from monitor.store import Store, utcnow
from monitor.worktime import for_account

MIN_LOOKBACK = timedelta(days=14)
VIDEO_LOOKBACK = timedelta(days=90)
PROFILE_SNAPSHOTS = 3
ORIGINAL_KINDS = ("original", "quote")
_CHUNK = 500


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


def lookback(config: Config) -> timedelta:
    return max(config.policy.backfill, MIN_LOOKBACK)


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
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for start in range(0, len(rows), _CHUNK):
        stmt = insert(FindingRow).values(rows[start : start + _CHUNK])
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
    from monitor.models import severity_rank

    rows = _open_findings(session, account_ids)
    return sorted(rows, key=lambda r: (-severity_rank(r.severity), r.since, r.check, r.account_id, r.subject))


# --- loading ----------------------------------------------------------------------------------


@dataclass
class Records:
    """The records of the accounts evaluated, grouped by account."""

    posts: dict[str, list[Post]] = field(default_factory=lambda: defaultdict(list))
    latest_original: dict[str, Post] = field(default_factory=dict)
    messages: dict[str, list[Message]] = field(default_factory=lambda: defaultdict(list))
    replies: dict[str, list[Reply]] = field(default_factory=lambda: defaultdict(list))
    profiles: dict[str, list[ProfileSnapshot]] = field(default_factory=lambda: defaultdict(list))
    scheduled: dict[str, list[ScheduledPost]] = field(default_factory=lambda: defaultdict(list))
    poll: dict[str, PollState] = field(default_factory=dict)
    emergency: Emergency | None = None
    lookback: timedelta = MIN_LOOKBACK
    history: dict[str, PostingHistory] = field(default_factory=dict)  # post-anomaly, clickable
    access: dict[str, AccessState] = field(default_factory=dict)  # access-review

    def context(self, config: Config, account: Account, now: datetime) -> CheckContext:
        pair = _pair_account(config, account)
        return CheckContext(
            account=account,
            policy=config.policy,
            now=now,
            worktime=for_account(account, config),
            lookback=self.lookback,
            posts=tuple(self.posts.get(account.id, ())),
            latest_original=self.latest_original.get(account.id),
            messages=tuple(self.messages.get(account.id, ())),
            replies=tuple(self.replies.get(account.id, ())),
            profiles=tuple(self.profiles.get(account.id, ())),
            scheduled=tuple(self.scheduled.get(account.id, ())),
            pair=pair,
            pair_posts=tuple(self.posts.get(pair.id, ())) if pair else (),
            poll=self.poll.get(account.id),
            emergency=self.emergency,
            central_accounts=tuple(a for a in config.accounts if a.is_central),
            history=self.history.get(account.id),
            access=self.access.get(account.id),
        )


def _pair_account(config: Config, account: Account) -> Account | None:
    if not account.pair:
        return None
    try:
        return config.account(account.pair)
    except KeyError:
        return None


def load_records(
    session: Session,
    config: Config,
    accounts: Sequence[Account],
    now: datetime,
    open_rows: Iterable[FindingRow] = (),
) -> Records:
    """Read what the checks need for these accounts, in a handful of queries."""
    records = Records(lookback=lookback(config))
    ids = [a.id for a in accounts]
    if not ids:
        return records
    records.emergency = active_emergency(session)
    start = now - records.lookback
    if records.emergency is not None:
        start = min(start, records.emergency.started_at)
    wanted_posts, wanted_messages = _open_subjects(open_rows, set(ids))

    # A pair's posts are read even when the pair itself is not evaluated (disabled, or not asked for).
    post_ids = sorted(set(ids) | {a.pair for a in accounts if a.pair})
    _load_posts(session, records, post_ids, start, now - VIDEO_LOOKBACK, wanted_posts)
    _load_latest_originals(session, records, ids)
    oldest_message = _load_messages(session, records, ids, start, wanted_messages)
    _load_replies(session, records, ids, min(start, oldest_message))
    _load_profiles(session, records, ids)
    _load_scheduled(session, records, ids)
    _load_poll_state(session, records, ids)
    records.history = load_history(session, ids, now, now - records.lookback)
    records.access = load_access(session, ids)
    for grouped in (records.posts, records.messages, records.replies):
        for items in grouped.values():
            items.sort(key=lambda r: (r.created_at, r.native_id))
    return records


def _open_subjects(
    open_rows: Iterable[FindingRow], ids: set[str]
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    posts: set[tuple[str, str]] = set()
    messages: set[tuple[str, str]] = set()
    for row in open_rows:
        if row.account_id not in ids:
            continue
        kind, _, rest = row.subject.partition(":")
        platform, _, native_id = rest.partition(":")
        if kind == "post" and native_id:
            posts.add((platform, native_id))
        elif kind == "message" and native_id:
            messages.add((platform, native_id))
    return posts, messages


def _in_accounts(column: Any, ids: Sequence[str]) -> Any:
    return column.in_(list(ids))


def _rows_for_accounts(
    session: Session, columns: Sequence[Any], account_column: Any, ids: Sequence[str], *where: Any
) -> Iterator[Row[Any]]:
    """`columns` of the rows of these accounts that match `where` (ids queried in chunks)."""
    for chunk in _chunks(ids):
        yield from session.execute(select(*columns).where(_in_accounts(account_column, chunk), *where))


def _rows_by_key(
    session: Session, columns: Sequence[Any], key_columns: tuple[Any, Any], keys: Iterable[tuple[str, str]]
) -> Iterator[Row[Any]]:
    """`columns` of the rows whose (platform, native_id) is one of `keys` (queried in chunks)."""
    for chunk in _chunks(sorted(keys)):
        yield from session.execute(select(*columns).where(tuple_(*key_columns).in_(chunk)))


_POST_COLUMNS = (
    PostRow.platform, PostRow.native_id, PostRow.account_id, PostRow.created_at, PostRow.text,
    PostRow.url, PostRow.kind, PostRow.language, PostRow.language_confidence, PostRow.links,
    PostRow.hashtags, PostRow.media, PostRow.has_video, PostRow.video_captions, PostRow.live, PostRow.title,
)  # fmt: skip


def _post(row: Any) -> Post:
    return Post(
        platform=row.platform,
        native_id=row.native_id,
        account_id=row.account_id,
        created_at=row.created_at,
        text=row.text or "",
        url=row.url or "",
        kind=row.kind,
        language=row.language,
        language_confidence=row.language_confidence or 0.0,
        links=tuple(row.links or ()),
        hashtags=tuple(row.hashtags or ()),
        media=tuple(row.media or ()),
        has_video=bool(row.has_video),
        video_captions=row.video_captions,
        live=bool(row.live),
        title=row.title or "",
    )


def _load_posts(
    session: Session,
    records: Records,
    ids: Sequence[str],
    start: datetime,
    video_start: datetime,
    wanted: set[tuple[str, str]],
) -> None:
    seen: set[tuple[str, str]] = set()
    videos_lacking_captions = and_(
        PostRow.has_video.is_(True),
        PostRow.live.is_(False),
        PostRow.video_captions != "yes",
        PostRow.created_at >= video_start,
    )
    recent = or_(PostRow.created_at >= start, videos_lacking_captions)
    for row in _rows_for_accounts(session, _POST_COLUMNS, PostRow.account_id, ids, recent):
        seen.add((row.platform, row.native_id))
        records.posts[row.account_id].append(_post(row))
    for row in _rows_by_key(session, _POST_COLUMNS, (PostRow.platform, PostRow.native_id), wanted - seen):
        records.posts[row.account_id].append(_post(row))


def _load_latest_originals(session: Session, records: Records, ids: Sequence[str]) -> None:
    for chunk in _chunks(ids):
        newest = (
            select(PostRow.account_id, func.max(PostRow.created_at).label("created_at"))
            .where(_in_accounts(PostRow.account_id, chunk), PostRow.kind.in_(ORIGINAL_KINDS))
            .group_by(PostRow.account_id)
        )
        latest = {row.account_id: row.created_at for row in session.execute(newest)}
        for account_id, created_at in latest.items():
            candidates = [
                p
                for p in records.posts.get(account_id, ())
                if p.created_at == created_at and p.kind in ORIGINAL_KINDS
            ]
            if candidates:
                records.latest_original[account_id] = candidates[0]
        older = [(a, c) for a, c in latest.items() if a not in records.latest_original]
        for account_id, created_at in older:
            stmt = (
                select(*_POST_COLUMNS)
                .where(
                    PostRow.account_id == account_id,
                    PostRow.created_at == created_at,
                    PostRow.kind.in_(ORIGINAL_KINDS),
                )
                .limit(1)
            )
            row = session.execute(stmt).first()
            if row is not None:
                records.latest_original[account_id] = _post(row)


_MESSAGE_COLUMNS = (
    MessageRow.platform, MessageRow.native_id, MessageRow.account_id, MessageRow.channel,
    MessageRow.author_id, MessageRow.author_name, MessageRow.created_at, MessageRow.text, MessageRow.language,
    MessageRow.language_confidence, MessageRow.is_enquiry, MessageRow.in_reply_to, MessageRow.conversation_id,
    MessageRow.url,
)  # fmt: skip


def _message(row: Any) -> Message:
    return Message(
        platform=row.platform,
        native_id=row.native_id,
        account_id=row.account_id,
        channel=row.channel,
        author_id=row.author_id or "",
        author_name=row.author_name or "",
        created_at=row.created_at,
        text=row.text or "",
        language=row.language,
        language_confidence=row.language_confidence or 0.0,
        is_enquiry=bool(row.is_enquiry),
        in_reply_to=row.in_reply_to or "",
        conversation_id=row.conversation_id or "",
        url=row.url or "",
    )


def _load_messages(
    session: Session, records: Records, ids: Sequence[str], start: datetime, wanted: set[tuple[str, str]]
) -> datetime:
    """Load messages; returns the oldest creation time loaded (replies are read from there on)."""
    oldest = start
    recent = MessageRow.created_at >= start
    for row in _rows_for_accounts(session, _MESSAGE_COLUMNS, MessageRow.account_id, ids, recent):
        records.messages[row.account_id].append(_message(row))
    seen: set[tuple[str, str]] = set()
    if wanted:
        seen = {(m.platform, m.native_id) for items in records.messages.values() for m in items}
    key = (MessageRow.platform, MessageRow.native_id)
    for row in _rows_by_key(session, _MESSAGE_COLUMNS, key, wanted - seen):
        records.messages[row.account_id].append(_message(row))
        oldest = min(oldest, row.created_at)
    return oldest


def _load_replies(session: Session, records: Records, ids: Sequence[str], start: datetime) -> None:
    columns = (
        ReplyRow.platform, ReplyRow.native_id, ReplyRow.account_id, ReplyRow.created_at, ReplyRow.text,
        ReplyRow.in_reply_to, ReplyRow.conversation_id, ReplyRow.language, ReplyRow.language_confidence,
    )  # fmt: skip
    for row in _rows_for_accounts(session, columns, ReplyRow.account_id, ids, ReplyRow.created_at >= start):
        records.replies[row.account_id].append(
            Reply(
                platform=row.platform,
                native_id=row.native_id,
                account_id=row.account_id,
                created_at=row.created_at,
                text=row.text or "",
                in_reply_to=row.in_reply_to or "",
                conversation_id=row.conversation_id or "",
                language=row.language,
                language_confidence=row.language_confidence or 0.0,
            )
        )


def _load_profiles(session: Session, records: Records, ids: Sequence[str]) -> None:
    for chunk in _chunks(ids):
        ranked = (
            select(
                ProfileSnapshotRow,
                func.row_number()
                .over(
                    partition_by=ProfileSnapshotRow.account_id,
                    order_by=(ProfileSnapshotRow.taken_at.desc(), ProfileSnapshotRow.id.desc()),
                )
                .label("rank"),
            )
            .where(_in_accounts(ProfileSnapshotRow.account_id, chunk))
            .subquery()
        )
        stmt = (
            select(ranked)
            .where(ranked.c.rank <= PROFILE_SNAPSHOTS)
            .order_by(ranked.c.account_id, ranked.c.rank)
        )
        for row in session.execute(stmt):
            records.profiles[row.account_id].append(
                ProfileSnapshot(
                    account_id=row.account_id,
                    taken_at=row.taken_at,
                    name=row.name or "",
                    handle=row.handle or "",
                    text=row.text or "",
                    avatar_fingerprint=row.avatar_fingerprint or "",
                    url=row.url or "",
                )
            )


def _load_scheduled(session: Session, records: Records, ids: Sequence[str]) -> None:
    for chunk in _chunks(ids):
        stmt = select(ScheduledPostRow).where(
            _in_accounts(ScheduledPostRow.account_id, chunk), ScheduledPostRow.gone_at.is_(None)
        )
        for row in session.scalars(stmt):
            records.scheduled[row.account_id].append(
                ScheduledPost(
                    platform=row.platform,
                    native_id=row.native_id,
                    account_id=row.account_id,
                    scheduled_for=row.scheduled_for,
                    text=row.text or "",
                    url=row.url or "",
                )
            )


def _load_poll_state(session: Session, records: Records, ids: Sequence[str]) -> None:
    failing: list[str] = []
    for chunk in _chunks(ids):
        stmt = select(AccountStateRow).where(_in_accounts(AccountStateRow.account_id, chunk))
        for row in session.scalars(stmt):
            records.poll[row.account_id] = PollState(
                last_poll_at=row.last_poll_at,
                last_status=row.last_status,
                last_ok_at=row.last_ok_at,
                failing_since=row.failing_since,
            )
            if row.failing_since is not None:
                failing.append(row.account_id)
    for account_id in failing:  # few: the error text of the latest run, for the finding's detail
        error_stmt = (
            select(PollRunRow.error)
            .where(PollRunRow.account_id == account_id, PollRunRow.error.is_not(None))
            .order_by(PollRunRow.id.desc())
            .limit(1)
        )
        error = session.scalar(error_stmt)
        if error:
            state = records.poll[account_id]
            text = redact(str(error)).splitlines()[0][:200]
            records.poll[account_id] = PollState(
                state.last_poll_at, state.last_status, state.last_ok_at, state.failing_since, text
            )


def active_emergency(session: Session) -> Emergency | None:
    stmt = select(EmergencyRow).where(EmergencyRow.ended_at.is_(None))
    row = session.scalars(stmt.order_by(EmergencyRow.started_at.desc()).limit(1)).first()
    return Emergency(started_at=row.started_at, reason=row.reason or "") if row else None


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
