"""Benchmark the policy checks on a synthetic store: 500 accounts with a year of posts and messages.

    python bench/checks.py                      # SQLite, and PostgreSQL when SOCIALMON_BENCH_PG_URL is set
    python bench/checks.py --pg postgresql+psycopg://postgres@127.0.0.1:5433/socialmon_test
    python bench/checks.py --accounts 100 --days 90 --sqlite-only

For each database it builds the store (deterministic: seeded), then, in a fresh process so that
building does not count, measures:
- the full evaluation of every check on every account (the first run, which opens findings, and
  the second, which finds them unchanged);
- the incremental run after one account's poll (new posts, messages and replies stored for that
  account only, then `run_checks(account_ids=[it])`), over 20 accounts: median and worst;
- the peak resident memory of that process.
Targets: full run <= 10 s, incremental <= 50 ms per account, peak RSS <= 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, text

from connectors.specs import PLATFORM_NAMES
from monitor.config import Config
from monitor.db import AccountStateRow, MessageRow, PostRow, ProfileSnapshotRow, ReplyRow
from monitor.models import ProfileSnapshot
from monitor.store import Store
from monitor.tagging import tag_profile

NOW = datetime(2025, 11, 19, 11, 0, tzinfo=UTC)  # a Wednesday in term
PLATFORMS = PLATFORM_NAMES
EN_TEXTS = (
    "Open day this Saturday: book your place",
    "New research on coastal erosion from our scientists",
    "Congratulations to this year's graduates",
    "The library is open late during exams",
)
CY_TEXTS = (
    "Diwrnod agored ddydd Sadwrn: archebwch eich lle",
    "Ymchwil newydd ar erydiad arfordirol gan ein gwyddonwyr",
    "Llongyfarchiadau i raddedigion eleni",
    "Mae'r llyfrgell ar agor yn hwyr yn ystod yr arholiadau",
)
EN_QUESTIONS = (
    "When does the library open on Saturday?",
    "How do I apply for accommodation?",
    "Great news!",
    "Is the open day still on?",
    "Thanks for sharing",
)
CY_QUESTIONS = ("Pryd mae'r llyfrgell ar agor ddydd Sadwrn?", "Sut ydw i'n gwneud cais am lety?",
                "Newyddion gwych!",
                "Ydy'r diwrnod agored yn dal i fynd ymlaen?", "Diolch am rannu")  # fmt: skip


# --- the synthetic university -----------------------------------------------------------------


def build_config(accounts: int, database: str) -> Config:
    people = ["a.jones@example.ac.uk", "b.williams@example.ac.uk"]
    items: list[dict[str, Any]] = []
    rng = random.Random(7)
    index = 0
    while len(items) < accounts:
        platform = PLATFORMS[index % 4]
        base = {
            "platform": platform, "name": f"Account {index}", "people": people, "manager": "m@example.ac.uk",
            "monitoring_hours": rng.choice(["Mon-Fri 09:00-17:00", "Mon-Fri 08:30-16:30", "24/7"]),
            "role": "central" if index < 10 else "departmental",
        }  # fmt: skip
        if rng.random() < 0.05:
            base.pop("manager")  # registry gaps
        kind = rng.random()
        if kind < 0.3 and len(items) + 2 <= accounts:
            en, cy = f"acct-{index}-en", f"acct-{index}-cy"
            items.append(
                {
                    **base,
                    "id": en,
                    "handle": f"H{index}EN",
                    "language": {"mode": "paired", "pair": cy, "lang": "en"},
                }
            )
            items.append(
                {
                    **base,
                    "id": cy,
                    "handle": f"H{index}CY",
                    "language": {"mode": "paired", "pair": en, "lang": "cy"},
                }
            )
        elif kind < 0.9:
            items.append(
                {**base, "id": f"acct-{index}", "handle": f"H{index}", "language": {"mode": "bilingual"}}
            )
        else:
            items.append({**base, "id": f"acct-{index}", "handle": f"H{index}",
                          "language": {"mode": "exempt", "reason": "international recruitment"}})  # fmt: skip
        index += 1
    return Config.model_validate({"database": database, "accounts": items})


class Generator:
    """A year of activity per account: posts with counterparts (mostly), gaps, questions and replies."""

    def __init__(self, config: Config, days: int, seed: int = 42):
        self.config = config
        self.days = days
        self.rng = random.Random(seed)
        self.serial = 0

    def next_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial}"

    def account_rows(self, account: Any, start: datetime, end: datetime) -> dict[str, list[dict[str, Any]]]:
        rng = self.rng
        rows: dict[str, list[dict[str, Any]]] = {"posts": [], "messages": [], "replies": []}
        platform = account.platform
        mode = account.language.mode
        silent_from = end - timedelta(days=rng.choice([0, 0, 0, 0, 3, 10]))  # some accounts have gone quiet
        at = start
        while at < end:
            at += timedelta(hours=rng.uniform(6, 24))
            if at >= end or at >= silent_from:
                break
            pick = rng.randrange(4)
            if mode == "paired":
                lang = account.own_language
                texts = EN_TEXTS if lang == "en" else CY_TEXTS
                shift = timedelta(minutes=0 if lang == "en" else rng.choice([5, 10, 15, 60]))
                rows["posts"].append(self.post(account, at + shift, texts[pick], lang or "en"))
            else:
                roll = rng.random()
                if roll < 0.25:
                    rows["posts"].append(
                        self.post(account, at, f"{CY_TEXTS[pick]} / {EN_TEXTS[pick]}", "cy+en")
                    )
                else:
                    rows["posts"].append(self.post(account, at, EN_TEXTS[pick], "en"))
                    if roll < 0.9:  # a Welsh counterpart, usually within minutes
                        delay = timedelta(minutes=rng.choice([2, 5, 10, 20, 45]))
                        rows["posts"].append(self.post(account, at + delay, CY_TEXTS[pick], "cy"))
            for _ in range(rng.choice([0, 1, 1, 2, 3])):
                self.add_message(account, at + timedelta(minutes=rng.uniform(5, 600)), end, rows)
        del platform
        return rows

    def post(self, account: Any, at: datetime, body: str, language: str) -> dict[str, Any]:
        native_id = self.next_id("p")
        video = account.platform == "youtube" or self.rng.random() < 0.05
        captions = self.rng.choice(["yes", "yes", "no", "unknown"])
        return {
            "platform": account.platform, "native_id": native_id, "account_id": account.id, "created_at": at,
            "text": body, "url": f"https://example.org/{native_id}", "kind": "original", "title": "",
            "language": language, "language_confidence": 0.9, "links": [], "hashtags": [], "media": [],
            "has_video": video, "video_captions": captions if video else "unknown",
            "live": False, "first_seen_at": at, "updated_at": at,
        }  # fmt: skip

    def add_message(
        self, account: Any, at: datetime, end: datetime, rows: dict[str, list[dict[str, Any]]]
    ) -> None:
        if at >= end:
            return
        rng = self.rng
        welsh = rng.random() < 0.3
        pick = rng.randrange(5)
        body = (CY_QUESTIONS if welsh else EN_QUESTIONS)[pick]
        native_id = self.next_id("m")
        channel = rng.choice(["comment", "comment", "mention", "dm"])
        rows["messages"].append({
            "platform": account.platform, "native_id": native_id, "account_id": account.id,
            "channel": channel,
            "author_id": f"u{rng.randrange(5000)}", "author_name": "Someone", "created_at": at, "text": body,
            "language": "cy" if welsh else "en", "language_confidence": 0.9, "is_enquiry": pick in (0, 1, 3),
            "in_reply_to": "", "conversation_id": "", "url": "", "first_seen_at": at,
        })  # fmt: skip
        if rng.random() < 0.8:
            reply_at = at + timedelta(minutes=rng.uniform(10, 60 * 30))
            if reply_at < end:
                in_welsh = welsh and rng.random() < 0.85
                rows["replies"].append({
                    "platform": account.platform, "native_id": self.next_id("r"), "account_id": account.id,
                    "created_at": reply_at, "text": "Diolch!" if in_welsh else "Thanks!",
                    "in_reply_to": native_id,
                    "conversation_id": "", "language": "cy" if in_welsh else "en", "language_confidence": 0.9,
                    "first_seen_at": reply_at,
                })  # fmt: skip


def populate(store: Store, config: Config, days: int) -> dict[str, int]:
    generator = Generator(config, days)
    start = NOW - timedelta(days=days)
    counts = {"posts": 0, "messages": 0, "replies": 0}
    tables = {"posts": PostRow, "messages": MessageRow, "replies": ReplyRow}
    batch: dict[str, list[dict[str, Any]]] = {name: [] for name in tables}

    def flush() -> None:
        with store.session() as session:
            for name, rows in batch.items():
                if rows:
                    session.execute(insert(tables[name]), rows)
                    counts[name] += len(rows)
                    rows.clear()

    for n, account in enumerate(config.accounts):
        for name, rows in generator.account_rows(account, start, NOW).items():
            batch[name].extend(rows)
        if n % 25 == 24:
            flush()
    flush()
    with store.session() as session:
        profiles, states = [], []
        for account in config.accounts:
            welsh = account.language.mode != "exempt"
            body = "Official account. Monitored Mon-Fri 9am-5pm." + (
                " Cyfrif swyddogol. Monitro Llun-Gwener 9yb-5yh." if welsh else ""
            )
            # tagged as the poll stores it
            tagged = tag_profile(ProfileSnapshot(account.id, start, account.name, account.handle, body, "a"))
            profiles.append({**asdict(tagged), "languages": list(tagged.languages), "last_seen_at": NOW})
            states.append({"account_id": account.id, "last_poll_at": NOW, "last_status": "ok",
                           "last_ok_at": NOW,
                           "failing_since": None, "slowed": False})  # fmt: skip
        session.execute(insert(ProfileSnapshotRow), profiles)
        session.execute(insert(AccountStateRow), states)
    return counts


# --- measuring --------------------------------------------------------------------------------


def measure(url: str, accounts: int, days: int) -> dict[str, Any]:
    """Runs in a fresh process: full runs, incremental runs, peak RSS."""
    from monitor.checking import run_checks
    from monitor.store import store_messages, store_posts, store_replies

    config = build_config(accounts, url)
    store = Store(url)
    started = time.perf_counter()
    first = run_checks(config, store, now=NOW)
    full_first = time.perf_counter() - started
    started = time.perf_counter()
    second = run_checks(config, store, now=NOW + timedelta(minutes=1))
    full_second = time.perf_counter() - started

    from monitor.models import Message, Post, Reply

    rng = random.Random(3)
    incremental = []
    sample = rng.sample([a for a in config.accounts if a.enabled], 20)
    for i, account in enumerate(sample):
        at = NOW + timedelta(minutes=5 + i)
        with store.session() as session:  # what one poll stores
            store_posts(
                session, [Post(account.platform, f"new-p{i}", account.id, at, "Open day", language="en")], at
            )
            question = Message(
                account.platform,
                f"new-m{i}",
                account.id,
                "comment",
                "u1",
                "Gwen",
                at,
                "Pryd mae'r diwrnod agored?",
                language="cy",
                is_enquiry=True,
            )
            store_messages(session, [question], at)
            store_replies(session, [Reply(account.platform, f"new-r{i}", account.id, at, "Diolch",
                                          in_reply_to=f"new-m{i}", language="cy")], at)  # fmt: skip
        started = time.perf_counter()
        run_checks(config, store, now=at, account_ids=[account.id])
        incremental.append(time.perf_counter() - started)
    store.dispose()
    return {
        "full_first_s": round(full_first, 2),
        "full_second_s": round(full_second, 2),
        "opened_first": len(first.opened),
        "open_after_second": second.open_count,
        "incremental_median_ms": round(statistics.median(incremental) * 1000, 1),
        "incremental_max_ms": round(max(incremental) * 1000, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def bench(label: str, url: str, accounts: int, days: int) -> dict[str, Any]:
    store = Store(url)
    store.upgrade()
    config = build_config(accounts, url)
    started = time.perf_counter()
    counts = populate(store, config, days)
    build_s = time.perf_counter() - started
    store.dispose()
    child = subprocess.run(
        [sys.executable, __file__, "--measure", url, "--accounts", str(accounts), "--days", str(days)],
        capture_output=True, text=True,
    )  # fmt: skip
    if child.returncode != 0:
        lines = [line[:300] for line in child.stderr.splitlines()]
        raise SystemExit(f"measuring on {label} failed:\n" + "\n".join(lines[-25:]))
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    return {"database": label, **counts, "build_s": round(build_s, 1), **figures}


def pg_database(admin_url: str) -> tuple[str, Any]:
    name = f"sm_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.rsplit("/", 1)[0] + f"/{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--pg", default=os.environ.get("SOCIALMON_BENCH_PG_URL"), help="PostgreSQL admin URL")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--pg-only", action="store_true")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        import logging

        logging.disable(logging.CRITICAL)
        from monitor.logs import configure_logging

        configure_logging(level="WARNING")
        print(json.dumps(measure(args.measure, args.accounts, args.days)))
        return
    results = []
    if not args.pg_only:
        with tempfile.TemporaryDirectory() as tmp:
            results.append(bench("SQLite", f"sqlite:///{tmp}/bench.db", args.accounts, args.days))
    if args.pg and not args.sqlite_only:
        url, drop = pg_database(args.pg)
        try:
            results.append(bench("PostgreSQL", url, args.accounts, args.days))
        finally:
            drop()
    print(f"{args.accounts} accounts, {args.days} days of records; targets: full <= 10 s, "
          "incremental <= 50 ms, peak RSS <= 500 MB")  # fmt: skip
    for r in results:
        print(
            f"{r['database']:<10} posts {r['posts']:>7}  messages {r['messages']:>7}  "
            f"replies {r['replies']:>7}  "
            f"(built in {r['build_s']} s)\n"
            f"           full run {r['full_first_s']} s (first, {r['opened_first']} findings opened), "
            f"{r['full_second_s']} s (second, {r['open_after_second']} open)\n"
            f"           incremental run after one poll: median {r['incremental_median_ms']} ms, "
            f"worst {r['incremental_max_ms']} ms (20 accounts)\n"
            f"           peak RSS {r['peak_rss_mb']} MB"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
