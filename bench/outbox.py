"""Outbox throughput and exactly-once delivery under failures.

Queues N alerts (default 10,000) on a Teams route, delivers them to a local TeamsReceiver that
fails a share of requests at random (default 20 %, HTTP 500), and checks that every alert arrived
exactly once. Prints queueing and delivery throughput.

    python bench/outbox.py [--alerts 10000] [--fail-rate 0.2] [--senders 1] [--database URL]
    python bench/outbox.py --postgres postgresql+psycopg://postgres@127.0.0.1:5433/socialmon_test --senders 2
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.config import parse_config
from monitor.logs import configure_logging
from monitor.outbox import RetryPolicy, send_due
from monitor.receivers import TeamsReceiver
from monitor.routing import enqueue_alert
from monitor.store import Store

CONFIG = """
accounts:
  - {{id: central, platform: x, handle: uni, name: University, role: central, language: {{mode: bilingual}}}}
alerts:
  channels:
    teams: {{type: teams, url: "{url}", timeout: 5s}}
  routes:
    emergency: {{channels: [teams]}}
"""
# Retries come quickly here so the run ends; production backs off from 30 s to an hour.
POLICY = RetryPolicy(base=timedelta(milliseconds=20), cap=timedelta(milliseconds=200), max_attempts=40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--fail-rate", type=float, default=0.2)
    parser.add_argument("--senders", type=int, default=1, help="concurrent senders (each its own engine)")
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument(
        "--postgres",
        default=None,
        metavar="ADMIN_URL",
        help="create a throw-away database on this PostgreSQL server and use it",
    )
    args = parser.parse_args()
    configure_logging(level="ERROR")
    tmp = Path(tempfile.mkdtemp(prefix="socialmon-bench-"))
    url = args.database or f"sqlite:///{tmp / 'bench.db'}"
    if args.postgres:
        url = _create_database(args.postgres)
    try:
        run(args, url, tmp)
    finally:
        if args.postgres:
            _drop_database(args.postgres, url)


def _create_database(admin_url: str) -> str:
    import uuid

    from sqlalchemy import create_engine, text

    name = f"socialmon_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def _drop_database(admin_url: str, url: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def run(args: argparse.Namespace, url: str, tmp: Path) -> None:
    store = Store(url)
    store.upgrade()
    with TeamsReceiver(tmp / "teams", fail_rate=args.fail_rate, seed=7) as receiver:
        config = parse_config(CONFIG.format(url=receiver.url), "bench.yaml", env={})
        started = time.perf_counter()
        with store.session() as session:
            for i in range(args.alerts):
                enqueue_alert(
                    session,
                    config,
                    "emergency",
                    "first",
                    "critical",
                    f"bench alert {i}",
                    "body",
                    dedup_key=f"bench:{i}",
                )
        queued_s = time.perf_counter() - started

        reports: list[tuple[int, int, int]] = []
        lock = threading.Lock()

        def sender(name: str) -> None:
            own = Store(url)
            idle = 0
            try:
                while idle < 50:
                    report = send_due(config, own, instance_id=name, limit=200, policy=POLICY)
                    with lock:
                        reports.append((report.delivered, report.retried, report.failed))
                    if report.claimed == 0:
                        if sum(r[0] + r[2] for r in reports) >= args.alerts:
                            return
                        idle += 1
                        time.sleep(0.05)  # rows are waiting for their backoff
                    else:
                        idle = 0
            finally:
                own.dispose()

        started = time.perf_counter()
        threads = [threading.Thread(target=sender, args=(f"bench-{i}",)) for i in range(args.senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        send_s = time.perf_counter() - started

    titles = Counter(m["attachments"][0]["content"]["body"][0]["text"] for m in receiver.messages)
    delivered = sum(r[0] for r in reports)
    retried = sum(r[1] for r in reports)
    failed = sum(r[2] for r in reports)
    lost = args.alerts - len(titles)
    duplicated = sum(count - 1 for count in titles.values() if count > 1)
    rejected = sum(1 for r in receiver.requests if r.status >= 400)
    print(f"database           {store.dialect}  senders {args.senders}  fail rate {args.fail_rate:.0%}")
    print(f"queued             {args.alerts} alerts in {queued_s:.2f} s ({args.alerts / queued_s:,.0f}/s)")
    print(f"delivered          {delivered} in {send_s:.2f} s ({delivered / send_s:,.0f}/s end to end)")
    print(f"requests           {len(receiver.requests)} ({rejected} answered 500; {retried} retries)")
    print(f"failed (gave up)   {failed}")
    print(f"lost               {lost}")
    print(f"sent twice         {duplicated}")
    print(f"finished at        {datetime.now(UTC):%Y-%m-%d %H:%M:%S}Z")
    store.dispose()
    if lost or duplicated or failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
