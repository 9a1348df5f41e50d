"""Prometheus metrics and `/healthz` on a localhost port (config service.metrics_host/metrics_port).

Counters and the latency histogram are updated by the service as things happen; what lives in
the database (open findings by check, outbox depth, emergency state) is read at scrape time by
a collector, so the figures are the store's, not a cache's. Port 0 binds an ephemeral port
(tests); the bound port is logged and available as `MetricsServer.port`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import make_wsgi_app
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from monitor.db import AlertRow, EmergencyRow, FindingRow
from monitor.localhttp import serve_in_thread, stop_serving
from monitor.logs import get_logger
from monitor.store import Store

log = get_logger(component="metrics")

LATENCY_BUCKETS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 900, 3600, 86400)


class Metrics:
    """The service's instruments, on a registry of their own (tests can make several)."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.polls = Counter(
            "socialmon_polls", "Polls run, by platform and outcome", ["platform", "status"], registry=r
        )
        self.poll_errors = Counter(
            "socialmon_poll_errors",
            "Failed polls by platform and error kind",
            ["platform", "kind"],
            registry=r,
        )
        self.api_calls = Counter(
            "socialmon_api_calls", "Platform API calls made by polls", ["platform"], registry=r
        )
        self.job_errors = Counter("socialmon_job_errors", "Scheduler jobs that raised", ["job"], registry=r)
        self.missed_runs = Counter(
            "socialmon_job_missed_runs", "Scheduled runs skipped as too late", ["job"], registry=r
        )
        self.alert_latency = Histogram(
            "socialmon_alert_latency_seconds",
            "From the event alerted about (or the alert's creation) to its delivery",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.alerts_delivered = Counter(
            "socialmon_alerts_delivered", "Alerts delivered", ["route"], registry=r
        )
        self.leader = Gauge("socialmon_leader", "1 while this instance holds the lead", registry=r)
        self.emergency_take_up = Gauge(
            "socialmon_emergency_take_up_seconds",
            "Seconds from the last emergency start to its take-up",
            registry=r,
        )

    def attach_store(self, store: Store) -> None:
        self.registry.register(StoreCollector(store))


class StoreCollector(Collector):
    """Gauges read from the database at scrape time."""

    def __init__(self, store: Store):
        self.store = store

    def collect(self) -> Iterable[GaugeMetricFamily]:
        findings = GaugeMetricFamily("socialmon_findings_open", "Open findings by check", labels=["check"])
        depth = GaugeMetricFamily(
            "socialmon_outbox_depth", "Outbox rows not yet delivered, by status", labels=["status"]
        )
        emergency = GaugeMetricFamily("socialmon_emergency_active", "1 while an emergency is declared")
        try:
            with self.store.session() as session:
                for check, count in session.execute(
                    select(FindingRow.check, func.count())
                    .where(FindingRow.status == "open")
                    .group_by(FindingRow.check)
                ):
                    findings.add_metric([check], count)
                counts = dict(
                    session.execute(
                        select(AlertRow.status, func.count())
                        .where(AlertRow.status.in_(("pending", "sending", "failed")))
                        .group_by(AlertRow.status)
                    ).all()
                )
                for status in ("pending", "sending", "failed"):
                    depth.add_metric([status], counts.get(status, 0))
                active = session.scalar(
                    select(func.count()).select_from(EmergencyRow).where(EmergencyRow.ended_at.is_(None))
                )
                emergency.add_metric([], 1 if active else 0)
        except Exception as exc:  # a scrape must not fail because the database blinked
            log.warning("metrics: cannot read the store", error=type(exc).__name__)
            return
        yield findings
        yield depth
        yield emergency


IDLE_TIMEOUT = 10.0  # seconds a connection may sit without sending a request


class _QuietHandler(WSGIRequestHandler):
    # StreamRequestHandler puts this on the socket: an idle connection is closed, not held forever.
    timeout = IDLE_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:  # access logs are noise here
        pass


class _ThreadingWSGIServer(WSGIServer):
    daemon_threads = True

    def process_request(self, request: Any, client_address: Any) -> None:
        threading.Thread(target=self._handle, args=(request, client_address), daemon=True).start()

    def _handle(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except TimeoutError:
            pass  # an idle client: its connection is closed below
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)


class MetricsServer:
    """`/metrics` (Prometheus text) and `/healthz` (JSON; 200 healthy, 503 not)."""

    def __init__(
        self,
        metrics: Metrics,
        health: Callable[[], tuple[bool, dict[str, Any]]],
        host: str,
        port: int,
        idle_timeout: float = IDLE_TIMEOUT,
    ):
        self.idle_timeout = idle_timeout
        self.metrics = metrics
        self.health = health
        self.host = host
        self.requested_port = port
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._prometheus = make_wsgi_app(metrics.registry)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_port)

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/healthz":
            ok, detail = self.health()
            body = json.dumps({"status": "ok" if ok else "unhealthy", **detail}).encode()
            start_response(
                "200 OK" if ok else "503 Service Unavailable", [("Content-Type", "application/json")]
            )
            return [body]
        if path == "/metrics":
            return self._prometheus(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"socialmon: /metrics or /healthz\n"]

    def start(self) -> None:
        self._server = make_server(
            self.host,
            self.requested_port,
            self._app,
            server_class=_ThreadingWSGIServer,
            handler_class=type("_Handler", (_QuietHandler,), {"timeout": self.idle_timeout}),
        )
        self._thread = serve_in_thread(self._server, "metrics")
        log.info("metrics listening", url=f"http://{self.host}:{self.port}/metrics")

    def stop(self) -> None:
        if self._server is not None:
            stop_serving(self._server, self._thread)
            self._server = None
