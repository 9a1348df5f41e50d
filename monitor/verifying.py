"""Asking the platforms about credentials and accounts, for `socialmon accounts verify|discover`
and for the daemon's daily `credentials` job: each connector's `verify` and `discover`, with the
answers stored (credential facts for credential-expiry, discovered accounts for registry).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.base import BaseConnector
from monitor.config import Account, Config
from monitor.coverage import FEATURES, Coverage, CredentialFacts, DiscoveredAccount, TokenGrant, Verification
from monitor.store import Store


def verify_accounts(
    config: Config, store: Store | None, chosen: list[Account], now: datetime, *, transport: Any = None
) -> list[Verification]:
    """Ask each platform about each account; store the credential facts when there is a store."""
    from connectors.access import AccessError
    from monitor.credentials import save_credential_facts

    vault, vault_problem = _vault(store)
    results: list[Verification] = []
    connectors: dict[str, BaseConnector[Any]] = {}
    for account in chosen:
        connector = connectors.get(account.platform) or _connector(config, account.platform, transport)
        connectors[account.platform] = connector
        grant: TokenGrant | None = None
        grant_problem = ""
        if hasattr(connector, "refresh_grant"):
            grant, grant_problem = _grant(vault, vault_problem, account, connector, now)
        try:
            result = connector.verify(account, now, grant=grant, grant_problem=grant_problem)
        except AccessError as error:
            facts = CredentialFacts(False, problem=f"the platform could not be asked: {error}")
            result = Verification(account.id, account.platform, facts)
            result.coverage = {f: Coverage(False, facts.problem, "try again later") for f in FEATURES}
        results.append(result)
        if store is not None and "could not be asked" not in result.credential.problem:
            with store.session() as session:
                save_credential_facts(session, account.id, result.credential, now)
    return results


def discover_accounts(
    config: Config, store: Store | None, now: datetime, *, transport: Any = None
) -> tuple[list[DiscoveredAccount], list[str]]:
    """What each platform's configured credential can see (stored for the `registry` check), and
    notes on what could not be listed."""
    from connectors.access import AccessError
    from connectors.specs import SPECS
    from monitor.credentials import save_discovered

    found: dict[tuple[str, str], DiscoveredAccount] = {}
    notes: list[str] = []
    for platform in SPECS:
        if not any(a.platform == platform for a in config.accounts):
            continue
        connector = _connector(config, platform, transport)
        if connector.discovery_note:
            notes.append(connector.discovery_note)
        try:
            for item in connector.discover():
                found.setdefault((item.platform, item.native_id), item)
        except AccessError as error:
            notes.append(f"{platform}: {error}")
    items = list(found.values())
    if store is not None:
        with store.session() as session:
            save_discovered(session, items, now)
    return items, notes


def _connector(config: Config, platform: str, transport: Any) -> BaseConnector[Any]:
    from connectors import get_connector

    connector = get_connector(platform, config, session=transport)
    assert isinstance(connector, BaseConnector)  # every registered connector is one
    return connector


def _vault(store: Store | None) -> tuple[Any, str]:
    if store is None:
        return None, "the database is not ready (run `socialmon db upgrade`)"
    from monitor.tokens import TokenKeyMissing, TokenVault, fernet_from_env

    try:
        return TokenVault(store, fernet_from_env()), ""
    except TokenKeyMissing as missing:
        return None, str(missing)


def _grant(
    vault: Any, vault_problem: str, account: Account, connector: Any, now: datetime
) -> tuple[TokenGrant | None, str]:
    """The account's user grant, refreshed if due (the same path a poll takes)."""
    from connectors.access import AccessError
    from monitor.coverage import RefreshRejected
    from monitor.tokens import TokenKeyMissing

    if vault is None:  # without a key there can be no stored grant; the DM probe still runs
        return None, "" if "not set" in vault_problem else vault_problem
    try:
        token = vault.access_token(
            account.id, account.platform, now, lambda rt: connector.refresh_grant(rt, now)
        )
        return (vault.grant(account.id) if token else None), ""
    except RefreshRejected as refused:
        return None, str(refused)
    except (TokenKeyMissing, AccessError) as error:
        return None, str(error)
