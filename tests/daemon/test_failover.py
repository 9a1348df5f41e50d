"""High availability on PostgreSQL: kill -9 the leader mid-poll; the standby takes over and every
outbox row is delivered exactly once (none lost, none twice).

Production's promise is a takeover within 30 s: a standby tries for the lead every
`service.leader_check_interval` (2 s, at most 10 s; tests/monitor/test_config.py keeps both). Here
it is 1 s and the takeover is asserted within that and a margin; the emergency polls run every
second too, so the leader is soon inside a poll and the survivor soon busy.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from daemon_support import Daemon, FakeX, socialmon, teams_texts, wait_for, write_config
from sqlalchemy import select

from monitor.config import load_config
from monitor.db import AlertRow
from monitor.receivers import SmtpSink, TeamsReceiver
from monitor.routing import enqueue_alert
from monitor.store import Store

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

LEADER_CHECK = 1.0  # service.leader_check_interval here
MARGIN = 8.0  # the database dropping the dead session, and starting the scheduler, on a loaded machine


def test_kill_9_of_the_leader_mid_poll(tmp_path: Path, pg_database: str) -> None:
    fake = FakeX(["CentralUni", "DeptA", "DeptB"]).start()
    teams = TeamsReceiver(tmp_path / "teams").start()
    smtp = SmtpSink(tmp_path / "mail")
    smtp.start()
    config_path = write_config(
        tmp_path / "socialmon.yaml",
        database=pg_database,
        x_url=fake.url,
        teams_url=teams.url,
        smtp_port=smtp.port,
        accounts=[
            ("central-x", "CentralUni", "central"),
            ("dept-a", "DeptA", "departmental"),
            ("dept-b", "DeptB", "departmental"),
        ],
        emergency_interval="1s",
        leader_check_interval=f"{LEADER_CHECK:.0f}s",
    )
    assert socialmon("db", "upgrade", config=config_path).returncode == 0
    first = Daemon(config_path, tmp_path / "first.log").start()
    second = None
    store = Store(pg_database)
    try:
        # Its first poll (central-x, a second after start) records X's rate-limit headers, so the
        # emergency's plan polls the departmental accounts every second from the start.
        assert first.wait_line('"event": "polled"', '"account": "central-x"', timeout=30), first.log()
        assert socialmon("emergency", "start", "--reason", "Lockdown", config=config_path).returncode == 0
        second = Daemon(config_path, tmp_path / "second.log").start()  # it starts while the first works
        assert wait_for(lambda: any("Emergency monitoring is on" in t for t in teams_texts(teams)), 15)
        fake.post("DeptA", "Sports centre closed this afternoon")
        assert wait_for(lambda: any("Sports centre closed" in t for t in teams_texts(teams)), 15), first.log()
        assert second.wait_log(r"standing by", 30), second.log()

        # The leader is now inside a poll that hangs; three alerts are queued, due just after the kill
        # (the leader's sender would otherwise send them itself).
        fake.hold.set()
        fake.held.clear()
        assert fake.held.wait(15)
        config = load_config(config_path)
        due = datetime.now(UTC) + timedelta(seconds=1)
        with store.session() as session:
            for n in range(3):
                enqueue_alert(
                    session,
                    config,
                    "emergency",
                    "operations",
                    "warning",
                    f"Queued notice {n}",
                    "queued before the leader died",
                    now=due,
                    dedup_key=f"test:queued:{n}",
                )
        fake.post("DeptB", "Exams rescheduled, see the portal")
        first.kill()  # SIGKILL mid-poll: no clean-up runs
        killed = time.monotonic()
        fake.hold.clear()
        fake.release.set()

        assert second.wait_log(r"\bleading\b", 30), second.log()
        assert time.monotonic() - killed < LEADER_CHECK + MARGIN
        for expected in ("Exams rescheduled", "Queued notice 0", "Queued notice 1", "Queued notice 2"):
            assert wait_for(lambda e=expected: any(e in t for t in teams_texts(teams)), 30), (
                expected,
                second.log(),
            )
        # Room for a duplicate to show up, were there one: after every alert above has arrived, the
        # survivor polls both departmental accounts once more, completely (checks, routing and
        # sending included: an account's next poll starts only once its last one has finished), and
        # its sender, every second, runs meanwhile.
        mark = time.time()
        for handle in ("DeptA", "DeptB"):
            assert wait_for(lambda h=handle: len(fake.timeline_requests(h, mark)) >= 2, 20), second.log()

        subjects = Counter()
        for body in teams_texts(teams):
            for marker in (
                "Emergency monitoring is on",
                "Sports centre closed",
                "Exams rescheduled",
                "Queued notice 0",
                "Queued notice 1",
                "Queued notice 2",
            ):
                if marker in body:
                    subjects[marker] += 1
        assert set(subjects.values()) == {1}, subjects
        with store.session() as session:
            rows = list(session.scalars(select(AlertRow).where(AlertRow.channel == "oncall")))
        assert rows and all(r.status == "delivered" for r in rows), [(r.subject, r.status) for r in rows]
        assert len(rows) == len(teams.messages)  # one delivery per outbox row
        leader_line = next(line for line in second.log().splitlines() if '"event": "leading"' in line)
        with ThreadPoolExecutor(2) as pool:  # two read-only commands, side by side
            status_run = pool.submit(socialmon, "status", "--json", config=config_path)
            once = pool.submit(socialmon, "run", "--once", config=config_path).result()  # races the leader
            status = json.loads(status_run.result().stdout.strip().splitlines()[-1])
        assert status["leader"] == json.loads(leader_line)["instance"]
        assert status["emergency"]["active"]
        assert once.returncode == 4 and "holds the lead" in once.stderr
    finally:
        first.kill()
        if second is not None:
            second.kill()
        store.dispose()
        fake.stop()
        teams.stop()
        smtp.stop()
