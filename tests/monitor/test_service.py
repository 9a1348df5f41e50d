"""The scheduler's own logic, with small real stand-ins for the pieces it orchestrates.

The stand-ins record what the service asked of them; the store, the emergency state, the outbox
rows for notices (monitor.routing.enqueue_alert) and APScheduler are all real.
"""

from __future__ import annotations

import itertools
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from monitor.config import Config, parse_config
from monitor.db import AlertAttemptRow, AlertRow, EmergencyRow, InstanceRow, PollRunRow, QuotaUsageRow
from monitor.emergency import start_emergency, stop_emergency
from monitor.routing import enqueue_alert
from monitor.service import Pieces, Service, housekeep, reclaim_abandoned
from monitor.store import Store

CONFIG = """
policy: {{poll_interval: {interval}, emergency_poll_interval: 1s}}
service: {{emergency_check_interval: 1s, sender_interval: 60s, metrics_port: 0}}
alerts:
  channels:
    oncall: {{type: teams, url: "http://127.0.0.1:9/hook"}}
    ops: {{type: teams, url: "http://127.0.0.1:9/ops"}}
  routes:
    emergency: {{channels: [oncall]}}
    operations: {{channels: [ops]}}
accounts:
  - {{id: central-x, platform: x, handle: Central, name: Central, role: central,
      language: {{mode: bilingual}}}}
  - {{id: dept-x, platform: x, handle: DeptX, name: Dept X, language: {{mode: bilingual}}}}
  - {{id: dept-fb, platform: facebook, handle: DeptFb, name: Dept FB, language: {{mode: bilingual}}}}
  - {{id: dept-yt, platform: youtube, native_id: UCdept, name: Dept YT, language: {{mode: bilingual}}}}
"""


def make_config(interval: str = "60s") -> Config:
    config = parse_config(CONFIG.format(interval=interval), env={})
    # Sub-second take-up keeps the tests quick (the YAML form only takes whole seconds).
    fast = config.service.model_copy(update={"emergency_check_interval": timedelta(seconds=0.2)})
    return config.model_copy(update={"service": fast})


@dataclass
class Outcome:
    account_id: str
    status: str = "ok"
    api_calls: int = 2
    error: str | None = None
    retry_after: datetime | None = None


@dataclass
class StandIns:
    """Records every call; behaviour per account is set by the test."""

    polls: list[tuple[str, float]] = field(default_factory=list)
    checks: list[list[str] | None] = field(default_factory=list)
    sends: list[float] = field(default_factory=list)
    digests: list[float] = field(default_factory=list)
    routed: int = 0  # what route_findings returns next
    crash: set[str] = field(default_factory=set)
    retry_after: dict[str, datetime] = field(default_factory=dict)
    poll_seconds: float = 0.0  # how long a poll takes at most: it ends early when `release` is set
    release: threading.Event = field(default_factory=threading.Event)
    finished: list[str] = field(default_factory=list)  # polls that ran to their end
    lock: threading.Lock = field(default_factory=threading.Lock)

    def poll_account(
        self, config: Config, store: Store, account: Any, now: datetime | None = None
    ) -> Outcome:
        with self.lock:
            self.polls.append((account.id, time.monotonic()))
        if self.poll_seconds:
            self.release.wait(self.poll_seconds)
            with self.lock:
                self.finished.append(account.id)
        if account.id in self.crash:
            raise RuntimeError("token=secret123 connector blew up")
        if account.id in self.retry_after:
            return Outcome(account.id, "rate_limited", retry_after=self.retry_after[account.id])
        return Outcome(account.id)

    def run_checks(
        self, config: Config, store: Store, now: datetime | None = None, account_ids: Any = None
    ) -> None:
        with self.lock:
            self.checks.append(account_ids)

    def route_findings(self, config: Config, store: Store, now: datetime | None = None) -> int:
        routed, self.routed = self.routed, 0
        return routed

    def send_due(
        self, config: Config, store: Store, now: datetime | None = None, instance_id: str = ""
    ) -> Any:
        with self.lock:
            self.sends.append(time.monotonic())
        return None

    def send_digest_if_due(self, config: Config, store: Store, now: datetime | None = None) -> bool:
        self.digests.append(time.monotonic())
        return False

    def pieces(self) -> Pieces:
        return Pieces(
            self.poll_account,
            self.run_checks,
            self.route_findings,
            self.send_due,
            self.send_digest_if_due,
            enqueue_alert,
        )

    def polled(self, account_id: str) -> int:
        with self.lock:
            return sum(1 for a, _ in self.polls if a == account_id)


