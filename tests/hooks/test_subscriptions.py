"""Subscriptions against the sandbox (Meta subscribed_apps, the WebSub hub), lease renewal and
silence reports with a frozen clock, and the `hooks` commands."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from monitor.cli.main import cli
from monitor.config import Config
from monitor.db import AlertRow, PostRow, WebhookSubscriptionRow
from monitor.hooks.receiver import HookApp, HookMetrics, HookServer, SeenDeliveries
from monitor.hooks.subscriptions import (
    DeliveryLog,
    check_silence,
    record_verification,
    renew_due,
    status,
    subscribe,
)
from monitor.routing import enqueue_alert
from monitor.sandbox import SandboxServer
from monitor.store import Store
from tests.hooks.conftest import ENV, config_text, free_port, make_config

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ALERTS = """alerts:
  channels:
    ops: {type: teams, url: "http://127.0.0.1:9/ops"}
  routes:
    operations: {channels: [ops]}
"""


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


class NoHints:
    def hint(self, account_id: str, platform: str) -> str:
        return "polled"


@dataclass
class World:
    config: Config
    store: Store
    clock: Clock


@pytest.fixture
def world(sandbox: SandboxServer, any_store: Store) -> Iterator[World]:
    port = free_port()
    config = make_config(sandbox.url, "sqlite:///unused.db", port, extra=ALERTS)
    store = any_store
    clock = Clock()
    app = HookApp(
        config,
        NoHints(),
        HookMetrics(CollectorRegistry()),
        SeenDeliveries(clock),
        on_verified=lambda account, mode, lease: record_verification(store, account, mode, lease, clock()),
    )
    server = HookServer(app, "127.0.0.1", port).start()
    try:
        yield World(config, store, clock)
    finally:
        server.stop()


def sub_row(world: World, account: str) -> WebhookSubscriptionRow | None:
    with world.store.session() as session:
        row = session.get(WebhookSubscriptionRow, account)
        if row is not None:
            session.expunge(row)
        return row


def wait_verified(world: World, account: str, after: datetime) -> WebhookSubscriptionRow:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        row = sub_row(world, account)
        if row is not None and row.status == "active" and row.verified_at and row.verified_at >= after:
            return row
        time.sleep(0.05)
    raise AssertionError(f"{account}: the hub never verified")


def test_subscribe_installs_the_app_and_asks_the_hub(world: World, sandbox: SandboxServer) -> None:
    results = {r.account_id: r.status for r in subscribe(world.config, world.store, T0)}
    assert results["dept-facebook"] == "active" and results["dept-youtube"] == "pending"
    row = wait_verified(world, "dept-youtube", T0)
    assert row.lease_expires_at == T0 + timedelta(seconds=432_000)
    deadline = time.monotonic() + 10
    while not sandbox.hooks.state()["websub"] and time.monotonic() < deadline:
        time.sleep(0.05)  # the hub keeps the subscription once our answer reaches it
    state = sandbox.hooks.state()
    assert set(state["installed"]) == {"hq-facebook", "dept-facebook", "dept-instagram"}
    assert state["websub"][0]["callback"].endswith("/hooks/youtube?account=dept-youtube")


def test_the_lease_is_renewed_a_day_before_it_ends(world: World) -> None:
    subscribe(world.config, world.store, T0, "dept-youtube")
    wait_verified(world, "dept-youtube", T0)
    assert renew_due(world.config, world.store, T0 + timedelta(days=3, hours=23)) == []
    world.clock.now = T0 + timedelta(days=4, minutes=1)
    renewed = renew_due(world.config, world.store, world.clock.now)
    assert [r.account_id for r in renewed] == ["dept-youtube"]
    row = wait_verified(world, "dept-youtube", world.clock.now)
    assert row.lease_expires_at == world.clock.now + timedelta(seconds=432_000)
    assert check_silence(world.config, world.store, world.clock.now, enqueue_alert) == []


def test_an_expired_lease_is_reported_to_operations_once(world: World) -> None:
    subscribe(world.config, world.store, T0, "dept-youtube")
    wait_verified(world, "dept-youtube", T0)
    later = T0 + timedelta(days=6)
    assert check_silence(world.config, world.store, later, enqueue_alert) == ["dept-youtube"]
    assert check_silence(world.config, world.store, later + timedelta(minutes=5), enqueue_alert) == []
    with world.store.session() as session:
        alerts = list(session.scalars(select(AlertRow).where(AlertRow.route == "operations")))
    assert len(alerts) == 1 and "dept-youtube" in alerts[0].subject
    rows = {r["account"]: r for r in status(world.config, world.store, later)}
    assert rows["dept-youtube"]["status"] == "silent (polling only)"


def test_records_no_hint_announced_mean_hints_stopped(world: World) -> None:
    subscribe(world.config, world.store, T0, "dept-facebook")
    DeliveryLog().flush(world.store, [], T0)
    log = DeliveryLog()
    log.note("dept-facebook", T0 + timedelta(minutes=1))
    log.flush(world.store, [], T0 + timedelta(minutes=1))
    with world.store.session() as session:
        session.add(
            PostRow(
                platform="facebook", native_id="p9", account_id="dept-facebook",
                created_at=T0 + timedelta(minutes=20), first_seen_at=T0 + timedelta(minutes=30),
                updated_at=T0 + timedelta(minutes=30),
            )
        )  # fmt: skip
    assert check_silence(world.config, world.store, T0 + timedelta(minutes=25), enqueue_alert) == []  # grace
    assert check_silence(world.config, world.store, T0 + timedelta(minutes=40), enqueue_alert) == [
        "dept-facebook"
    ]
    # A delivery again: no longer silent.
    log.note("dept-facebook", T0 + timedelta(minutes=41))
    log.flush(world.store, [], T0 + timedelta(minutes=41))
    assert sub_row(world, "dept-facebook").silent_since is None  # type: ignore[union-attr]


def write_config(tmp_path: Path, sandbox_url: str, **kwargs: Any) -> Path:
    path = tmp_path / "hooks.yaml"
    path.write_text(config_text(sandbox_url, f"sqlite:///{tmp_path / 'cli.db'}", free_port(), **kwargs))
    return path


def test_hooks_commands(tmp_path: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    path = write_config(tmp_path, sandbox.url)
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade", "-c", str(path)]).exit_code == 0
    done = runner.invoke(cli, ["hooks", "subscribe", "--account", "dept-facebook", "--json", "-c", str(path)])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output.splitlines()[0])["status"] == "active"
    unknown = runner.invoke(cli, ["hooks", "subscribe", "--account", "nope", "-c", str(path)])
    assert unknown.exit_code == 2 and "no account 'nope'" in unknown.output
    shown = runner.invoke(cli, ["hooks", "status", "--json", "-c", str(path)])
    data = json.loads(shown.output)
    by_id = {row["account"]: row for row in data["accounts"]}
    assert data["enabled"] is True and by_id["dept-facebook"]["subscribed"] is True
    assert by_id["dept-youtube"]["status"] == "not subscribed"
    text = runner.invoke(cli, ["hooks", "status", "-c", str(path)])
    assert "dept-facebook" in text.output and "never" in text.output
    checked = runner.invoke(cli, ["check-config", "-c", str(path)])
    assert checked.exit_code == 0 and "webhooks: meta, youtube" in checked.output
    for secret in ENV.values():
        assert secret not in checked.output and secret not in shown.output


def test_webhooks_are_off_by_default_and_refuse_bad_settings(tmp_path: Path, sandbox: SandboxServer) -> None:
    from monitor.config import ConfigError, parse_config

    plain = parse_config(config_text(sandbox.url, "sqlite:///x.db", 1, hooks=False), "c.yaml", env={})
    assert plain.webhooks is None
    bad = config_text(sandbox.url, "sqlite:///x.db", 1).replace(
        "public_url: http://127.0.0.1", "public_url: http://example.org"
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(bad, "c.yaml", env={**ENV, "WEBSUB_SECRET": "short"})
    text = "\n".join(caught.value.lines)
    assert "webhooks.public_url" in text and "webhooks.youtube.secret" in text and "short" not in text
