"""Poll one account: fetch through its connector, then store everything in ONE transaction.

The HTTP work happens outside any transaction (no database lock is held while a platform is slow).
Then records, the advanced cursor, rate-limit state, quota units, the PollRun and the account's
state are written together: a crash before the commit stores nothing and leaves the cursor where it
was, so the next poll fetches the same items again and the upserts store each of them once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from connectors.base import BaseConnector, Connector, ConnectorError, RateLimited
from connectors.specs import platform_spec
from monitor.clock import utcnow
from monitor.config import Account, Config
from monitor.credentials import replace_coverage_gaps
from monitor.db import PollRunRow, RateLimitRow
from monitor.logs import get_logger, redact
from monitor.models import FetchResult
from monitor.seams import PollStatus
from monitor.setaside import StoreFailed, note_bad_item, set_aside_keys, set_aside_unstorable
from monitor.storable import storable_text
from monitor.store import (
    Store,
    account_state,
    add_quota_units,
    load_cursor,
    save_cursor,
    store_messages,
    store_posts,
    store_profile,
    store_rate_limits,
    store_replies,
    store_scheduled,
    upsert_rows,
)
from monitor.tagging import tag_result


@dataclass
class PollOutcome:
    account_id: str
    status: PollStatus  # "ok" | "warning" | an error kind (auth_expired, permission_missing, ...)
    new_posts: int = 0
    new_messages: int = 0
    api_calls: int = 0
    error: str | None = None
    retry_after: datetime | None = None
    new_replies: int = 0
    quota_units: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status not in {"ok", "warning"}

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account_id,
            "status": self.status,
            "new_posts": self.new_posts,
            "new_messages": self.new_messages,
            "api_calls": self.api_calls,
            "error": self.error,
        }


def quota_day(platform: str, now: datetime) -> str:
    """The day a platform's daily quota belongs to (its spec's `quota_zone`; YouTube: Pacific)."""
    return platform_spec(platform).quota_day(now)


def poll_account(
    config: Config,
    store: Store,
    account: Account,
    now: datetime | None = None,
    connector: Connector | None = None,
) -> PollOutcome:
    """One poll of one account; returns what happened. Raises only if the database itself fails."""
    now = now or utcnow()
    log = get_logger(account=account.id, platform=account.platform)
    started = time.monotonic()
    if connector is None:
        from connectors import get_connector

        connector = get_connector(account.platform, config)
    with store.session() as session:
        cursor = load_cursor(session, account.id)
        skip = set_aside_keys(session, account.id)
    prepare_user_token(store, connector, account, now)

    try:
        if skip and isinstance(connector, BaseConnector):
            result = connector.fetch(account, cursor, now, set_aside=skip)
        else:
            result = connector.fetch(account, cursor, now)
    except ConnectorError as error:
        finished = now + timedelta(seconds=time.monotonic() - started)
        outcome = _record_failure(store, account, error, now, finished)
        item = getattr(error, "item", None)
        if item is not None:  # one item failed: after SET_ASIDE_AFTER such polls it is skipped
            note_bad_item(config, store, account, item, outcome.error or error.kind, now)
        log.warning("poll failed", status=outcome.status, error=outcome.error, api_calls=outcome.api_calls)
        return outcome
    except Exception as exc:  # a connector bug must not stop the other accounts
        finished = now + timedelta(seconds=time.monotonic() - started)
        crash = ConnectorError(f"{type(exc).__name__}: {exc}", kind="error")
        outcome = _record_failure(store, account, crash, now, finished)
        log.error("poll crashed in the connector", error=outcome.error, exc_info=True)
        return outcome

    finished = now + timedelta(seconds=time.monotonic() - started)
    try:
        tag_result(result)  # language and enquiry tags, once, before any transaction
    except Exception as exc:  # any failure anywhere in a poll is a recorded failure, never silence
        crash = ConnectorError(f"tagging the poll's text failed: {_error_text(exc)}", kind="error")
        crash.api_calls, crash.quota_units = result.api_calls, result.quota_units
        outcome = _record_failure(store, account, crash, now, finished)
        log.error("poll failed while tagging", error=outcome.error, exc_info=True)
        return outcome
    try:
        outcome = _record_success(store, account, result, now, finished)
    except Exception as exc:
        # One record the database refuses must not blind the account: store item by item,
        # setting aside what still fails; if even that fails, the poll is a recorded failure.
        log.warning("poll could not be stored whole; storing item by item", error=_error_text(exc))
        try:
            clean = set_aside_unstorable(config, store, account, result, now)
            outcome = _record_success(store, account, clean, now, finished)
        except Exception as again:
            cause = exc if isinstance(again, StoreFailed) else again  # the database's own words
            failure = ConnectorError(f"storing the poll failed: {_error_text(cause)}", kind="store_failed")
            failure.api_calls, failure.quota_units = result.api_calls, result.quota_units
            outcome = _record_failure(store, account, failure, now, finished)
            log.error("poll failed", status=outcome.status, error=outcome.error)
            return outcome
    log.info(
        "polled",
        status=outcome.status,
        new_posts=outcome.new_posts,
        new_messages=outcome.new_messages,
        api_calls=outcome.api_calls,
        warnings=outcome.warnings or None,
    )
    return outcome


def prepare_user_token(store: Store, connector: Connector, account: Account, now: datetime) -> None:
    """Hand a connector that reads with OAuth 2.0 user tokens (X DMs) the account's token, refreshed
    first when it is about to expire (monitor.tokens). Without a stored grant, a key or a working
    refresh the poll goes on without it: DMs become a coverage gap, a refused refresh a
    connector-health finding (recorded by the vault)."""
    refresh = getattr(connector, "refresh_grant", None)
    use = getattr(connector, "use_user_token", None)
    if refresh is None or use is None:
        return
    from connectors.access import AccessError
    from monitor.coverage import RefreshRejected
    from monitor.tokens import TokenKeyMissing, TokenVault, fernet_from_env

    token: str | None = None
    try:
        vault = TokenVault(store, fernet_from_env())
        token = vault.access_token(account.id, account.platform, now, lambda rt: refresh(rt, now))
    except TokenKeyMissing:
        token = None  # no key, no stored user tokens: `accounts verify` says so
    except RefreshRejected as refused:
        get_logger(account=account.id).warning("user token refresh refused", error=str(refused))
    except AccessError as error:  # transient: the next poll tries again
        get_logger(account=account.id).warning("user token refresh failed", error=str(error))
    use(account.id, token)


def _error_text(exc: BaseException) -> str:
    return redact(storable_text(f"{type(exc).__name__}: {exc}"))[:500]


def _record_success(
    store: Store, account: Account, result: FetchResult, now: datetime, finished: datetime
) -> PollOutcome:
    status: PollStatus = "warning" if result.warnings else "ok"
    with store.session() as session:
        if result.profile is not None:
            store_profile(session, result.profile)
        new_posts = store_posts(session, result.posts, now)
        new_messages = store_messages(session, result.messages, now)
        new_replies = store_replies(session, result.replies, now)
        if result.scheduled is not None:
            store_scheduled(session, account.id, result.scheduled, now)
        save_cursor(session, account.id, result.cursor, now)
        replace_coverage_gaps(session, account.id, result.gaps, now)
        store_rate_limits(session, result.rate_limits, now)
        add_quota_units(session, account.platform, quota_day(account.platform, now), result.quota_units)
        session.add(
            PollRunRow(
                account_id=account.id,
                started_at=now,
                finished_at=finished,
                status=status,
                error_kind=None,
                error=None,
                api_calls=result.api_calls,
                quota_units=result.quota_units,
                new_posts=new_posts,
                new_messages=new_messages,
                warnings=[storable_text(redact(w)) for w in result.warnings],
            )
        )
        _update_state(session, account.id, status, now, ok=True)
    return PollOutcome(
        account_id=account.id,
        status=status,
        new_posts=new_posts,
        new_messages=new_messages,
        api_calls=result.api_calls,
        new_replies=new_replies,
        quota_units=result.quota_units,
        warnings=list(result.warnings),
        error="; ".join(result.warnings) or None,
    )


def _record_failure(
    store: Store, account: Account, error: ConnectorError, now: datetime, finished: datetime
) -> PollOutcome:
    message = storable_text(redact(error.message))  # platform text in an error must not blind the account
    with store.session() as session:
        store_rate_limits(session, error.rate_limits, now)
        if isinstance(error, RateLimited):
            _block(session, account.platform, error.bucket or f"account:{account.id}", error.until, now)
        add_quota_units(session, account.platform, quota_day(account.platform, now), error.quota_units)
        session.add(
            PollRunRow(
                account_id=account.id,
                started_at=now,
                finished_at=finished,
                status=error.kind,
                error_kind=error.kind,
                error=message,
                api_calls=error.api_calls,
                quota_units=error.quota_units,
                new_posts=0,
                new_messages=0,
                warnings=[],
            )
        )
        _update_state(session, account.id, error.kind, now, ok=False)
    return PollOutcome(
        account_id=account.id,
        status=error.kind,
        api_calls=error.api_calls,
        error=message,
        retry_after=error.retry_after,
        quota_units=error.quota_units,
    )


def _block(session: Session, platform: str, bucket: str, until: datetime, now: datetime) -> None:
    """After a 429: no request to this bucket before `until` (the daemon schedules past it)."""
    row = {
        "platform": platform,
        "bucket": bucket,
        "reset_at": until,
        "blocked_until": until,
        "updated_at": now,
    }
    upsert_rows(
        session, RateLimitRow, [row], ("platform", "bucket"), ("reset_at", "blocked_until", "updated_at")
    )


def _update_state(session: Session, account_id: str, status: str, now: datetime, ok: bool) -> None:
    state = account_state(session, account_id)
    state.last_poll_at = now
    state.last_status = status
    if ok:
        state.last_ok_at = now
        state.failing_since = None
    elif state.failing_since is None:
        state.failing_since = now


def poll_accounts(
    config: Config,
    store: Store,
    account_ids: Iterable[str] | None = None,
    now: datetime | None = None,
    sleep: Callable[[float], None] | None = None,
) -> list[PollOutcome]:
    """Poll every enabled account (or the given ones) once; one account's failure never stops the rest.

    `sleep` is what the connectors' retries wait with (time.sleep when None; tests pass their own).
    """
    from connectors import get_connector

    accounts = (
        [config.account(i) for i in account_ids]
        if account_ids is not None
        else [a for a in config.accounts if a.enabled]
    )
    options = {} if sleep is None else {"sleep": sleep}
    connectors: dict[str, Connector] = {}
    outcomes = []
    for account in accounts:
        try:
            connector = connectors.get(account.platform) or get_connector(account.platform, config, **options)
            connectors[account.platform] = connector
            outcomes.append(poll_account(config, store, account, now=now, connector=connector))
        except Exception as exc:  # the database failed for this account: report it, go on
            get_logger(account=account.id).error("poll could not be stored", exc_info=True)
            outcomes.append(
                PollOutcome(
                    account_id=account.id, status="error", error=redact(f"{type(exc).__name__}: {exc}")
                )
            )
    return outcomes
