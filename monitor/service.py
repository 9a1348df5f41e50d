"""The daemon: one APScheduler 3.x scheduler in one process (the leader) runs everything.

Jobs (MemoryJobStore: nothing of ours is pickled; every job has max_instances=1 and coalesce):
- `poll:<account>` at the account's interval (from the rate-budget plan), first runs spread over
  the interval; after each poll the account's checks, routing, and an immediate send when
  anything was queued (so an emergency alert leaves within a second or two of the poll).
- `emergency` every `service.emergency_check_interval`: reads the emergencies table; on a change
  re-plans the intervals (non-central accounts to `emergency_poll_interval`, one poll at once),
  writes the "monitoring is on" notice or the summary, and sends it.
- `sender` every `service.sender_interval`: routes repeats and resolutions, delivers due rows.
- `budget` every `service.budget_interval` (a minute): re-plans intervals from the platforms'
  rate-limit state.
- `digest` on its cron time, and every few minutes and at start: `send_digest_if_due` knows the
  stored next due time, so a digest missed while down is sent once on start.
- `housekeeping` every `service.housekeeping_interval`: removes rows older than the retention.

misfire_grace_time is None on purpose: a run that comes late (busy pool, suspended host) still
runs, once (coalesce), instead of being silently dropped (APScheduler's 1 s default).

The pieces it orchestrates (poll_account, run_checks, route_findings, send_due,
send_digest_if_due) are passed in as `Pieces`, so tests can run the scheduling with stand-ins.
This module wires the jobs and runs the process (lead or stand by, heartbeat, watchdog, stop);
budget re-planning is `monitor.pacing.Pacer`, emergency take-up `monitor.emergency_takeup`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor as FuturesPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete, select, update

from monitor import budget
from monitor.clock import utcnow
from monitor.config import Account, Config
from monitor.db import (
    AccountStateRow,
    AlertAttemptRow,
    AlertRow,
    FindingRow,
    InstanceRow,
    PollRunRow,
    ScheduledPostRow,
)
from monitor.emergency_takeup import EmergencyTakeUp
from monitor.leader import heartbeat, new_instance_id, sign_off
from monitor.logs import get_logger, redact
from monitor.metrics import Metrics, MetricsServer
from monitor.pacing import Pacer, spread_starts
from monitor.seams import EnqueueAlert, PollAccount, RouteFindings, RunChecks, SendDigestIfDue, SendDue
from monitor.store import Store, make_engine, upsert_rows

log = get_logger(component="service")

CREDENTIALS_INTERVAL = timedelta(hours=24)  # accounts verify + discover, daily
DIGEST_SAFETY_INTERVAL = timedelta(minutes=5)
# The intervals an operator may tune are `service.*` settings (monitor/config_schema.py): the
# shutdown grace, the leader check, the heartbeat and its timeout, the budget re-plan.
STALE_TICK = 30.0  # control jobs silent this long: unhealthy (no watchdog ping, /healthz 503)
EXIT_LOST_LEAD = 75  # EX_TEMPFAIL: systemd restarts us, and we come back as a standby


@dataclass
class Pieces:
    """The functions the daemon orchestrates (the integration contract)."""

    poll_account: PollAccount
    run_checks: RunChecks
    route_findings: RouteFindings
    send_due: SendDue
    send_digest_if_due: SendDigestIfDue
    enqueue_alert: EnqueueAlert

    @classmethod
    def real(cls) -> Pieces:
        from monitor.checking import run_checks
        from monitor.digest import send_digest_if_due
        from monitor.outbox import send_due
        from monitor.poll import poll_account
        from monitor.routing import enqueue_alert, route_findings

        return cls(poll_account, run_checks, route_findings, send_due, send_digest_if_due, enqueue_alert)


@dataclass
class CycleReport:
    """What `run --once` did."""

    polled: dict[str, str] = field(default_factory=dict)  # account -> status
    skipped: dict[str, str] = field(default_factory=dict)  # account -> why
    alerts_queued: int = 0
    delivered: int = 0
    failed: int = 0
    digest_sent: bool = False

    @property
    def errors(self) -> list[str]:
        return [a for a, status in self.polled.items() if status not in {"ok", "warning"}]


def _error_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return redact(f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__)


class Service:
    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        pieces: Pieces | None = None,
        instance_id: str | None = None,
        metrics: Metrics | None = None,
        clock: Callable[[], datetime] = utcnow,
        poll_workers: int = 16,
        notify: Callable[[str], None] | None = None,
    ):
        self.config = config
        self.store = store
        self.pieces = pieces or Pieces.real()
        self.instance_id = instance_id or new_instance_id()
        self.metrics = metrics or Metrics()
        self.clock = clock
        self.poll_workers = poll_workers
        self.notify = notify or (lambda _state: None)
        self.accounts: dict[str, Account] = {a.id: a for a in config.accounts if a.enabled}
        self.scheduler: BackgroundScheduler | None = None
        self.stopping = threading.Event()
        self.is_leader = False
        self.abandoned_jobs: list[str] = []
        self.metrics_server: MetricsServer | None = None
        self.web_server: Any = None  # monitor.web.server.WebServer while serving the dashboard
        self._checks_lock = threading.Lock()  # run_checks one at a time (findings lifecycle)
        self._digest_lock = threading.Lock()  # the cron and safety-net digest jobs never overlap
        self._state_lock = threading.Lock()
        self._running: dict[int, str] = {}  # thread id -> job name
        self._running_changed = threading.Condition(self._state_lock)
        self.pacer = Pacer(
            config,
            store,
            self.accounts,
            self.pieces.enqueue_alert,
            scheduler=lambda: self.scheduler,
            emergency_id=lambda: self.takeup.emergency_id,
        )
        self.takeup = EmergencyTakeUp(
            config, store, self.accounts, self.pacer, self.pieces.enqueue_alert, self._send, self.metrics
        )
        self._latency_mark = clock()
        self._last_tick = time.monotonic()
        # One poll of an account at a time: its schedule and webhook hints (monitor/hooks) share it.
        self._account_locks = {a: threading.Lock() for a in self.accounts}
        self.hooks: Any = None  # monitor.hooks.runtime.HooksRuntime while leading with webhooks on
        self._db_write_error: str | None = None  # the last heartbeat's failure, until one succeeds
        self._beat_store: Store | None = None  # see _heartbeat_store

    # --- running jobs -----------------------------------------------------------------------------

    @contextmanager
    def _job(self, name: str, **bound: Any) -> Iterator[bool]:
        """Track a running job (for a clean stop) and bind its name into every log line."""
        if self.stopping.is_set():
            yield False
            return
        ident = threading.get_ident()
        with self._state_lock:
            self._running[ident] = name
        try:
            with structlog.contextvars.bound_contextvars(job=name, instance=self.instance_id, **bound):
                yield True
        finally:
            with self._state_lock:
                self._running.pop(ident, None)
                self._running_changed.notify_all()

    def running_jobs(self) -> list[str]:
        """The jobs running now (`poll:<account>`, `hint:<account>`, `sender`, ...)."""
        with self._state_lock:
            return sorted(self._running.values())

    def _on_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            self.metrics.missed_runs.labels(event.job_id).inc()
            log.warning("scheduled run missed", job=event.job_id)
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.info("previous run still going; this run skipped", job=event.job_id)
        elif event.code == EVENT_JOB_ERROR:
            self.metrics.job_errors.labels(event.job_id).inc()
            log.error("job failed", job=event.job_id, error=_error_line(event.exception))

    # --- scheduler set-up ---------------------------------------------------------------------------

    def build_scheduler(self) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={
                "default": ThreadPoolExecutor(self.poll_workers),
                # Control jobs never wait behind slow polls.
                "control": ThreadPoolExecutor(4),
            },
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        scheduler.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR | EVENT_JOB_MAX_INSTANCES)
        return scheduler

    def start(self) -> None:
        """Plan, schedule every job and start the scheduler (the caller holds the lead)."""
        now = self.clock()
        # Our EVENT_JOB_* listener reports skipped and failed runs; APScheduler's own lines would repeat them.
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        self._ensure_account_rows()
        reclaim_abandoned(self.store, self.instance_id, now)
        self.takeup.resume()
        plan = self.pacer.compute(now)
        self.pacer.adopt(plan)
        self.scheduler = scheduler = self.build_scheduler()
        for account_id, start_at in spread_starts(plan.intervals, now).items():
            scheduler.add_job(
                self.poll_job,
                IntervalTrigger(seconds=plan.intervals[account_id].total_seconds(), timezone=UTC),
                args=[account_id],
                id=f"poll:{account_id}",
                name=f"poll {account_id}",
                next_run_time=self.pacer.not_before_block(account_id, start_at),
            )
        svc = self.config.service
        control = {"executor": "control"}
        scheduler.add_job(
            self.emergency_job,
            IntervalTrigger(seconds=svc.emergency_check_interval.total_seconds()),
            id="emergency",
            next_run_time=now,
            **control,
        )
        scheduler.add_job(
            self.sender_job,
            IntervalTrigger(seconds=svc.sender_interval.total_seconds()),
            id="sender",
            next_run_time=now + timedelta(seconds=1),
            **control,
        )
        scheduler.add_job(
            self.budget_job,
            IntervalTrigger(seconds=svc.budget_interval.total_seconds()),
            id="budget",
            **control,
        )
        scheduler.add_job(
            self.digest_job,
            IntervalTrigger(seconds=DIGEST_SAFETY_INTERVAL.total_seconds()),
            id="digest",
            next_run_time=now + timedelta(seconds=2),
            **control,
        )
        for name, route in self.config.alerts.routes.items():
            if route.at:
                hour, minute = (int(p) for p in route.at.split(":"))
                scheduler.add_job(
                    self.digest_job,
                    CronTrigger(hour=hour, minute=minute, timezone=self.config.tz),
                    id=f"digest-cron:{name}",
                    **control,
                )
        scheduler.add_job(
            self.housekeeping_job,
            IntervalTrigger(seconds=svc.housekeeping_interval.total_seconds()),
            id="housekeeping",
            next_run_time=now + timedelta(minutes=1),
            **control,
        )
        scheduler.add_job(
            self.credentials_job,
            IntervalTrigger(seconds=CREDENTIALS_INTERVAL.total_seconds()),
            id="credentials",
            next_run_time=now + timedelta(minutes=2),
            **control,
        )
        scheduler.start()
        self.pacer.write_next_polls(list(plan.intervals))
        if self.config.webhooks is not None:
            from monitor.hooks.runtime import HooksRuntime

            self.hooks = HooksRuntime(self).start()
        log.info("scheduler started", accounts=len(plan.intervals), emergency=self.takeup.emergency_id)

    def _ensure_account_rows(self) -> None:
        rows = [{"account_id": a} for a in self.accounts]
        with self.store.session() as session:
            upsert_rows(session, AccountStateRow, rows, ("account_id",))

    # --- planning and emergencies (monitor.pacing, monitor.emergency_takeup) ----------------------

    def replan(self, now: datetime | None = None, poll_now: list[str] | None = None) -> budget.Plan:
        """Apply the budget plan to the poll jobs; `poll_now` accounts also poll at once."""
        return self.pacer.replan(now or self.clock(), poll_now)

    def check_emergency(self, now: datetime) -> bool:
        """Take up a change of emergency state; True if anything changed."""
        return self.takeup.check(now)

    # --- jobs -------------------------------------------------------------------------------------------

    def poll_job(self, account_id: str) -> None:
        with self._job(f"poll:{account_id}", account=account_id) as go:
            if not go:
                return
            account = self.accounts[account_id]
            now = self.clock()
            until = self.pacer.blocked_until(account.platform)
            if until is not None and until > now:  # never a request before a platform's reset
                self.pacer.push_platform(account.platform)
                return
            with self._account_locks[account_id]:
                self.poll_one(account, now)
            if not self.stopping.is_set():
                self.after_poll([account_id])
            self.pacer.write_next_polls([account_id])

    def poll_now(self, account_id: str) -> str | None:
        """Poll one account at once, outside its schedule (a webhook hint), then check and send.

        Waits for the account's own poll if one is running (it may have started before the change).
        """
        account = self.accounts.get(account_id)
        if account is None:
            return None
        with self._job(f"hint:{account_id}", account=account_id) as go:
            if not go:
                return None
            with self._account_locks[account_id]:
                now = self.clock()
                until = self.pacer.blocked_until(account.platform)
                if until is not None and until > now:
                    return None
                status = self.poll_one(account, now)
            if not self.stopping.is_set():
                self.after_poll([account_id])
            return status

    def poll_one(self, account: Account, now: datetime) -> str:
        """Poll one account, record metrics; a failure is logged and never raised."""
        try:
            outcome = self.pieces.poll_account(self.config, self.store, account, now=now)
        except Exception as exc:
            log.error("poll crashed", account=account.id, error=_error_line(exc))
            self.metrics.polls.labels(account.platform, "crash").inc()
            self.metrics.poll_errors.labels(account.platform, "crash").inc()
            return "crash"
        status = str(getattr(outcome, "status", "ok"))
        self.metrics.polls.labels(account.platform, status).inc()
        self.metrics.api_calls.labels(account.platform).inc(int(getattr(outcome, "api_calls", 0) or 0))
        if status not in {"ok", "warning"}:
            self.metrics.poll_errors.labels(account.platform, status).inc()
            log.warning(
                "poll failed", account=account.id, status=status, error=getattr(outcome, "error", None)
            )
        retry_after = getattr(outcome, "retry_after", None)
        if retry_after is not None and retry_after > now:
            self.pacer.block_platform(account.platform, retry_after)
        return status

    def after_poll(self, account_ids: list[str] | None, send: bool = True) -> int:
        """Checks for the accounts just polled, then routing, then an immediate send of what it queued."""
        try:
            with self._checks_lock:
                self.pieces.run_checks(self.config, self.store, now=self.clock(), account_ids=account_ids)
        except Exception as exc:
            log.error("checks failed", accounts=account_ids, error=_error_line(exc))
            self.metrics.job_errors.labels("checks").inc()
        queued = self._route()
        if queued and send:
            self._send()
        return queued

    def _route(self) -> int:
        try:
            return int(self.pieces.route_findings(self.config, self.store, now=self.clock()) or 0)
        except Exception as exc:
            log.error("routing failed", error=_error_line(exc))
            self.metrics.job_errors.labels("routing").inc()
            return 0

    def _send(self) -> Any:
        try:
            report = self.pieces.send_due(
                self.config, self.store, now=self.clock(), instance_id=self.instance_id
            )
        except Exception as exc:
            log.error("sending failed", error=_error_line(exc))
            self.metrics.job_errors.labels("sender").inc()
            return None
        self._observe_deliveries()
        return report

    def _observe_deliveries(self) -> None:
        """Alert latency: from the event (or the row's creation) to delivery."""
        with self._state_lock:
            mark = self._latency_mark
        with self.store.session() as session:
            rows = session.execute(
                select(AlertRow.route, AlertRow.created_at, AlertRow.source_created_at, AlertRow.delivered_at)
                .where(AlertRow.delivered_at > mark)
                .order_by(AlertRow.delivered_at)
            ).all()
        newest = mark
        for route, created, source, delivered in rows:
            if delivered is None:  # excluded by the query; says so to the type checker
                continue
            self.metrics.alert_latency.labels(route).observe(
                max((delivered - (source or created)).total_seconds(), 0.0)
            )
            self.metrics.alerts_delivered.labels(route).inc()
            newest = max(newest, delivered)
        with self._state_lock:
            self._latency_mark = max(self._latency_mark, newest)

    def sender_job(self) -> None:
        with self._job("sender") as go:
            if go:
                self._route()  # repeats and resolutions fall due with time, not only after polls
                self._send()

    def emergency_job(self) -> None:
        with self._job("emergency") as go:
            if not go:
                return
            self._last_tick = time.monotonic()
            self.check_emergency(self.clock())

    def budget_job(self) -> None:
        with self._job("budget") as go:
            if go:
                self.replan(self.clock())

    def digest_job(self) -> None:
        with self._job("digest") as go:
            if not go or not self._digest_lock.acquire(blocking=False):
                return
            try:
                self._digest_once()
            finally:
                self._digest_lock.release()

    def _digest_once(self) -> None:
        try:
            sent = self.pieces.send_digest_if_due(self.config, self.store, now=self.clock())
        except Exception as exc:
            log.error("digest failed", error=_error_line(exc))
            self.metrics.job_errors.labels("digest").inc()
            return
        if sent:
            self._send()

    def housekeeping_job(self) -> None:
        with self._job("housekeeping") as go:
            if go:
                removed = housekeep(self.store, self.config.service.retention, self.clock())
                log.info("housekeeping done", **removed)

    def credentials_job(self) -> None:
        """Once a day: what each credential may read and when it expires (credential-expiry), and
        the accounts the credentials see (registry's unregistered accounts)."""
        with self._job("credentials") as go:
            if go:
                from monitor.verifying import discover_accounts, verify_accounts

                now = self.clock()
                accounts = [a for a in self.config.accounts if a.enabled]
                results = verify_accounts(self.config, self.store, accounts, now)
                found, _notes = discover_accounts(self.config, self.store, now)
                log.info("credentials checked", accounts=len(results), visible=len(found))

    # --- one whole cycle (run --once) --------------------------------------------------------------

    def run_once(self, now: datetime | None = None, workers: int = 8) -> CycleReport:
        """Poll every account, check, route, send what is due, and the digest if due."""
        now = now or self.clock()
        report = CycleReport()
        self._ensure_account_rows()
        reclaim_abandoned(self.store, self.instance_id, now)
        self.check_emergency(now)
        plan = self.pacer.compute(now)
        self.pacer.blocked.update(plan.blocked_until)

        def poll_unless_blocked(account: Account) -> str | None:
            until = self.pacer.blocked_until(account.platform)
            if (
                until is not None and until > self.clock()
            ):  # blocked before, or by a 429 earlier in this cycle
                report.skipped[account.id] = f"rate limited until {until:%Y-%m-%d %H:%M:%S}Z"
                return None
            return self.poll_one(account, now)

        accounts = list(self.accounts.values())
        with FuturesPool(max_workers=max(1, min(workers, len(accounts)))) as pool:
            for account, status in zip(accounts, pool.map(poll_unless_blocked, accounts), strict=True):
                if status is not None:
                    report.polled[account.id] = status
        report.alerts_queued = self.after_poll(None, send=False)
        for _ in range(100):  # drain what is due, a batch at a time
            sent = self._send()
            if not sent or not getattr(sent, "claimed", 0):
                break
            report.delivered += int(getattr(sent, "delivered", 0))
            report.failed += int(getattr(sent, "failed", 0))
        try:
            report.digest_sent = bool(
                self.pieces.send_digest_if_due(self.config, self.store, now=self.clock())
            )
        except Exception as exc:
            log.error("digest failed", error=_error_line(exc))
        if report.digest_sent:
            sent = self._send()
            report.delivered += int(getattr(sent, "delivered", 0) or 0)
        return report

    # --- the process: lead or stand by, heartbeat, watchdog, stop -------------------------------

    def healthy(self) -> tuple[bool, dict[str, Any]]:
        detail: dict[str, Any] = {
            "instance": self.instance_id,
            "role": "leader" if self.is_leader else "standby",
        }
        db_error = self._db_write_error
        if db_error is not None:
            # The heartbeat (a write, every service.heartbeat_interval) failed: nothing polled is being kept.
            detail["database"] = f"not writable: {db_error}"
            return False, detail
        if not self.is_leader:
            return (not self.stopping.is_set()), detail
        running = self.scheduler is not None and self.scheduler.running
        silent = time.monotonic() - self._last_tick
        detail.update(
            scheduler="running" if running else "stopped",
            seconds_since_tick=round(silent, 1),
            emergency=self.takeup.emergency_id is not None,
        )
        return (running and silent < STALE_TICK and not self.stopping.is_set()), detail

    def start_metrics(self) -> None:
        svc = self.config.service
        self.metrics.attach_store(self.store)
        self.metrics_server = MetricsServer(self.metrics, self.healthy, svc.metrics_host, svc.metrics_port)
        self.metrics_server.start()

    def start_web(self) -> None:
        """The dashboard (monitor/web), in a thread beside the daemon, when the config has `web:`."""
        if self.config.web is not None:
            from monitor.web.server import start_for

            self.web_server = start_for(self.config, self.store)

    def serve(self, leadership: Any) -> int:
        """Stand by until we lead, then work until stopped or the lead is lost; returns the exit code."""
        started = self.clock()
        self.notify("READY=1")
        waiting_logged = False
        last_beat = 0.0
        check_every = self.config.service.leader_check_interval.total_seconds()
        while not leadership.try_acquire():
            if not waiting_logged:
                log.info("standing by: another instance holds the lead", instance=self.instance_id)
                self.notify("STATUS=standby: another instance leads")
                waiting_logged = True
            last_beat = self._beat(False, started, last_beat)
            if self.healthy()[0]:
                self.notify("WATCHDOG=1")
            if self.stopping.wait(check_every):
                self._sign_off()
                return 0
        self.is_leader = True
        self.metrics.leader.set(1)
        log.info("leading", instance=self.instance_id, lock=leadership.kind)
        last_beat = self._beat(True, started, 0.0)
        self.start()
        self.notify("STATUS=leading")
        code = 0
        last_check = time.monotonic()
        while not self.stopping.wait(1.0):
            if self.healthy()[0]:
                self.notify("WATCHDOG=1")
            if time.monotonic() - last_check >= check_every:
                last_check = time.monotonic()
                if not leadership.still_held():
                    log.error("lost the lead (database connection gone): stopping so a standby can take over")
                    code = EXIT_LOST_LEAD
                    break
            last_beat = self._beat(True, started, last_beat)
        self.stop()
        leadership.release()
        self._sign_off()
        return code

    def _beat(self, leader: bool, started: datetime, last: float) -> float:
        if time.monotonic() - last < self.config.service.heartbeat_interval.total_seconds():
            return last
        try:
            heartbeat(self._heartbeat_store(), self.instance_id, leader, started, self.clock())
            gone = sqlite_file_gone(self.store)
            if gone:
                raise OSError(gone)
        except Exception as exc:
            self._db_write_error = _error_line(exc)
            log.error("heartbeat failed: the database is not writable", error=self._db_write_error)
        else:
            if self._db_write_error is not None:
                log.info("the database is writable again")
            self._db_write_error = None
        return time.monotonic()

    def _heartbeat_store(self) -> Store:
        """The heartbeat's own engine: when a locked database stalls every job, their connections must
        not starve the one write that tells /healthz so (an in-memory database has only one)."""
        if self._beat_store is None:
            url = self.store.engine.url
            in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
            if in_memory:
                self._beat_store = self.store
            else:
                # A locked SQLite database makes the write wait `service.heartbeat_timeout`, then fail.
                text = url.render_as_string(hide_password=False)
                timeout = self.config.service.heartbeat_timeout.total_seconds()
                self._beat_store = Store(text, engine=make_engine(text, busy_timeout=timeout))
        return self._beat_store

    def _sign_off(self) -> None:
        sign_off(self.store, self.instance_id)
        if self._beat_store is not None and self._beat_store is not self.store:
            self._beat_store.dispose()
        if self.metrics_server is not None:
            self.metrics_server.stop()
        if self.web_server is not None:
            self.web_server.stop()

    def request_stop(self) -> None:
        self.stopping.set()

    def stop(self, timeout: float | None = None) -> None:
        """No new runs; give running jobs `timeout` seconds (`service.shutdown_grace`) to finish, then
        give up on them."""
        if timeout is None:
            timeout = self.config.service.shutdown_grace.total_seconds()
        self.stopping.set()
        self.notify("STOPPING=1")
        log.info("stopping", jobs=self.running_jobs(), grace_seconds=timeout)
        if self.hooks is not None:
            self.hooks.stop()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        deadline = time.monotonic() + timeout
        with self._state_lock:
            while self._running and time.monotonic() < deadline:
                self._running_changed.wait(max(0.05, deadline - time.monotonic()))
            self.abandoned_jobs = sorted(self._running.values())
        if self.abandoned_jobs:
            # Each poll commits in one transaction: an unfinished one leaves nothing behind.
            log.warning("stopping with jobs still running", jobs=self.abandoned_jobs)
        log.info("stopped", instance=self.instance_id)


def sqlite_file_gone(store: Any) -> str | None:
    """Why a SQLite database file is gone (deleted or replaced under us), or None.

    SQLite keeps writing to a deleted file's open inode: every write succeeds and is lost. The
    heartbeat compares the file on disk with the one the engine opened at the first check."""
    if getattr(store, "dialect", None) != "sqlite":
        return None
    database = store.engine.url.database
    if not database or database == ":memory:":
        return None
    try:
        info = os.stat(database)
    except OSError:
        return f"the database file {database} is gone"
    first = getattr(store, "_sqlite_identity", None)
    identity = (info.st_dev, info.st_ino)
    if first is None:
        store._sqlite_identity = identity
        return None
    if identity != first:
        return f"the database file {database} was replaced"
    return None


def reclaim_abandoned(store: Any, instance_id: str, now: datetime) -> int:
    """Outbox rows another instance left "sending" are due again at once.

    Called only while holding the lead (before any sending starts): whoever claimed them has
    lost the lead or died, so waiting out the outbox lease would only delay the alert.
    """
    with store.session() as session:
        stuck = list(
            session.execute(
                select(AlertRow.id, AlertRow.claimed_by, AlertRow.claimed_at).where(
                    AlertRow.status == "sending", AlertRow.claimed_by != instance_id
                )
            )
        )
        for alert_id, by, at in stuck:
            session.add(
                AlertAttemptRow(
                    alert_id=alert_id,
                    at=now,
                    outcome="interrupted",
                    instance=instance_id,
                    error=f"claimed by {by} at {at:%Y-%m-%d %H:%M:%S}Z, which lost the lead before finishing",
                )
            )
        if stuck:
            session.execute(
                update(AlertRow)
                .where(AlertRow.id.in_([row[0] for row in stuck]), AlertRow.status == "sending")
                .values(status="pending", next_attempt_at=now, claimed_at=None, claimed_by=None)
            )
    if stuck:
        log.warning("re-queued alerts an earlier leader left unfinished", alerts=[row[0] for row in stuck])
    return len(stuck)


def housekeep(store: Any, retention: timedelta, now: datetime) -> dict[str, int]:
    """Remove what is older than the retention (and instance rows long dead)."""
    cutoff = now - retention
    removed: dict[str, int] = {}
    with store.session() as session:
        old_alerts = select(AlertRow.id).where(
            AlertRow.status.in_(("delivered", "failed")), AlertRow.created_at < cutoff
        )
        removed["alert_attempts"] = session.execute(
            delete(AlertAttemptRow).where(AlertAttemptRow.alert_id.in_(old_alerts))
        ).rowcount
        removed["alerts"] = session.execute(
            delete(AlertRow).where(AlertRow.status.in_(("delivered", "failed")), AlertRow.created_at < cutoff)
        ).rowcount
        removed["poll_runs"] = session.execute(
            delete(PollRunRow).where(PollRunRow.started_at < cutoff)
        ).rowcount
        removed["findings"] = session.execute(
            delete(FindingRow).where(FindingRow.status == "resolved", FindingRow.resolved_at < cutoff)
        ).rowcount
        removed["scheduled_posts"] = session.execute(
            delete(ScheduledPostRow).where(ScheduledPostRow.gone_at < cutoff)
        ).rowcount
        removed["instances"] = session.execute(
            delete(InstanceRow).where(InstanceRow.heartbeat_at < now - timedelta(days=1))
        ).rowcount
    return removed


def systemd_notifier() -> Callable[[str], None]:
    """sd_notify through `sdnotify` when systemd gave us a socket; a no-op otherwise."""
    if not os.environ.get("NOTIFY_SOCKET"):
        return lambda _state: None
    import sdnotify

    notifier = sdnotify.SystemdNotifier()
    return notifier.notify
