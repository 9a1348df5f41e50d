"""The read side of the checks: stored rows back into the records the checks read.

`load_records(session, config, accounts, now, open_rows)` reads, for the accounts evaluated, only
the records the checks need: posts, messages and replies of the look-back (max(policy.backfill,
14 days)), videos still lacking captions from the last 90 days, every record an open finding is
about (so a finding about an old message stays open until it is answered), the newest original
post, the newest three profile snapshots, the queued scheduled posts, the poll state and the
active emergency. `Records.context` then gives each account its `CheckContext`.

A row becomes a record through the record dataclass's own fields (`record_from_row`): the
columns selected and the values passed are both read from `dataclasses.fields`, so a field added
to a record and to its table is loaded without editing this module.
"""

from __future__ import annotations

import functools
import typing
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Row, and_, func, or_, select, tuple_
from sqlalchemy.orm import Session

from checks.base import AccessState, CheckContext, Emergency, PollState, PostingHistory
from monitor.access import load_access
from monitor.config import Account, Config
from monitor.coverage import CoverageGap, CredentialState, DiscoveredAccount
from monitor.credentials import coverage_gaps, credential_states, discovered_accounts
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
from monitor.logs import redact
from monitor.models import Message, Post, ProfileSnapshot, Reply, ScheduledPost
from monitor.tagging import tag_profile
from monitor.worktime import for_account

MIN_LOOKBACK = timedelta(days=14)
VIDEO_LOOKBACK = timedelta(days=90)
PROFILE_SNAPSHOTS = 3
ORIGINAL_KINDS = ("original", "quote")
CHUNK = 500

R = TypeVar("R")


def lookback(config: Config) -> timedelta:
    return max(config.policy.backfill, MIN_LOOKBACK)


# --- rows to records --------------------------------------------------------------------------


@functools.cache
def _converters(record: type[Any]) -> tuple[tuple[str, Any], ...]:
    """(field name, how to turn a stored value into the field's value) for each field of `record`.

    A NULL becomes the field's default (or "" for a text field without one); a JSON list becomes
    the tuple the frozen record holds; a boolean column may come back as 0/1 from SQLite.
    """
    hints = typing.get_type_hints(record)
    out: list[tuple[str, Any]] = []
    for f in fields(record):
        hint = hints[f.name]
        origin = typing.get_origin(hint)
        default = f.default if f.default is not MISSING else ("" if hint is str else None)
        if origin is tuple:
            out.append((f.name, lambda v: tuple(v or ())))
        elif hint is bool:
            out.append((f.name, bool))
        else:
            out.append((f.name, lambda v, d=default: d if v is None else v))
    return tuple(out)


def record_from_row(record: type[R], row: Any) -> R:
    """The record of type `record` (a dataclass) made from a row holding a column per field."""
    converters = _converters(record)  # type: ignore[arg-type]  # a class is hashable
    return record(**{name: convert(getattr(row, name)) for name, convert in converters})


def record_columns(record: type[Any], table: type[Any]) -> tuple[Any, ...]:
    """The columns of `table` that hold the fields of `record`, in field order."""
    return tuple(getattr(table, f.name) for f in fields(record))


_POST_COLUMNS = record_columns(Post, PostRow)
_MESSAGE_COLUMNS = record_columns(Message, MessageRow)
_REPLY_COLUMNS = record_columns(Reply, ReplyRow)


# --- the records of one run -------------------------------------------------------------------


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
    # credentials and coverage (issue 15)
    gaps: dict[str, list[CoverageGap]] = field(default_factory=lambda: defaultdict(list))
    credentials: dict[str, CredentialState] = field(default_factory=dict)
    unregistered: tuple[DiscoveredAccount, ...] = ()

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
            coverage_gaps=tuple(self.gaps.get(account.id, ())),
            credential=self.credentials.get(account.id),
            unregistered=self.unregistered,
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
    _load_credentials(session, config, records, ids)
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
    for chunk in chunks(ids):
        yield from session.execute(select(*columns).where(_in_accounts(account_column, chunk), *where))


