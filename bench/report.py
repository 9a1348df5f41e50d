"""Benchmark the Welsh language parity report: 500 accounts and a year of data.

    python bench/report.py                       # SQLite (500 accounts, 365 days)
    python bench/report.py --pg postgresql+psycopg://postgres@127.0.0.1:55432/socialmon_ci
    python bench/report.py --accounts 100 --days 90

The store is the one `bench/checks.py` builds (same generator: posts with counterparts, enquiries
and replies, profiles). Then, in a fresh process (so building does not count), the report for the
whole year is built and rendered as JSON, CSV and HTML (bilingual); the bench prints the time of each
step, the process's wall time including Python start-up and imports, and its peak RSS.
Targets: <= 10 s and <= 500 MB.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _checks_bench() -> Any:
    """bench/checks.py (its store builder); loaded by path: `checks` is also the checks package."""
    spec = importlib.util.spec_from_file_location("bench_checks", ROOT / "bench" / "checks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(url: str, accounts: int, days: int) -> dict[str, int]:
    from monitor.store import Store

    bench = _checks_bench()
    config = bench.build_config(accounts, url)
    store = Store(url)
    store.upgrade()
    counts = bench.populate(store, config, days)
    store.dispose()
    return counts


def measure(url: str, accounts: int, days: int) -> dict[str, Any]:
    """In a fresh process: build and render the report; figures as JSON on stdout."""
    started = time.perf_counter()
    from datetime import timedelta

    from monitor.report import build_language_report
    from monitor.report_output import render_report
    from monitor.store import Store

    bench = _checks_bench()
    config = bench.build_config(accounts, url)
    store = Store(url)
    end = bench.NOW.astimezone(config.tz).date()
    start = end - timedelta(days=days - 1)
    imported = time.perf_counter()
    report = build_language_report(config, store, start, end, now=bench.NOW)
    built = time.perf_counter()
    sizes = {}
    steps = {}
    for fmt, language in (("json", "en"), ("csv", "en"), ("html", "cy+en")):
        t0 = time.perf_counter()
        sizes[fmt] = len(render_report(report, fmt, language).encode("utf-8"))
        steps[fmt] = round(time.perf_counter() - t0, 3)
    overall = report.overall()
    return {
        "imports_s": round(imported - started, 3),
        "build_s": round(built - imported, 3),
        "render_s": steps,
        "bytes": sizes,
        "posts": sum(overall.posts.values()),
        "enquiries": overall.enquiries["cy"].count + overall.enquiries["en"].count,
        "accounts": len(report.accounts),
    }


def run(url: str, accounts: int, days: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--measure", url, "--accounts", str(accounts), "--days", str(days)],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - t0
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process_wall_s"] = round(wall, 2)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures["process_cpu_s"] = round(usage.ru_utime + usage.ru_stime, 2)  # robust to a busy machine
    figures["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    figures["load_average"] = round(os.getloadavg()[0], 2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--pg", help="a PostgreSQL server URL: a fresh database is made and dropped")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.accounts, args.days)))
        return
    if args.pg:
        from sqlalchemy import create_engine, text

        name = f"sm_report_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = args.pg.rsplit("/", 1)[0] + f"/{name}"
        try:
            counts = build(url, args.accounts, args.days)
            figures = run(url, args.accounts, args.days)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        label = "PostgreSQL"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'report.db'}"
            t0 = time.perf_counter()
            counts = build(url, args.accounts, args.days)
            print(f"built the store in {time.perf_counter() - t0:.1f} s: {counts}", file=sys.stderr)
            figures = run(url, args.accounts, args.days)
        label = "SQLite"
    print(f"{label}: {args.accounts} accounts, {args.days} days, stored {counts}")
    print(json.dumps(figures, indent=2))
    ok = figures["process_wall_s"] <= 10 and figures["peak_rss_mb"] <= 500
    print(f"targets (<= 10 s, <= 500 MB): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
