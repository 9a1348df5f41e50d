"""OAuth 2.0 user grants kept in the database, encrypted, and refreshed before they expire.

X access tokens last two hours and X rotates the refresh token on every use: the old one stops
working the moment X answers. So the newest refresh token must reach the database, and it goes
there encrypted with Fernet under the key in SOCIALMON_TOKEN_KEY (never logged, never stored in
the clear).

Dying mid-refresh. The refresh is write-ahead: `pending_refresh_at` is committed before the
refresh is sent, and the platform's answer is committed (clearing it) before the new access token
is used. If the process dies between X's answer and that commit, the rotated refresh token is
lost and X refuses the old one. The next refresh then finds `pending_refresh_at` still set, is
refused, and records a permanent failure naming the one command that recovers:
`socialmon accounts authorize --account ID` (a new grant; nothing else is lost). The
connector-health check raises it, and DMs show as a coverage gap until then.

One refresher at a time: the pending mark is set only where no other process set it within
CLAIM_TIMEOUT (a compare-and-set UPDATE), so the daemon and `accounts verify` never spend the same
refresh token twice; a process refused because another one rotated the token meanwhile takes
the newer grant instead of recording a failure.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NoReturn

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import update

from monitor.config import RESOLVED_SECRETS
from monitor.coverage import RefreshRejected, TokenGrant
from monitor.db import OAuthTokenRow
from monitor.store import Store, rows_changed

KEY_ENV = "SOCIALMON_TOKEN_KEY"
REFRESH_MARGIN = timedelta(minutes=10)  # refresh this long before the access token expires
CLAIM_TIMEOUT = timedelta(minutes=2)  # a refresh pending longer than this died (HTTP timeouts are 20 s)


class TokenKeyMissing(Exception):
    """SOCIALMON_TOKEN_KEY is not set or not a Fernet key."""


def fernet_from_env(environ: dict[str, str] | None = None) -> Fernet:
    env = os.environ if environ is None else environ
    key = env.get(KEY_ENV, "").strip()
    if not key:
        raise TokenKeyMissing(
            f"{KEY_ENV} is not set: generate one with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
        )
    try:
        return Fernet(key.encode())
    except ValueError:
        raise TokenKeyMissing(f"{KEY_ENV} is not a Fernet key (32 url-safe base64-encoded bytes)") from None


def authorize_fix(account_id: str) -> str:
    return f"run `socialmon accounts authorize --account {account_id}`"


class TokenVault:
    """The encrypted grants of the accounts that use OAuth 2.0 user tokens."""

    def __init__(self, store: Store, fernet: Fernet):
        self.store = store
        self.fernet = fernet

    def _seal(self, secret: str) -> str:
        return self.fernet.encrypt(secret.encode()).decode()

    def _open(self, sealed: str, account_id: str) -> str:
        try:
            secret = self.fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise TokenKeyMissing(
                f"account {account_id}: the stored token cannot be decrypted with {KEY_ENV} "
                f"(the key changed?): {authorize_fix(account_id)}"
            ) from None
        RESOLVED_SECRETS.add(secret)  # masked wherever it might show up in a log or error
        return secret

    def save(self, account_id: str, platform: str, grant: TokenGrant, now: datetime) -> None:
        """Store a grant, replacing the account's previous one, and clear any failure."""
        RESOLVED_SECRETS.update(s for s in (grant.access_token, grant.refresh_token) if s)
        with self.store.session() as session:
            row = session.get(OAuthTokenRow, account_id) or OAuthTokenRow(account_id=account_id)
            row.platform = platform
            row.access_token = self._seal(grant.access_token)
            row.refresh_token = self._seal(grant.refresh_token) if grant.refresh_token else None
            row.expires_at = grant.expires_at
            row.scopes = list(grant.scopes)
            row.updated_at = now
            row.pending_refresh_at = None
            row.refresh_failed = None
            session.add(row)

    def grant(self, account_id: str) -> TokenGrant | None:
        with self.store.session() as session:
            row = session.get(OAuthTokenRow, account_id)
            if row is None:
                return None
            refresh = self._open(row.refresh_token, account_id) if row.refresh_token else None
            return TokenGrant(
                self._open(row.access_token, account_id), refresh, row.expires_at, tuple(row.scopes or ())
            )

    def failure(self, account_id: str) -> str | None:
        with self.store.session() as session:
            row = session.get(OAuthTokenRow, account_id)
            return row.refresh_failed if row is not None else None

    def access_token(
        self, account_id: str, platform: str, now: datetime, refresh: Callable[[str], TokenGrant]
    ) -> str | None:
        """A usable access token for the account (refreshed when close to expiry), or None when the
        account has no grant. Raises RefreshRejected (recorded for connector-health) when the
        platform refuses the refresh token for good."""
        with self.store.session() as session:
            row = session.get(OAuthTokenRow, account_id)
            if row is None:
                return None
            if row.refresh_failed:
                raise RefreshRejected(row.refresh_failed)
            expires_at, pending = row.expires_at, row.pending_refresh_at
            sealed_access, sealed_refresh = row.access_token, row.refresh_token
        if expires_at is None or expires_at - REFRESH_MARGIN > now:
            return self._open(sealed_access, account_id)
        if not sealed_refresh:
            self._fail(
                account_id,
                now,
                "the access token expired and there is no refresh token (offline.access not granted): "
                + authorize_fix(account_id),
            )
        if not self._claim(account_id, sealed_refresh, pending, now):
            # Another process (the daemon, or `accounts verify`) is refreshing this grant right now:
            # use the token while it lasts rather than race it with a refresh token it is rotating.
            return self._open(sealed_access, account_id) if expires_at > now else None
        try:
            grant = refresh(self._open(sealed_refresh, account_id))
        except RefreshRejected as refused:
            newer = self._newer_access(account_id, sealed_refresh)
            if newer is not None:  # someone else's refresh won meanwhile: theirs is the grant now
                return newer
            if pending is not None:
                reason = (
                    f"the platform refused the stored refresh token; a refresh started at "
                    f"{pending:%Y-%m-%d %H:%M} UTC never finished (the process stopped between the "
                    f"platform's answer and the database write), so the rotated token was lost"
                )
            else:
                reason = f"the platform refused the refresh token ({refused})"
            self._fail(account_id, now, f"{reason}: {authorize_fix(account_id)}")
        self.save(account_id, platform, grant, now)
        return grant.access_token

    def _claim(self, account_id: str, sealed_refresh: str, pending: datetime | None, now: datetime) -> bool:
        """Write-ahead, and one refresher at a time: mark the grant "refresh pending" (committed
        before the platform is asked) unless another process marked it within CLAIM_TIMEOUT. A
        mark older than that is a refresh that never finished: it is kept (the evidence of a
        crash) and this process goes ahead."""
        fresh_claim = pending is not None and pending > now - CLAIM_TIMEOUT
        if fresh_claim:
            return False
        with self.store.session() as session:
            changed = session.execute(
                update(OAuthTokenRow)
                .where(
                    OAuthTokenRow.account_id == account_id,
                    OAuthTokenRow.refresh_token == sealed_refresh,
                    OAuthTokenRow.pending_refresh_at.is_(None)
                    if pending is None
                    else OAuthTokenRow.pending_refresh_at == pending,
                )
                .values(pending_refresh_at=pending or now)
            )
            return rows_changed(changed) == 1

    def _newer_access(self, account_id: str, sealed_refresh: str) -> str | None:
        with self.store.session() as session:
            row = session.get(OAuthTokenRow, account_id)
            if row is None or row.refresh_token == sealed_refresh:
                return None
            return self._open(row.access_token, account_id)

    def _fail(self, account_id: str, now: datetime, message: str) -> NoReturn:
        with self.store.session() as session:
            row = session.get(OAuthTokenRow, account_id)
            if row is not None:
                row.refresh_failed = message
                row.updated_at = now
        raise RefreshRejected(message)