def wait_for(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


@pytest.fixture
def stand_ins() -> StandIns:
    return StandIns()


@pytest.fixture
def service(store: Store, stand_ins: StandIns):  # type: ignore[no-untyped-def]
    svc = Service(make_config(), store, pieces=stand_ins.pieces(), instance_id="test:1:abc")
    yield svc
    stand_ins.release.set()  # a poll the test held ends now, not when its time is up
    svc.stop(timeout=3)


def poll_jobs(svc: Service) -> dict[str, Any]:
    assert svc.scheduler is not None
    return {job.id.split(":", 1)[1]: job for job in svc.scheduler.get_jobs() if job.id.startswith("poll:")}


def test_one_poll_job_per_account_spread_over_the_interval(service: Service) -> None:
    before = datetime.now(UTC)
    service.start()
    jobs = poll_jobs(service)
    assert set(jobs) == {"central-x", "dept-x", "dept-fb", "dept-yt"}
    starts = sorted(job.next_run_time for job in jobs.values())
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    assert all(gap == pytest.approx(15.0, abs=0.5) for gap in gaps)  # 60 s / 4 accounts
    assert starts[0] - before < timedelta(seconds=3)
    for job in jobs.values():
        assert job.max_instances == 1 and job.coalesce is True and job.misfire_grace_time is None
        assert job.trigger.interval == timedelta(seconds=60)
    assert {"emergency", "sender", "budget", "digest", "housekeeping"} <= {
        j.id for j in service.scheduler.get_jobs()
    }


def test_a_poll_runs_the_accounts_checks_then_sends_when_something_was_routed(
    service: Service, stand_ins: StandIns
) -> None:
    service.start()
    stand_ins.routed = 2
    service.poll_job("dept-x")
    assert stand_ins.polled("dept-x") == 1
    assert stand_ins.checks == [["dept-x"]]
    assert len(stand_ins.sends) == 1  # at once, not at the next sender tick
    service.poll_job("dept-fb")
    assert stand_ins.checks[-1] == ["dept-fb"] and len(stand_ins.sends) == 1  # nothing routed: no send


def test_one_accounts_failure_never_stops_the_others(store: Store, stand_ins: StandIns) -> None:
    stand_ins.crash = {"dept-x"}
    svc = Service(make_config(), store, pieces=stand_ins.pieces())
    report = svc.run_once()
    assert report.polled == {"central-x": "ok", "dept-x": "crash", "dept-fb": "ok", "dept-yt": "ok"}
    assert report.errors == ["dept-x"]
    assert stand_ins.checks == [None]  # the whole cycle's checks still ran
    assert (
        svc.metrics.registry.get_sample_value(
            "socialmon_poll_errors_total", {"platform": "x", "kind": "crash"}
        )
        == 1
    )
    assert stand_ins.digests, "the digest is considered in every cycle"


def test_a_429_pushes_the_platforms_jobs_past_the_reset(service: Service, stand_ins: StandIns) -> None:
    service.start()
    reset = datetime.now(UTC) + timedelta(minutes=10)
    stand_ins.retry_after = {"dept-x": reset}
    service.poll_job("dept-x")
    jobs = poll_jobs(service)
    for account in ("dept-x", "central-x"):
        assert jobs[account].next_run_time > reset
    assert jobs["dept-fb"].next_run_time < reset  # other platforms are not held back
    stand_ins.retry_after = {}
    service.poll_job("central-x")  # run early by hand: still no request before the reset
    assert stand_ins.polled("central-x") == 0


def test_emergency_is_taken_up_within_seconds(service: Service, stand_ins: StandIns, store: Store) -> None:
    service.start()
    time.sleep(0.3)
    started = start_emergency(store, "Lockdown", "duty")
    assert wait_for(lambda: _row(store, started.id).taken_up_at is not None, timeout=3)
    row = _row(store, started.id)
    assert (row.taken_up_at - row.started_at).total_seconds() < 1.5
    jobs = poll_jobs(service)
    assert jobs["dept-fb"].trigger.interval == timedelta(seconds=1)  # no Graph usage reported: no limit near
    # X's default mentions window (450 / 15 min) cannot give 1 s: dept-x gets all of it, the central
    # account is stretched first; YouTube's daily units cannot give 1 s either.
    assert timedelta(seconds=1) < jobs["dept-x"].trigger.interval <= timedelta(seconds=3)
    assert timedelta(seconds=1) < jobs["dept-yt"].trigger.interval < timedelta(seconds=60)
    assert jobs["central-x"].trigger.interval > timedelta(seconds=60)
    slowed = _alerts(store, "operations")
    assert (
        len(slowed) == 1 and "Dept YT" in slowed[0].payload["text"] and "Central" in slowed[0].payload["text"]
    )
    # Non-central accounts are polled at once and then every second; the central one is not.
    assert wait_for(lambda: stand_ins.polled("dept-fb") >= 3, timeout=4)
    assert stand_ins.polled("central-x") <= 1
    notices = _alerts(store, "emergency")
    assert [n.subject for n in notices] == ["Emergency monitoring is on: Lockdown"]
    assert stand_ins.sends, "the notice is sent at once"

    stop_emergency(store, "duty")
    assert wait_for(lambda: _row(store, started.id).summary_sent_at is not None, timeout=3)
    assert {job.trigger.interval for job in poll_jobs(service).values()} == {timedelta(seconds=60)}
    assert _alerts(store, "emergency")[-1].subject.startswith("Emergency over")


def test_an_emergency_already_taken_up_is_resumed_without_a_second_notice(
    store: Store, stand_ins: StandIns
) -> None:
    first = Service(make_config(), store, pieces=stand_ins.pieces(), instance_id="a")
    started = start_emergency(store, "Lockdown", "duty")
    first.check_emergency(datetime.now(UTC))
    assert len(_alerts(store, "emergency")) == 1
    second = Service(
        make_config(), store, pieces=stand_ins.pieces(), instance_id="b"
    )  # the standby taking over
    second.start()
    try:
        assert poll_jobs(second)["dept-fb"].trigger.interval == timedelta(seconds=1)
        time.sleep(0.5)
        assert len(_alerts(store, "emergency")) == 1
        assert _row(store, started.id).taken_up_at is not None
    finally:
        second.stop(timeout=3)


def test_stop_lets_the_running_poll_finish(service: Service, stand_ins: StandIns) -> None:
    stand_ins.poll_seconds = 1.0
    service.start()
    thread = threading.Thread(target=service.poll_job, args=["dept-fb"])
    thread.start()
    assert wait_for(lambda: stand_ins.polled("dept-fb") == 1)
    service.stop(timeout=5)
    assert stand_ins.finished == ["dept-fb"]  # stop waited for the poll to end
    assert service.abandoned_jobs == []
    assert stand_ins.checks == []  # stopping: the checks wait for the next start
    service.poll_job("dept-x")  # nothing new starts after stop
    assert stand_ins.polled("dept-x") == 0
    thread.join()


def test_stop_gives_up_on_a_job_past_the_shutdown_grace(service: Service, stand_ins: StandIns) -> None:
    grace = service.config.service.model_copy(update={"shutdown_grace": timedelta(seconds=0.5)})
    service.config = service.config.model_copy(update={"service": grace})
    stand_ins.poll_seconds = 3.0
    service.start()
    threading.Thread(target=service.poll_job, args=["dept-fb"], daemon=True).start()
    assert wait_for(lambda: stand_ins.polled("dept-fb") == 1)
    began = time.monotonic()
    service.stop()  # the grace comes from service.shutdown_grace
    assert 0.5 <= time.monotonic() - began < 2.5
    assert stand_ins.finished == []  # stop returned while the poll still ran (it takes 3 s)
    assert service.abandoned_jobs == ["poll:dept-fb"]


def test_digest_is_considered_at_start(service: Service, stand_ins: StandIns) -> None:
    service.start()
    assert wait_for(lambda: len(stand_ins.digests) >= 1, timeout=4)


def test_slowed_accounts_are_reported_to_operations(store: Store, stand_ins: StandIns) -> None:
    from connectors.specs import YOUTUBE_SPEC

    with store.session() as session:
        session.add(
            QuotaUsageRow(platform="youtube", day=YOUTUBE_SPEC.quota_day(datetime.now(UTC)), units=7999)
        )
    svc = Service(make_config(), store, pieces=stand_ins.pieces())
    svc.replan()
    ops = _alerts(store, "operations")
    assert len(ops) == 1 and "Dept YT" in ops[0].payload["text"]
    svc.replan()
    assert len(_alerts(store, "operations")) == 1  # the same slowed set is not reported again


def test_metrics_and_healthz(service: Service, stand_ins: StandIns) -> None:
    service.start_metrics()
    try:
        port = service.metrics_server.port  # type: ignore[union-attr]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert b'"role": "standby"' in response.read()  # a standby is healthy while it waits
        service.is_leader = True
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert err.value.code == 503  # a leader whose scheduler is not running
        service.start()
        service.poll_job("dept-x")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert response.status == 200 and b'"role": "leader"' in response.read()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
        assert 'socialmon_polls_total{platform="x",status="ok"} 1.0' in text
        assert 'socialmon_api_calls_total{platform="x"} 2.0' in text
        assert 'socialmon_outbox_depth{status="pending"} 0.0' in text
        assert "socialmon_emergency_active 0.0" in text
    finally:
        service.metrics_server.stop()  # type: ignore[union-attr]


def test_housekeeping_removes_only_what_is_past_retention(store: Store) -> None:
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=500), now - timedelta(days=1)
    with store.session() as session:
        for when in (old, recent):
            session.add(PollRunRow(account_id="a", started_at=when, finished_at=when, status="ok"))
            session.add(
                AlertRow(
                    route="r",
                    channel="c",
                    reason="first",
                    status="delivered",
                    created_at=when,
                    next_attempt_at=when,
                    delivered_at=when,
                )
            )
        session.add(
            AlertRow(
                route="r", channel="c", reason="first", status="pending", created_at=old, next_attempt_at=old
            )
        )
        session.add(InstanceRow(instance_id="dead", started_at=old, heartbeat_at=old))
    removed = housekeep(store, timedelta(days=400), now)
    assert removed["poll_runs"] == 1 and removed["alerts"] == 1 and removed["instances"] == 1
    with store.session() as session:
        assert session.scalars(select(AlertRow.status)).all() == ["delivered", "pending"]  # undelivered stays


