"""`socialmon accounts verify | authorize | discover` against the sandbox; the token vault's refresh,
rotation and recovery after a process dies mid-refresh; coverage gaps from polls; check-config."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from accounts_support import accounts_rig, authorize_by_hand
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import select

from checks.connector_health import ConnectorHealthCheck
from connectors import get_connector
from monitor.checking import load_records, run_checks
from monitor.cli.main import cli
from monitor.config import ConfigError, parse_config
from monitor.coverage import RefreshRejected
from monitor.credentials import cannot_see
from monitor.db import FindingRow, OAuthTokenRow
from monitor.poll import poll_account
from monitor.tokens import TokenVault

KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def token_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The daemon's environment: the key its vault opens grants with."""
    monkeypatch.setenv("SOCIALMON_TOKEN_KEY", KEY)


def invoke(*args: str, key: str | None = KEY) -> tuple[int, str, str]:
    env = {"SOCIALMON_TOKEN_KEY": key} if key else {"SOCIALMON_TOKEN_KEY": ""}
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_verify_json_has_the_public_keys_and_exits_1_for_a_missing_permission(tmp_path: Path) -> None:
    with accounts_rig(tmp_path) as (_server, _config, path, _store):
        code, out, _ = invoke("accounts", "verify", "-c", str(path), "--json")
    results = {r["account"]: r for r in map(json.loads, out.splitlines())}
    assert code == 1
    assert set(results) == {"uni-fb", "sport-fb", "uni-ig", "uni-x", "uni-yt"}
    for result in results.values():
        assert {"account", "platform", "credential", "coverage"} <= set(result)
        assert set(result["credential"]) == {"valid", "expires_at", "data_access_expires_at", "scopes"}
        assert set(result["coverage"]) == {
            "posts", "comments", "direct_messages", "scheduled_posts", "captions", "profile",
        }  # fmt: skip
        assert all(set(item) == {"ok", "reason", "fix"} for item in result["coverage"].values())
    sport = results["sport-fb"]
    assert sport["credential"]["valid"] is True and "pages_messaging" not in sport["credential"]["scopes"]
    dms = sport["coverage"]["direct_messages"]
    assert dms["ok"] is False and "pages_messaging" in dms["reason"] and "grant pages_messaging" in dms["fix"]
    assert sport["coverage"]["scheduled_posts"]["ok"] is False
    assert sport["coverage"]["captions"]["ok"] is None  # the connector does not read Facebook captions
    uni = results["uni-fb"]  # read through the system user's token: expires in 20 days
    expires = datetime.fromisoformat(uni["credential"]["expires_at"])
    assert timedelta(days=19) < expires - datetime.now(UTC) <= timedelta(days=20)
    assert all(item["ok"] in (True, None) for item in uni["coverage"].values())
    assert uni["native_id"] == "100000000000101" and uni["config_line"] == 'native_id: "100000000000101"'
    assert results["uni-yt"]["config_line"] == 'native_id: "UCaberaberaberaberaber01"'
    assert results["uni-x"]["coverage"]["direct_messages"]["ok"] is True  # the sandbox's bearer reads DMs
    assert "sandbox-system-user" not in out and "sandbox-sport-fb" not in out


def test_verify_table_names_the_fix_and_one_account_exits_0_when_covered(tmp_path: Path) -> None:
    with accounts_rig(tmp_path) as (_server, _config, path, _store):
        code, out, _ = invoke("accounts", "verify", "-c", str(path))
        assert code == 1
        assert "sport-fb: direct_messages: the token lacks pages_messaging" in out
        assert "uni-fb: add to its entry in the configuration: native_id" in out
        code, out, _ = invoke("accounts", "verify", "-c", str(path), "--account", "uni-yt")
        assert code == 0 and "uni-yt" in out and "sport-fb" not in out
        code, _, err = invoke("accounts", "verify", "-c", str(path), "--account", "nobody")
        assert code == 2 and "no account 'nobody'" in err


