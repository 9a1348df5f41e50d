"""Emergency alert latency: from a non-central post's creation to the alert at the receiver.

    python bench/emergency_latency.py [--pages 20] [--posts 50] [--interval 10] [--spread 150]

A sandbox serves `--pages` non-central Facebook Pages (and one central Page); `socialmon run`
polls them as a child process; `socialmon emergency start` is run from another process and its
take-up timed (the daemon's `taken_up_at` minus the row's `started_at`, and the wall time until
the "monitoring is on" notice reached the Teams receiver). Then `--posts` posts are made on random
Pages at random times over `--spread` seconds, and each alert's arrival is matched by a token in
the text. Prints p50, p95 and max latency against the targets (p95 <= interval + 3 s, max <=
interval + 5 s, take-up <= 5 s).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from daemon_world import make_world, page_key

from monitor.sandbox.client import SandboxClient


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(share * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument("--interval", type=int, default=10, help="emergency_poll_interval in seconds")
    parser.add_argument("--spread", type=float, default=150.0, help="seconds over which the posts are made")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", help="keep the working files in this directory")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    world = make_world(args.pages, args.interval, args.keep)
    try:
        world.start_daemon()
        client = SandboxClient(world.sandbox.url)
        began = time.time()
        started = world.cli(
            "emergency", "start", "--reason", "bench drill", "--by", "bench", "--wait", "15", "--json"
        )
        if started.returncode != 0:
            raise RuntimeError(started.stderr)
        info = json.loads(started.stdout.strip().splitlines()[-1])
        from datetime import datetime

        take_up = (
            (
                datetime.fromisoformat(info["taken_up_at"]) - datetime.fromisoformat(info["started_at"])
            ).total_seconds()
            if info["taken_up_at"]
            else float("inf")
        )
        deadline = time.time() + 30
        while not any(
            "Emergency monitoring is on" in r.raw.decode(errors="replace") for r in list(world.teams.requests)
        ):
            if time.time() > deadline:
                raise RuntimeError("the emergency notice never arrived")
            time.sleep(0.05)
        notice_at = next(r.at for r in list(world.teams.requests) if b"Emergency monitoring is on" in r.raw)
        time.sleep(args.interval * 2)  # the first emergency polls (with their backfill) are done

        offsets = sorted(rng.uniform(0, args.spread) for _ in range(args.posts))
        made: dict[str, float] = {}
        start = time.time()
        for n, offset in enumerate(offsets):
            time.sleep(max(0.0, start + offset - time.time()))
            token = f"benchpost{n:03d}x{uuid.uuid4().hex[:6]}"
            page = page_key(rng.randint(1, args.pages))
            made[token] = time.time()
            client.add_post(page, f"{token} Update from the department during the incident, please read")
        deadline = time.time() + args.interval + 60
        arrived: dict[str, float] = {}
        while len(arrived) < len(made) and time.time() < deadline:
            for request in list(world.teams.requests):
                body = request.raw.decode(errors="replace")
                for token in made:
                    if token not in arrived and token in body:
                        arrived[token] = request.at
            time.sleep(0.1)
        latencies = [arrived[t] - made[t] for t in arrived]
        world.cli("emergency", "stop", "--by", "bench")

        print(
            f"emergency latency: {args.pages} non-central Facebook Pages on the local sandbox, "
            f"emergency_poll_interval {args.interval} s, {args.posts} posts over {args.spread:.0f} s"
        )
        print(f"  take-up (started_at -> taken_up_at): {take_up:.2f} s   (target <= 5 s)")
        print(f"  `emergency start` -> notice at the Teams receiver: {notice_at - began:.2f} s")
        if latencies:
            p50, p95, worst = statistics.median(latencies), percentile(latencies, 0.95), max(latencies)
            print(
                f"  post -> alert: p50 {p50:.2f} s, p95 {p95:.2f} s, max {worst:.2f} s "
                f"(targets: p95 <= {args.interval + 3} s, max <= {args.interval + 5} s)"
            )
        missing = len(made) - len(arrived)
        print(
            f"  alerts received: {len(arrived)}/{len(made)}" + (f"  ({missing} MISSING)" if missing else "")
        )
        ok = (
            bool(latencies)
            and not missing
            and take_up <= 5
            and percentile(latencies, 0.95) <= args.interval + 3
            and max(latencies) <= args.interval + 5
        )
        print("  result: " + ("within targets" if ok else "OUTSIDE targets"))
        return 0 if ok else 1
    finally:
        world.close()


if __name__ == "__main__":
    sys.exit(main())
