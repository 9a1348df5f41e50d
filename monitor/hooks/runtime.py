"""The webhook side of `socialmon run`: started by the leader (`Service.start`), stopped first.

Owns the receiver (HookServer), the hint dispatcher, a flusher that writes last-delivery times
and seen digests once a second, and the scheduler job `hooks` (every 5 minutes: renew WebSub
leases, re-ask for unverified subscriptions, report accounts whose hints stopped).
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger

from monitor.hooks.hints import BudgetGate, HintDispatcher
from monitor.hooks.receiver import HookApp, HookMetrics, HookServer, SeenDeliveries
from monitor.hooks.subscriptions import (
    DeliveryLog,
    check_silence,
    recent_digests,
    record_verification,
    renew_due,
)
from monitor.logs import get_logger

log = get_logger(component="hooks")

HOOKS_INTERVAL = timedelta(minutes=5)
FLUSH_SECONDS = 1.0


class HooksRuntime:
    def __init__(self, service: Any):
        self.service = service
        self.config = service.config
        self.store = service.store
        self.clock = service.clock
        self.metrics = HookMetrics(service.metrics.registry)
        self.seen = SeenDeliveries(self.clock)
        self.deliveries = DeliveryLog()
        accounts = {a.id: a.platform for a in service.accounts.values()}
        self.gate = BudgetGate(lambda: service.pacer.compute(self.clock()), accounts, self.clock)
        self.dispatcher = HintDispatcher(service.poll_now, self.gate.allow)
        self.app = HookApp(
            self.config,
            self.dispatcher,
            self.metrics,
            self.seen,
            on_delivery=lambda account_id: self.deliveries.note(account_id, self.clock()),
            on_verified=lambda account_id, mode, lease: record_verification(
                self.store, account_id, mode, lease, self.clock()
            ),
        )
        self.server: HookServer | None = None
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None

    def start(self) -> HooksRuntime:
        hooks = self.config.webhooks
        self.seen.load(recent_digests(self.store, self.clock()))
        try:
            self.server = HookServer(self.app, hooks.host, hooks.port).start()
        except OSError as exc:
            log.error(
                "webhooks.listen: cannot listen; accounts stay on polling only",
                listen=hooks.listen,
                error=exc.strerror,
            )
        self._flusher = threading.Thread(target=self._flush_loop, name="socialmon-hooks-flush", daemon=True)
        self._flusher.start()
        scheduler = self.service.scheduler
        if scheduler is not None:
            scheduler.add_job(
                self.hooks_job,
                IntervalTrigger(seconds=HOOKS_INTERVAL.total_seconds()),
                id="hooks",
                next_run_time=self.clock() + timedelta(seconds=3),
                executor="control",
            )
        return self

    @property
    def port(self) -> int | None:
        return self.server.port if self.server else None

    def _flush_loop(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS):
            self.flush()

    def flush(self) -> None:
        try:
            self.deliveries.flush(self.store, self.seen.take_new(), self.clock())
        except Exception as exc:  # the database blinked: the next flush writes what is newer
            log.warning("hooks: cannot record deliveries", error=type(exc).__name__)

    def hooks_job(self) -> None:
        with self.service._job("hooks") as go:
            if not go:
                return
            now = self.clock()
            self.flush()
            try:
                renew_due(self.config, self.store, now)
                silent = check_silence(self.config, self.store, now, self.service.pieces.enqueue_alert)
            except Exception as exc:
                log.error("hooks job failed", error=type(exc).__name__)
                self.service.metrics.job_errors.labels("hooks").inc()
                return
            if silent:
                self.service._send()

    def stop(self) -> None:
        self._stop.set()
        if self.server is not None:
            self.server.stop()
        self.dispatcher.close()
        self.flush()