def test_an_expired_token_is_invalid_and_expiring_ones_become_findings(tmp_path: Path) -> None:
    extra = ""
    with accounts_rig(tmp_path, extra) as (server, config, path, store):
        server.world.account("sport-fb").token_expires = datetime.now(UTC) - timedelta(hours=1)
        code, out, _ = invoke("accounts", "verify", "-c", str(path), "--json", "--account", "sport-fb")
        (sport,) = map(json.loads, out.splitlines())
        assert code == 1 and sport["credential"]["valid"] is False
        assert all(i["ok"] is False for i in sport["coverage"].values() if i["ok"] is not None)
        # uni-fb's system user token expires in 20 days: no warning yet with 14 days, one with 30.
        invoke("accounts", "verify", "-c", str(path), "--account", "uni-fb")
        config30 = config.model_copy(
            update={"policy": config.policy.model_copy(update={"token_warning": timedelta(days=30)})}
        )
        run = run_checks(config30, store, now=datetime.now(UTC))
        expiring = [f for f in run.opened if f.check == "credential-expiry"]
        assert [(f.account_id, f.severity) for f in expiring] == [("uni-fb", "warning")]
        with store.session() as session:
            assert "nothing readable (credential not valid) for: Sport Facebook" in cannot_see(
                session, config
            )


def test_discover_lists_what_the_registry_lacks_and_registry_raises_it(tmp_path: Path) -> None:
    with accounts_rig(tmp_path) as (_server, config, path, store):
        code, out, err = invoke("accounts", "discover", "-c", str(path), "--json")
        assert code == 0
        assert [json.loads(line) for line in out.splitlines()] == [
            {
                "platform": "facebook",
                "native_id": "100000000000103",
                "name": "Aber Secret Society",
                "handle": "AberSecretSoc",
            }
        ]
        assert "channels.list?mine=true" in err  # what an API key cannot do, said once
        run = run_checks(config, store, now=datetime.now(UTC))
        unregistered = [f for f in run.opened if f.subject.startswith("unregistered:")]
        assert [(f.account_id, f.subject) for f in unregistered] == [
            ("uni-fb", "unregistered:facebook:100000000000103")
        ]
    ignoring = 'discovery: {ignore: ["facebook:100000000000103"]}'
    (tmp_path / "ignore").mkdir()
    with accounts_rig(tmp_path / "ignore", ignoring) as (_server, config, path, store):
        code, out, _ = invoke("accounts", "discover", "-c", str(path), "--json")
        assert code == 0 and out == ""
        run = run_checks(config, store, now=datetime.now(UTC))
        assert not [f for f in run.opened if f.subject.startswith("unregistered:")]


@pytest.mark.slow  # runs `socialmon accounts authorize` as a child process
def test_authorize_stores_an_encrypted_grant_and_polls_read_dms_with_it(tmp_path: Path) -> None:
    with accounts_rig(tmp_path) as (server, config, path, store):
        out = authorize_by_hand(path, "uni-x", KEY)
        assert "user token stored, with a refresh token" in out and "dm.read" in out
        with store.session() as session:
            row = session.get(OAuthTokenRow, "uni-x")
            assert row is not None and row.refresh_token
            stored = f"{row.access_token} {row.refresh_token}"
        vault = TokenVault(store, Fernet(KEY.encode()))
        grant = vault.grant("uni-x")
        assert grant is not None and grant.refresh_token and grant.access_token not in stored
        assert grant.refresh_token in server.world.oauth.refresh  # the sandbox issued it
        # The configured bearer cannot read DMs; the user token can.
        server.world.account("uni-x").token = "app-only"
        connector = get_connector("x", config)
        outcome = poll_account(config, store, config.account("uni-x"), connector=connector)
        assert outcome.status == "ok" and outcome.new_messages >= 1


@pytest.mark.slow  # runs `socialmon accounts authorize` as a child process
def test_refresh_rotates_the_refresh_token_and_the_old_one_stops_working(tmp_path: Path) -> None:
    with accounts_rig(tmp_path) as (server, config, path, store):
        authorize_by_hand(path, "uni-x", KEY)
        vault = TokenVault(store, Fernet(KEY.encode()))
        first = vault.grant("uni-x")
        assert first is not None and first.expires_at is not None
        connector = get_connector("x", config)
        later = first.expires_at - timedelta(minutes=5)  # inside the refresh margin
        token = vault.access_token("uni-x", "x", later, lambda rt: connector.refresh_grant(rt, later))  # type: ignore[attr-defined]
        second = vault.grant("uni-x")
        assert second is not None and token == second.access_token != first.access_token
        assert second.refresh_token != first.refresh_token and server.world.oauth.refreshes == 1
        with pytest.raises(RefreshRejected):  # X rotated it: the old refresh token is dead
            connector.refresh_grant(first.refresh_token, later)  # type: ignore[attr-defined]


