"""End to end against the sandbox: the daemon (real pieces) with webhooks on, a 15-minute poll
interval; a post, an upload and a comment are each delivered, signed, by the sandbox, and the
record is in the store seconds later, brought by a poll the hint started."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from monitor.db import MessageRow, PollRunRow, PostRow, WebhookSubscriptionRow
from monitor.hooks.subscriptions import status as hook_status
from monitor.hooks.subscriptions import subscribe
from monitor.leader import leadership_for
from monitor.sandbox import SandboxClient, SandboxServer
from monitor.service import Service
from monitor.store import Store
from tests.hooks.conftest import APP_SECRET, VERIFY_TOKEN, free_port, make_config

pytestmark = pytest.mark.slow


def wait_for(probe: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    return None


@pytest.fixture
def daemon(sandbox: SandboxServer, tmp_path: Path) -> Iterator[tuple[Service, Store]]:
    port = free_port()
    config = make_config(sandbox.url, f"sqlite:///{tmp_path / 'e2e.db'}", port)
    store = Store(config.database_url())
    store.upgrade()
    service = Service(config, store, poll_workers=4)
    thread = threading.Thread(
        target=service.serve, args=(leadership_for(store, config.service.lock_id),), daemon=True
    )
    thread.start()
    try:
        assert wait_for(lambda: service.hooks is not None and service.hooks.port == port)
        yield service, store
    finally:
        service.request_stop()
        thread.join(timeout=20)
        store.dispose()


def rows(store: Store, query: Any) -> list[Any]:
    with store.session() as session:
        return list(session.execute(query).all())


def test_hints_bring_posts_uploads_and_comments_in_seconds(
    daemon: tuple[Service, Store], sandbox: SandboxServer
) -> None:
    service, store = daemon
    config = service.config
    hooks = config.webhooks
    assert hooks is not None
    # Meta's App Dashboard step (the sandbox checks the verify token), then subscribe everything.
    dashboard = requests.post(
        f"{sandbox.url}/_admin/webhooks",
        json={"callback": hooks.meta_callback(), "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN},
        timeout=10,
    ).json()
    assert dashboard["verified"] is True
    results = {r.account_id: r.status for r in subscribe(config, store, datetime.now(UTC))}
    assert results == {
        "hq-facebook": "active",
        "dept-facebook": "active",
        "dept-instagram": "active",
        "dept-youtube": "pending",
    }
    assert wait_for(
        lambda: rows(
            store,
            select(WebhookSubscriptionRow.status).where(
                WebhookSubscriptionRow.account_id == "dept-youtube", WebhookSubscriptionRow.status == "active"
            ),
        )
    ), "the hub's verification of intent never reached the receiver"
    # The first scheduled poll (spread over the 15 minutes, the first at +1 s) is done, with its
    # checks and routing; the others are minutes away, so any poll of these accounts in the next
    # seconds is a hint's.
    assert wait_for(lambda: rows(store, select(PollRunRow.id).where(PollRunRow.finished_at.is_not(None))), 30)
    assert wait_for(lambda: not [job for job in service.running_jobs() if job.startswith("poll:")], 10)
    client = SandboxClient(sandbox.url)

    posted = time.time()
    client.add_post("dept-facebook", "Dept update: open day moved to the Main Hall")
    client.add_post("dept-youtube", "Open day tour", title="Open day tour")
    client.add_message("dept-instagram", "comment", "When is the open day?", post="media1", author="Ann")

    def stored() -> bool:
        post = rows(store, select(PostRow.id).where(PostRow.text.contains("open day moved")))
        upload = rows(
            store,
            select(PostRow.id).where(PostRow.account_id == "dept-youtube", PostRow.title == "Open day tour"),
        )
        comment = rows(store, select(MessageRow.id).where(MessageRow.text == "When is the open day?"))
        return bool(post and upload and comment)

    assert wait_for(stored, 15), "a hinted record did not arrive"
    assert time.time() - posted < 10
    hinted = {
        account
        for (account,) in rows(
            store,
            select(PollRunRow.account_id).where(PollRunRow.started_at >= datetime.fromtimestamp(posted, UTC)),
        )
    }
    assert {"dept-facebook", "dept-youtube", "dept-instagram"} <= hinted
    assert "hq-facebook" not in hinted  # no hint named it: it waits for its schedule
    status = {row["account"]: row for row in wait_for(lambda: _delivered(config, store), 5)}
    for account in ("dept-facebook", "dept-youtube", "dept-instagram"):
        assert status[account]["last_delivery_at"] is not None
    assert status["hq-facebook"]["last_delivery_at"] is None  # nothing happened there
    hints = service.metrics.registry.get_sample_value(
        "socialmon_webhook_hints_total", {"platform": "facebook", "outcome": "polled"}
    )
    assert hints and hints >= 1


def _delivered(config: Any, store: Store) -> list[dict[str, Any]] | None:
    rows_ = hook_status(config, store, datetime.now(UTC))
    done = [
        r
        for r in rows_
        if r["account"] in {"dept-facebook", "dept-youtube", "dept-instagram"} and r["last_delivery_at"]
    ]
    return rows_ if len(done) == 3 else None
