"""Benchmark the dashboard's pages over a big store: 500 accounts, a year of data, 10,000 findings.

    python bench/web.py                          # SQLite, and PostgreSQL when SOCIALMON_BENCH_PG_URL is set
    python bench/web.py --pg postgresql+psycopg://postgres@127.0.0.1:55432/socialmon_ci
    python bench/web.py --accounts 100 --days 90 --sqlite-only

The store is bench/checks.py's synthetic university (500 accounts, a year of posts, messages and
replies, profiles, account state), plus 10,000 findings (a fifth open; severities, checks and triage
states mixed, with audit events) and a day of poll runs. The dashboard is served by waitress on
loopback (as `socialmon web` serves it) and each page is fetched over HTTP with `requests`, signed in
through the proxy header: 3 warm-up requests, then 40 timed ones. Prints median, p95 and worst per page,
and the process CPU time per request (server and client: the figure that does not grow with the load
other programs put on the machine), with the load average.
Target: overview and findings list p95 <= 300 ms.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, text

from monitor.db import FindingEventRow, FindingRow, PollRunRow
from monitor.store import Store

_spec = importlib.util.spec_from_file_location("bench_checks", Path(__file__).with_name("checks.py"))
assert _spec and _spec.loader
bench_checks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_checks)
NOW = bench_checks.NOW
FINDINGS = 10_000
SAMPLES = 40
WARMUP = 3
CHECKS = ("cadence", "welsh-counterpart", "response-time", "video-captions", "registry", "profile-hours")
SEVERITIES = ("critical", "high", "warning", "low", "info")
USER = "bench@example.ac.uk"


def web_config(accounts: int, url: str) -> Any:
    from monitor.web_config import Web

    config = bench_checks.build_config(accounts, url)
    web = Web.model_validate(
        {"auth": {"mode": "proxy", "trusted_proxies": ["127.0.0.1"]}, "roles": {USER: "admin"}}
    )
    return config.model_copy(update={"web": web})


def add_findings(store: Store, config: Any, count: int) -> None:
    rng = random.Random(11)
    ids = [a.id for a in config.accounts]
    rows, events = [], []
    for n in range(count):
        opened = NOW - timedelta(minutes=rng.randrange(60 * 24 * 365))
        resolved = n % 5 != 0  # a fifth still open
        state = (
            rng.choice(["none", "none", "none", "acknowledged", "snoozed", "dismissed"])
            if not resolved
            else "none"
        )
        rows.append({
            "fingerprint": f"bench{n:011d}", "check": rng.choice(CHECKS), "account_id": rng.choice(ids),
            "subject": f"post:{n}", "severity": rng.choice(SEVERITIES),
            "status": "resolved" if resolved else "open", "title": f"Synthetic finding {n}",
            "detail": "What happened, at some length, as a check writes it.", "policy_section": "4.2",
            "url": f"https://example.org/p{n}", "immediate": False, "since": opened, "opened_at": opened,
            "last_seen_at": NOW, "resolved_at": opened + timedelta(hours=5) if resolved else None,
            "state": state, "state_by": USER if state != "none" else None,
            "state_at": NOW - timedelta(hours=1) if state != "none" else None,
            "state_until": NOW + timedelta(days=1) if state in ("snoozed",) else None,
        })  # fmt: skip
    with store.session() as session:
        for start in range(0, len(rows), 1000):
            session.execute(insert(FindingRow), rows[start : start + 1000])
        for finding_id, state in session.execute(
            text("SELECT id, state FROM findings WHERE state != 'none'")
        ).all():
            events.append({"finding_id": finding_id, "at": NOW - timedelta(hours=1), "by": USER,
                           "action": state, "note": "bench"})  # fmt: skip
        if events:
            session.execute(insert(FindingEventRow), events)
        runs = [
            {"account_id": a, "started_at": NOW - timedelta(minutes=15 * i),
             "finished_at": NOW - timedelta(minutes=15 * i), "status": "ok", "api_calls": 2, "quota_units": 0,
             "new_posts": 0, "new_messages": 0, "warnings": []}
            for a in ids for i in range(96)
        ]  # fmt: skip
        for start in range(0, len(runs), 5000):
            session.execute(insert(PollRunRow), runs[start : start + 5000])


def timed(session: Any, url: str) -> float:
    started = time.perf_counter()
    response = session.get(url, headers={"X-Forwarded-Email": USER}, timeout=60)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    return elapsed


def measure(label: str, url: str, accounts: int, days: int) -> dict[str, Any]:
    import requests

    from monitor.web.app import create_app
    from monitor.web.server import WebServer

    config = web_config(accounts, url)
    store = Store(url)
    store.upgrade()
    started = time.perf_counter()
    counts = bench_checks.populate(store, config, days)
    add_findings(store, config, FINDINGS)
    built = time.perf_counter() - started
    # The clock is the data's: "this week" and open states are as of the synthetic now.
    server = WebServer(
        create_app(config, store, clock=lambda: NOW, secret_key=b"bench" * 8), "127.0.0.1", 0
    ).start()
    base = server.url.rstrip("/")
    with store.session() as session:
        some_finding = session.scalar(text("SELECT min(id) FROM findings WHERE status = 'open'"))
    pages = {
        "overview": "/",
        "overview, all 500 on one page": "/?show=all",
        "overview, one platform and severity": "/?platform=x&severity=high",
        "findings (open, page 1)": "/findings",
        "findings (all, page 100)": "/findings?status=all&page=100",
        "finding": f"/findings/{some_finding}",
        "account": f"/accounts/{config.accounts[0].id}",
        "operations": "/operations",
    }
    results: dict[str, Any] = {}
    http = requests.Session()
    try:
        for name, path in pages.items():
            for _ in range(WARMUP):
                timed(http, base + path)
            cpu = time.process_time()
            samples = sorted(timed(http, base + path) * 1000 for _ in range(SAMPLES))
            cpu_ms = (time.process_time() - cpu) * 1000 / SAMPLES
            results[name] = {
                "cpu_ms": round(cpu_ms, 1),
                "median_ms": round(statistics.median(samples), 1),
                "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 1),
                "max_ms": round(samples[-1], 1),
            }
    finally:
        server.stop()
        store.dispose()
    return {
        "database": label,
        "records": counts,
        "findings": FINDINGS,
        "build_s": round(built, 1),
        "pages": results,
    }


def pg_database(admin_url: str) -> tuple[str, Any]:
    name = f"sm_webbench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.rsplit("/", 1)[0] + f"/{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--pg", default=os.environ.get("SOCIALMON_BENCH_PG_URL"))
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--pg-only", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import logging

    from monitor.logs import configure_logging

    configure_logging(level="WARNING")
    logging.getLogger("waitress").setLevel(logging.ERROR)
    reports = []
    if not args.pg_only:
        with tempfile.TemporaryDirectory() as tmp:
            reports.append(measure("SQLite", f"sqlite:///{tmp}/bench.db", args.accounts, args.days))
    if args.pg and not args.sqlite_only:
        url, drop = pg_database(args.pg)
        try:
            reports.append(measure("PostgreSQL", url, args.accounts, args.days))
        finally:
            drop()
    if args.json:
        print(json.dumps(reports))
        return
    for report in reports:
        records = report["records"]
        print(
            f"{report['database']}: {args.accounts} accounts, {records['posts']} posts, "
            f"{records['messages']} messages, {records['replies']} replies, "
            f"{report['findings']} findings (built in {report['build_s']} s)"
        )
        for name, figures in report["pages"].items():
            print(f"  {name:<40} median {figures['median_ms']:>7.1f} ms  p95 {figures['p95_ms']:>7.1f} ms  "
                  f"max {figures['max_ms']:>7.1f} ms  cpu {figures['cpu_ms']:>6.1f} ms")  # fmt: skip
    print(
        f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
    )
    for report in reports:
        for name in ("overview", "findings (open, page 1)"):
            if report["pages"][name]["p95_ms"] > 300:
                print(f"TARGET MISSED: {report['database']} {name} p95 > 300 ms")


if __name__ == "__main__":
    main()
