"""`socialmon accounts ...`: commands about the registered accounts.

`confirm-access --account ID --by NAME [--note TEXT]` records that the account's access was
reviewed: people who left had their access removed and the password was changed (policy:
Corporate Social Media Account Management). The record is kept in the database with who and
when; the account's `access-review` findings resolve (the checks for that account run at once).

`verify [--account ID] [--json]` asks each platform what the configured credential may read and
prints, per account, the credential's validity and expiry and the coverage of each feature (exit 1
when a feature the connector reads is not covered). `authorize --account ID` runs X's OAuth 2.0
PKCE flow once and stores the user token encrypted. `discover [--json]` lists the accounts the
credentials can see that the registry lacks.
"""

from __future__ import annotations

import json
import secrets
import sys
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import click

from monitor.cli.common import EXIT_FINDINGS, config_option, fail, get_config, handle_errors, open_store
from monitor.config import Account, Config
from monitor.coverage import FEATURES, Verification
from monitor.verifying import discover_accounts, verify_accounts

MARKS = {True: "yes", False: "NO", None: "-"}


@click.group()
def accounts() -> None:
    """Commands about the registered accounts (credentials, coverage, discovery, access reviews)."""


# --- confirm-access (issue 12) ---------------------------------------------------------------


@accounts.command("confirm-access")
@config_option
@click.option("--account", "account_id", required=True, help="The account's id in the configuration.")
@click.option("--by", "by", required=True, help="Who confirms (name or e-mail address).")
@click.option("--note", default="", help="What was done (e.g. 'removed a.jones, password changed').")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handle_errors
def confirm_access_command(
    config_path: str | None, account_id: str, by: str, note: str, as_json: bool
) -> None:
    """Record that an account's access was reviewed: leavers removed, password changed."""
    from monitor.access import confirm_access
    from monitor.checking import run_checks

    config = get_config(config_path)
    if account_id not in {a.id for a in config.accounts}:
        fail(f"--account: no account {account_id!r} in the configuration")
    if not by.strip():
        fail("--by: say who confirms (a name or an e-mail address)")
    store = open_store(config)
    now = datetime.now(UTC)
    with store.session() as session:
        confirm_access(session, account_id, by.strip(), note.strip(), now)
    resolved: list[str] = []
    account = config.account(account_id)
    if account.enabled:
        run = run_checks(config, store, now=now, account_ids=[account_id])
        resolved = [
            r.subject for r in run.resolved if r.check == "access-review" and r.account_id == account_id
        ]
    if as_json:
        record = {
            "account": account_id,
            "by": by.strip(),
            "note": note.strip(),
            "confirmed_at": now.isoformat(),
        }
        click.echo(json.dumps({**record, "resolved": resolved}))
        return
    click.echo(f"access of {account_id} confirmed by {by.strip()} at {now:%Y-%m-%d %H:%M} UTC")
    if resolved:
        click.echo(f"resolved: {len(resolved)} access-review finding{'s' if len(resolved) != 1 else ''}")


# --- verify ----------------------------------------------------------------------------------


@accounts.command("verify")
@config_option
@click.option(
    "--account", "account_id", default=None, help="Only this account (its id in the configuration)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per account (JSON Lines).")
@handle_errors
def verify_command(config_path: str | None, account_id: str | None, as_json: bool) -> None:
    """Check each account's credential and what socialmon can read of it, per feature."""
    config = get_config(config_path)
    chosen = _accounts(config, account_id)
    now = datetime.now(UTC)
    results = verify_accounts(config, _store_if_ready(config), chosen, now)
    if as_json:
        for result in results:
            click.echo(json.dumps(verification_json(result)))
    else:
        click.echo(verification_table(config, results))
    if any(result.uncovered() for result in results):
        sys.exit(EXIT_FINDINGS)


def _accounts(config: Config, account_id: str | None) -> list[Account]:
    if account_id is None:
        return [a for a in config.accounts if a.enabled]
    try:
        return [config.account(account_id)]
    except KeyError:
        fail(f"--account: no account {account_id!r} in the configuration")


def _store_if_ready(config: Config) -> Any:
    """The store, or None (with a note) when it is not migrated: verify works before `db upgrade`."""
    from monitor.store import Store, StoreError

    try:
        store = Store(config.database_url())
        store.require_current()
        return store
    except (StoreError, Exception):
        click.echo(
            "socialmon: the database is not ready (run `socialmon db upgrade`): facts not stored", err=True
        )
        return None


def verification_json(result: Verification) -> dict[str, Any]:
    facts = result.credential
    return {
        "account": result.account_id,
        "platform": result.platform,
        "credential": {
            "valid": facts.valid,
            "expires_at": facts.expires_at.isoformat() if facts.expires_at else None,
            "data_access_expires_at": facts.data_access_expires_at.isoformat()
            if facts.data_access_expires_at
            else None,
            "scopes": list(facts.scopes),
        },
        "coverage": {name: item.as_dict() for name, item in result.coverage.items()},
        "native_id": result.native_id,
        "config_line": result.config_hint or None,
    }