@pytest.mark.slow  # runs `socialmon accounts authorize` as a child process
def test_a_process_dying_between_the_refresh_answer_and_the_write_is_reported_and_one_command_recovers(
    tmp_path: Path,
) -> None:
    with accounts_rig(tmp_path) as (_server, config, path, store):
        authorize_by_hand(path, "uni-x", KEY)
        vault = TokenVault(store, Fernet(KEY.encode()))
        grant = vault.grant("uni-x")
        assert grant is not None and grant.expires_at is not None
        connector = get_connector("x", config)
        later = grant.expires_at + timedelta(minutes=1)

        class Died(BaseException):
            pass

        def refresh_then_die(refresh_token: str) -> object:
            connector.refresh_grant(refresh_token, later)  # type: ignore[attr-defined]  # X has rotated it
            raise Died  # ...and the process is gone before the database write

        with pytest.raises(Died):
            vault.access_token("uni-x", "x", later, refresh_then_die)  # type: ignore[arg-type]
        # The next process, minutes later: the stored refresh token is refused; the failure names
        # the one command.
        later += timedelta(minutes=5)
        outcome = poll_account(config, store, config.account("uni-x"), now=later, connector=connector)
        assert outcome.status in {"ok", "warning"}  # posts and mentions are still read
        with store.session() as session:
            row = session.get(OAuthTokenRow, "uni-x")
            assert row is not None and row.refresh_failed
            assert "never finished" in row.refresh_failed
            assert "socialmon accounts authorize --account uni-x" in row.refresh_failed
            records = load_records(session, config, [config.account("uni-x")], later)
        ctx = records.context(config, config.account("uni-x"), later)
        (finding,) = ConnectorHealthCheck().evaluate(ctx)
        assert finding.subject == "credential" and "accounts authorize --account uni-x" in finding.detail
        opened = run_checks(config, store, now=later).opened
        assert any(f.check == "connector-health" and f.subject == "credential" for f in opened)
        # The operator runs the one command; the failure is gone and the next refresh works.
        authorize_by_hand(path, "uni-x", KEY)
        assert vault.failure("uni-x") is None
        fresh = vault.grant("uni-x")
        assert fresh is not None and fresh.expires_at is not None
        again = fresh.expires_at + timedelta(minutes=1)
        assert vault.access_token("uni-x", "x", again, lambda rt: connector.refresh_grant(rt, again))  # type: ignore[attr-defined]
        run = run_checks(config, store, now=again)
        assert any(r.check == "connector-health" and r.subject == "credential" for r in run.resolved)


@pytest.mark.slow  # runs `socialmon accounts authorize` as a child process
def test_a_revoked_grant_is_a_connector_health_finding_and_dms_a_coverage_gap(tmp_path: Path) -> None:
    with accounts_rig(tmp_path) as (server, config, path, store):
        authorize_by_hand(path, "uni-x", KEY)
        requests.post(f"{server.url}/_admin/oauth", json={"account": "uni-x", "revoke": True}, timeout=5)
        server.world.account("uni-x").token = "app-only"  # the bearer alone cannot read DMs
        grant = TokenVault(store, Fernet(KEY.encode())).grant("uni-x")
        assert grant is not None and grant.expires_at is not None
        later = grant.expires_at + timedelta(minutes=1)
        outcome = poll_account(
            config, store, config.account("uni-x"), now=later, connector=get_connector("x", config)
        )
        assert outcome.status == "warning"
        run = run_checks(config, store, now=later)
        opened = {(f.check, f.subject) for f in run.opened if f.account_id == "uni-x"}
        assert ("connector-health", "credential") in opened
        assert ("coverage", "coverage:direct_messages") in opened