def test_rows_left_sending_by_a_lost_leader_are_due_again(store: Store) -> None:
    now = datetime.now(UTC)
    with store.session() as session:
        for by in ("old-leader", "me"):
            session.add(
                AlertRow(
                    route="r",
                    channel="c",
                    reason="first",
                    status="sending",
                    created_at=now,
                    next_attempt_at=now,
                    claimed_at=now,
                    claimed_by=by,
                )
            )
    assert reclaim_abandoned(store, "me", now) == 1
    with store.session() as session:
        rows = {r.claimed_by: r.status for r in session.scalars(select(AlertRow))}
        assert rows == {None: "pending", "me": "sending"}
        assert session.scalars(select(AlertAttemptRow.outcome)).all() == ["interrupted"]


def _row(store: Store, emergency_id: int) -> EmergencyRow:
    with store.session() as session:
        row = session.get(EmergencyRow, emergency_id)
        assert row is not None
        return row


def _alerts(store: Store, route: str) -> list[AlertRow]:
    with store.session() as session:
        return list(session.scalars(select(AlertRow).where(AlertRow.route == route).order_by(AlertRow.id)))


def test_run_once_stops_polling_a_platform_after_its_429(store: Store, stand_ins: StandIns) -> None:
    reset = datetime.now(UTC) + timedelta(minutes=5)
    stand_ins.retry_after = {"central-x": reset}  # polled first (accounts in config order, one worker)
    svc = Service(make_config(), store, pieces=stand_ins.pieces())
    report = svc.run_once(workers=1)
    assert report.polled == {"central-x": "rate_limited", "dept-fb": "ok", "dept-yt": "ok"}
    assert report.skipped["dept-x"].startswith("rate limited until")
    assert stand_ins.polled("dept-x") == 0


@dataclass
class CountingLock:
    """A leadership that refuses the first `refusals` attempts and records when it was asked."""

    refusals: int
    kind: str = "test"
    attempts: list[float] = field(default_factory=list)
    checks: list[float] = field(default_factory=list)

    def try_acquire(self) -> bool:
        self.attempts.append(time.monotonic())
        return len(self.attempts) > self.refusals

    def still_held(self) -> bool:
        self.checks.append(time.monotonic())
        return True

    def release(self) -> None:
        pass


def test_a_standby_tries_for_the_lead_every_leader_check_interval(service: Service) -> None:
    fast = service.config.service.model_copy(update={"leader_check_interval": timedelta(seconds=0.2)})
    service.config = service.config.model_copy(update={"service": fast})
    lock = CountingLock(refusals=3)
    thread = threading.Thread(target=service.serve, args=(lock,), daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: lock.checks)  # leading, and checking that the lock is still held
    finally:
        service.request_stop()
        thread.join(10)
    gaps = [later - earlier for earlier, later in itertools.pairwise(lock.attempts)]
    assert len(lock.attempts) == 4 and all(0.15 <= gap < 1.5 for gap in gaps), gaps  # production: 2 s