def _rows_by_key(
    session: Session, columns: Sequence[Any], key_columns: tuple[Any, Any], keys: Iterable[tuple[str, str]]
) -> Iterator[Row[Any]]:
    """`columns` of the rows whose (platform, native_id) is one of `keys` (queried in chunks)."""
    for chunk in chunks(sorted(keys)):
        yield from session.execute(select(*columns).where(tuple_(*key_columns).in_(chunk)))


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
        records.posts[row.account_id].append(record_from_row(Post, row))
    for row in _rows_by_key(session, _POST_COLUMNS, (PostRow.platform, PostRow.native_id), wanted - seen):
        records.posts[row.account_id].append(record_from_row(Post, row))


def _load_latest_originals(session: Session, records: Records, ids: Sequence[str]) -> None:
    for chunk in chunks(ids):
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
                records.latest_original[account_id] = record_from_row(Post, row)


def _load_messages(
    session: Session, records: Records, ids: Sequence[str], start: datetime, wanted: set[tuple[str, str]]
) -> datetime:
    """Load messages; returns the oldest creation time loaded (replies are read from there on)."""
    oldest = start
    recent = MessageRow.created_at >= start
    for row in _rows_for_accounts(session, _MESSAGE_COLUMNS, MessageRow.account_id, ids, recent):
        records.messages[row.account_id].append(record_from_row(Message, row))
    seen: set[tuple[str, str]] = set()
    if wanted:
        seen = {(m.platform, m.native_id) for items in records.messages.values() for m in items}
    key = (MessageRow.platform, MessageRow.native_id)
    for row in _rows_by_key(session, _MESSAGE_COLUMNS, key, wanted - seen):
        records.messages[row.account_id].append(record_from_row(Message, row))
        oldest = min(oldest, row.created_at)
    return oldest


def _load_replies(session: Session, records: Records, ids: Sequence[str], start: datetime) -> None:
    recent = ReplyRow.created_at >= start
    for row in _rows_for_accounts(session, _REPLY_COLUMNS, ReplyRow.account_id, ids, recent):
        records.replies[row.account_id].append(record_from_row(Reply, row))


def _load_profiles(session: Session, records: Records, ids: Sequence[str]) -> None:
    for chunk in chunks(ids):
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
            profile = record_from_row(ProfileSnapshot, row)
            if row.language is None:  # stored before the poll tagged profiles: tag it as the poll would
                profile = tag_profile(profile)
            records.profiles[row.account_id].append(profile)


def _load_scheduled(session: Session, records: Records, ids: Sequence[str]) -> None:
    for chunk in chunks(ids):
        stmt = select(ScheduledPostRow).where(
            _in_accounts(ScheduledPostRow.account_id, chunk), ScheduledPostRow.gone_at.is_(None)
        )
        for row in session.scalars(stmt):
            records.scheduled[row.account_id].append(record_from_row(ScheduledPost, row))


def _load_poll_state(session: Session, records: Records, ids: Sequence[str]) -> None:
    failing: list[str] = []
    for chunk in chunks(ids):
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


def _load_credentials(session: Session, config: Config, records: Records, ids: Sequence[str]) -> None:
    for gap in coverage_gaps(session, ids):
        records.gaps[gap.account_id].append(gap)
    records.credentials = credential_states(session, ids)
    records.unregistered = unregistered_accounts(config, discovered_accounts(session))


def unregistered_accounts(
    config: Config, found: Iterable[DiscoveredAccount]
) -> tuple[DiscoveredAccount, ...]:
    """Discovered accounts neither in the registry (by native id or handle) nor in discovery.ignore."""
    known = set()
    for account in config.accounts:
        if account.native_id:
            known.add((account.platform, account.native_id))
        if account.handle:
            known.add((account.platform, "@" + account.handle.lstrip("@").lower()))
    return tuple(
        item
        for item in found
        if (item.platform, item.native_id) not in known
        and (not item.handle or (item.platform, "@" + item.handle.lower()) not in known)
        and not config.discovery.ignores(item.platform, item.native_id, item.handle)
    )


def active_emergency(session: Session) -> Emergency | None:
    stmt = select(EmergencyRow).where(EmergencyRow.ended_at.is_(None))
    row = session.scalars(stmt.order_by(EmergencyRow.started_at.desc()).limit(1)).first()
    return Emergency(started_at=row.started_at, reason=row.reason or "") if row else None


def chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
