"""The credential and coverage tables on SQLite and PostgreSQL: encrypted grants, the write-ahead
refresh mark, coverage gaps replaced per poll, discovered accounts replaced per platform."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from monitor.coverage import CredentialFacts, DiscoveredAccount, RefreshRejected, TokenGrant
from monitor.credentials import (
    coverage_gaps,
    credential_states,
    discovered_accounts,
    replace_coverage_gaps,
    save_credential_facts,
    save_discovered,
)
from monitor.db import OAuthTokenRow
from monitor.store import Store
from monitor.tokens import TokenKeyMissing, TokenVault, fernet_from_env

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def grant(n: int, expires: datetime) -> TokenGrant:
    return TokenGrant(f"access-{n}", f"refresh-{n}", expires, ("dm.read", "offline.access"))


def test_grants_are_stored_encrypted_and_refreshed_write_ahead(any_store: Store) -> None:
    vault = TokenVault(any_store, Fernet(Fernet.generate_key()))
    vault.save("acct", "x", grant(1, NOW + timedelta(hours=2)), NOW)
    with any_store.session() as session:
        row = session.scalars(select(OAuthTokenRow)).one()
        assert "access-1" not in row.access_token and "refresh-1" not in (row.refresh_token or "")
    assert vault.access_token("acct", "x", NOW, lambda rt: pytest.fail("not due")) == "access-1"

    seen: list[str] = []

    def refresh(refresh_token: str) -> TokenGrant:
        with any_store.session() as session:  # the mark is committed before the platform is asked
            assert session.get(OAuthTokenRow, "acct").pending_refresh_at == NOW + timedelta(hours=2)  # type: ignore[union-attr]
        seen.append(refresh_token)
        return grant(2, NOW + timedelta(hours=4))

    due = NOW + timedelta(hours=2)
    assert vault.access_token("acct", "x", due, refresh) == "access-2" and seen == ["refresh-1"]
    stored = vault.grant("acct")
    assert stored is not None and stored.refresh_token == "refresh-2"
    with any_store.session() as session:
        assert session.get(OAuthTokenRow, "acct").pending_refresh_at is None  # type: ignore[union-attr]


def test_a_refused_refresh_after_an_unfinished_one_names_the_crash_and_the_command(any_store: Store) -> None:
    vault = TokenVault(any_store, Fernet(Fernet.generate_key()))
    vault.save("acct", "x", grant(1, NOW), NOW)

    def dies(refresh_token: str) -> TokenGrant:
        raise KeyboardInterrupt  # the process stops after the platform answered

    with pytest.raises(KeyboardInterrupt):
        vault.access_token("acct", "x", NOW, dies)

    def refused(refresh_token: str) -> TokenGrant:
        raise RefreshRejected("Value passed for the token was invalid.")

    later = NOW + timedelta(minutes=15)
    with pytest.raises(RefreshRejected) as raised:
        vault.access_token("acct", "x", later, refused)
    assert "never finished" in str(raised.value) and "accounts authorize --account acct" in str(raised.value)
    with any_store.session() as session:
        (state,) = credential_states(session, ["acct"]).values()
    assert "accounts authorize --account acct" in state.refresh_failed
    with pytest.raises(RefreshRejected):  # recorded: not asked again until authorized
        vault.access_token("acct", "x", later, lambda rt: pytest.fail("not asked"))
    vault.save("acct", "x", grant(3, later + timedelta(hours=2)), later)  # `accounts authorize`
    assert vault.failure("acct") is None
    assert vault.access_token("acct", "x", later, refused) == "access-3"


def test_a_wrong_key_is_a_clear_error() -> None:
    with pytest.raises(TokenKeyMissing, match="SOCIALMON_TOKEN_KEY is not set"):
        fernet_from_env({})
    with pytest.raises(TokenKeyMissing, match="not a Fernet key"):
        fernet_from_env({"SOCIALMON_TOKEN_KEY": "short"})


def test_coverage_gaps_keep_their_since_and_go_when_read_again(any_store: Store) -> None:
    with any_store.session() as session:
        replace_coverage_gaps(session, "acct", [("scheduled_posts", "refused", "grant it")], NOW)
    with any_store.session() as session:
        replace_coverage_gaps(
            session,
            "acct",
            [("scheduled_posts", "refused", "grant it"), ("direct_messages", "no", "x")],
            NOW + timedelta(hours=1),
        )
    with any_store.session() as session:
        gaps = {g.feature: g.since for g in coverage_gaps(session, ["acct"])}
    assert gaps == {"scheduled_posts": NOW, "direct_messages": NOW + timedelta(hours=1)}
    with any_store.session() as session:
        replace_coverage_gaps(session, "acct", [], NOW + timedelta(hours=2))
    with any_store.session() as session:
        assert coverage_gaps(session, ["acct"]) == []


def test_credential_facts_and_discovered_accounts(any_store: Store) -> None:
    with any_store.session() as session:
        save_credential_facts(
            session, "acct", CredentialFacts(True, NOW + timedelta(days=5), None, ("a",)), NOW
        )
    with any_store.session() as session:
        save_credential_facts(
            session, "acct", CredentialFacts(False, problem="expired"), NOW + timedelta(days=1)
        )
        save_discovered(
            session,
            [DiscoveredAccount("facebook", "1", "One"), DiscoveredAccount("instagram", "2", "Two")],
            NOW,
        )
    with any_store.session() as session:
        (state,) = credential_states(session, ["acct"]).values()
        assert state.valid is False and state.problem == "expired" and state.expires_at is None
        save_discovered(session, [DiscoveredAccount("facebook", "3", "Three", "three")], NOW)
    with any_store.session() as session:
        found = {(d.platform, d.native_id) for d in discovered_accounts(session)}
    assert found == {("facebook", "3"), ("instagram", "2")}  # facebook replaced, instagram kept


def test_one_refresher_at_a_time_and_a_lost_race_is_no_failure(any_store: Store) -> None:
    key = Fernet(Fernet.generate_key())
    daemon, operator = TokenVault(any_store, key), TokenVault(any_store, key)
    daemon.save("acct", "x", grant(1, NOW + timedelta(minutes=5)), NOW)  # inside the refresh margin

    def operator_meanwhile(refresh_token: str) -> TokenGrant:
        # While the daemon's refresh is in flight, `accounts verify` asks: it must not refresh too.
        assert operator.access_token("acct", "x", NOW, lambda rt: pytest.fail("raced")) == "access-1"
        return grant(2, NOW + timedelta(hours=2))

    assert daemon.access_token("acct", "x", NOW, operator_meanwhile) == "access-2"

    # A process that read the grant before another one rotated it is refused, and takes the new one.
    stale = TokenVault(any_store, key)

    def refused_because_rotated(refresh_token: str) -> TokenGrant:
        daemon.save("acct", "x", grant(3, NOW + timedelta(hours=3)), NOW)  # the other refresh lands
        raise RefreshRejected("Value passed for the token was invalid.")

    due = NOW + timedelta(hours=2)
    assert stale.access_token("acct", "x", due, refused_because_rotated) == "access-3"
    assert stale.failure("acct") is None


def test_tokens_the_vault_holds_are_masked_in_logs_and_errors(any_store: Store) -> None:
    from monitor.logs import redact

    vault = TokenVault(any_store, Fernet(Fernet.generate_key()))
    vault.save("acct", "x", TokenGrant("user-access-0123456789", "user-refresh-0123456789", NOW, ()), NOW)
    assert vault.grant("acct") is not None
    text = redact("X said: user-access-0123456789 is bad; try user-refresh-0123456789")
    assert "0123456789" not in text
    assert "EAAB" not in redact("GET /debug_token?input_token=EAABsecret&access_token=EAABsecret")