def test_a_poll_without_the_queue_permission_stores_a_coverage_gap(tmp_path: Path) -> None:
    with accounts_rig(tmp_path) as (_server, config, _path, store):
        outcome = poll_account(
            config, store, config.account("sport-fb"), connector=get_connector("facebook", config)
        )
        assert outcome.status == "warning"
        run = run_checks(config, store, now=datetime.now(UTC))
        subjects = {f.subject for f in run.opened if f.check == "coverage" and f.account_id == "sport-fb"}
        assert subjects == {"coverage:scheduled_posts", "coverage:direct_messages"}
        with store.session() as session:
            lines = cannot_see(session, config)
            assert "queued posts unknown for: Sport Facebook" in lines
            assert not session.scalars(
                select(FindingRow).where(FindingRow.detail.contains("sandbox-"))
            ).first()


def test_facebook_polls_with_the_page_token_fetched_by_the_system_user(tmp_path: Path) -> None:
    with accounts_rig(tmp_path) as (server, config, _path, store):
        outcome = poll_account(
            config, store, config.account("uni-fb"), connector=get_connector("facebook", config)
        )
        assert outcome.status == "ok" and outcome.new_posts == 1
        with server.world.lock:
            log = list(server.log)
        page_token_asked = [r for r in log if "access_token" in r["query"].get("fields", "")]
        assert len(page_token_asked) == 1
        outcome = poll_account(
            config, store, config.account("uni-fb"), connector=get_connector("facebook", config)
        )
        with server.world.lock:
            assert (
                len([r for r in server.log if "access_token" in r["query"].get("fields", "")]) == 1
            )  # cached


def test_authorize_refuses_without_a_key_and_for_other_platforms(tmp_path: Path) -> None:
    with accounts_rig(tmp_path) as (_server, _config, path, _store):
        code, _, err = invoke("accounts", "authorize", "-c", str(path), "--account", "uni-x", key=None)
        assert code == 2 and "SOCIALMON_TOKEN_KEY is not set" in err
        code, _, err = invoke("accounts", "authorize", "-c", str(path), "--account", "uni-fb")
        assert code == 2 and "only X accounts" in err


def test_check_config_refuses_an_instagram_account_without_its_id() -> None:
    text = """
accounts:
  - {id: hq, platform: x, handle: Hq, name: HQ, role: central, language: {mode: bilingual}}
  - {id: ig, platform: instagram, handle: someig, name: IG, language: {mode: bilingual}}
"""
    with pytest.raises(ConfigError) as raised:
        parse_config(text, env={})
    assert "accounts[1].native_id: instagram needs native_id" in "\n".join(raised.value.lines)


def test_the_daemon_checks_credentials_and_discovers_daily(tmp_path: Path) -> None:
    from monitor.credentials import credential_states, discovered_accounts
    from monitor.service import CREDENTIALS_INTERVAL, Service

    with accounts_rig(tmp_path) as (_server, config, _path, store):
        service = Service(config, store)
        service.credentials_job()
        ids = [a.id for a in config.accounts]
        with store.session() as session:
            states = credential_states(session, ids)
            found = discovered_accounts(session)
        assert set(states) == set(ids) and all(s.valid for s in states.values())
        assert states["uni-fb"].expires_at is not None  # the system user's 20 days
        assert ("facebook", "100000000000103") in {(f.platform, f.native_id) for f in found}
    assert timedelta(hours=24) == CREDENTIALS_INTERVAL


def test_a_permission_granted_for_other_pages_only_is_not_coverage(tmp_path: Path) -> None:
    with accounts_rig(tmp_path) as (server, _config, path, _store):
        # The system user may manage posts on the Sport Page only (granular_scopes target_ids).
        server.world.system_users[0].granular = {"pages_manage_posts": ["sport-fb"]}
        code, out, _ = invoke("accounts", "verify", "-c", str(path), "--json", "--account", "uni-fb")
    (uni,) = map(json.loads, out.splitlines())
    queue = uni["coverage"]["scheduled_posts"]
    assert code == 1 and queue["ok"] is False
    assert "does not cover this account (100000000000101)" in queue["reason"]
    assert "pages_manage_posts for this asset too" in queue["fix"]