def verification_table(config: Config, results: list[Verification]) -> str:
    heads = ["account", "platform", "credential", *FEATURES]
    rows = []
    for result in results:
        facts = result.credential
        credential = "valid" if facts.valid else "INVALID"
        if facts.valid and facts.expires_at:
            credential += f", expires {facts.expires_at:%Y-%m-%d}"
        elif facts.valid:
            credential += ", no expiry"
        marks = [MARKS[result.coverage[f].ok] if f in result.coverage else "-" for f in FEATURES]
        rows.append([result.account_id, result.platform, credential, *marks])
    widths = [max(len(str(r[i])) for r in [heads, *rows]) for i in range(len(heads))]
    lines = [
        "  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [heads, *rows]
    ]
    notes = []
    for result in results:
        if not result.credential.valid and result.credential.problem:
            notes.append(f"{result.account_id}: credential: {result.credential.problem}")
        missing = {f: item for f, item in result.coverage.items() if item.ok is False}
        if not result.credential.valid and len({(i.reason, i.fix) for i in missing.values()}) == 1:
            item = next(iter(missing.values()))
            notes.append(f"{result.account_id}: nothing can be read; fix: {item.fix}")
            missing = {}
        for feature, item in missing.items():
            notes.append(f"{result.account_id}: {feature}: {item.reason}; fix: {item.fix}")
        if result.config_hint:
            notes.append(f"{result.account_id}: add to its entry in the configuration: {result.config_hint}")
    if notes:
        lines += ["", *notes]
    uncovered = sum(1 for r in results if r.uncovered())
    lines += ["", f"{len(results)} account(s) checked, {uncovered} with a feature socialmon cannot read."]
    return "\n".join(lines)


# --- authorize -------------------------------------------------------------------------------


@accounts.command("authorize")
@config_option
@click.option("--account", "account_id", required=True, help="The X account's id in the configuration.")
@handle_errors
def authorize_command(config_path: str | None, account_id: str) -> None:
    """Authorize an X account's user token (OAuth 2.0 with PKCE): open the printed URL as the
    account, approve, and paste the code (or the whole address you were sent to)."""
    from connectors.access import AccessError, XOAuth
    from monitor.coverage import RefreshRejected
    from monitor.tokens import TokenKeyMissing, TokenVault, fernet_from_env

    config = get_config(config_path)
    account = _accounts(config, account_id)[0]
    if account.platform != "x":
        fail(f"--account: {account_id} is on {account.platform}; only X accounts use user tokens")
    try:
        fernet = fernet_from_env()
    except TokenKeyMissing as missing:
        fail(str(missing))
    store = open_store(config)
    try:
        oauth = XOAuth(config.platforms.settings_for("x"))
    except AccessError as error:
        fail(str(error))
    verifier, challenge = oauth.pkce()
    state = secrets.token_urlsafe(16)
    click.echo("Open this address while signed in to X as the account, and approve:", err=True)
    click.echo(oauth.authorize_url(state, challenge))
    click.echo("Then paste the code, or the whole address X sent you to:", err=True)
    answer = sys.stdin.readline().strip()
    code = _code_from(answer, state)
    now = datetime.now(UTC)
    try:
        grant = oauth.exchange(code, verifier, now)
    except (RefreshRejected, AccessError) as error:
        fail(f"X refused the code: {error}", code=EXIT_FINDINGS)
    TokenVault(store, fernet).save(account.id, account.platform, grant, now)
    refresh = (
        "with a refresh token (renewed automatically)" if grant.refresh_token else "WITHOUT a refresh token"
    )
    click.echo(f"{account.id}: user token stored, {refresh}; scopes: {' '.join(grant.scopes) or '(none)'}")


def _code_from(answer: str, state: str) -> str:
    if not answer:
        fail("no code given")
    if "://" not in answer:
        return answer
    query = parse_qs(urlsplit(answer).query)
    if query.get("state", [state])[0] != state:
        fail("the address's state does not match this authorization (an old or foreign link?)")
    if "error" in query:
        fail(f"X answered: {query['error'][0]}")
    codes = query.get("code")
    if not codes:
        fail("the address has no code")
    return codes[0]


# --- discover --------------------------------------------------------------------------------


@accounts.command("discover")
@config_option
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object per unregistered account (JSON Lines)."
)
@handle_errors
def discover_command(config_path: str | None, as_json: bool) -> None:
    """List the accounts the configured credentials can see but the registry lacks."""
    config = get_config(config_path)
    found, notes = discover_accounts(config, _store_if_ready(config), datetime.now(UTC))
    from monitor.records import unregistered_accounts

    missing = unregistered_accounts(config, found)
    if as_json:
        for item in missing:
            click.echo(json.dumps(item.as_dict()))
    else:
        for item in missing:
            handle = f"@{item.handle}" if item.handle else ""
            click.echo(f"{item.platform:<10} {item.native_id:<22} {handle:<24} {item.name}")
        click.echo(f"{len(found)} account(s) visible, {len(missing)} not in the registry.", err=True)
    for note in notes:
        click.echo(f"note: {note}", err=True)
