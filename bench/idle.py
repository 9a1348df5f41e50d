"""The daemon's resident memory and CPU at steady state with many accounts.

    python bench/idle.py [--pages 199] [--warmup 30] [--window 180]

A sandbox serves `--pages` departmental Facebook Pages plus one central Page (200 accounts by
default). `socialmon run --once` does every account's first (backfill) poll, then `socialmon run`
starts as a child process with the default 15-minute interval: its polls (one every ~4.5 s with
200 accounts, spread), checks after each, the 2 s emergency watch, the 5 s sender, heartbeats.
After `--warmup` seconds, RSS (VmRSS) is sampled every 5 s and CPU time (utime + stime from
/proc) measured over `--window` seconds. Targets: under 150 MB, under 2 % of one core.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from daemon_world import make_world

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def polls_in_log(path: Path) -> int:
    return path.read_text(errors="replace").count('"event": "polled"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=199)
    parser.add_argument("--warmup", type=float, default=30.0)
    parser.add_argument("--window", type=float, default=180.0)
    parser.add_argument("--keep", help="keep the working files in this directory")
    args = parser.parse_args()

    world = make_world(args.pages, keep=args.keep)
    try:
        began = time.monotonic()
        once = world.cli("run", "--once", "--json")
        once_seconds = time.monotonic() - began
        if once.returncode not in (0, 1):
            raise RuntimeError(once.stderr)
        daemon = world.start_daemon()
        time.sleep(args.warmup)
        log = world.dir / "daemon.log"
        polls_before = polls_in_log(log)
        cpu_before, wall_before = cpu_seconds(daemon.pid), time.monotonic()
        samples = [rss_mb(daemon.pid)]
        while time.monotonic() - wall_before < args.window:
            time.sleep(5)
            samples.append(rss_mb(daemon.pid))
        cpu = cpu_seconds(daemon.pid) - cpu_before
        wall = time.monotonic() - wall_before
        polls = polls_in_log(log) - polls_before
        share = 100 * cpu / wall
        print(
            f"daemon at steady state: {args.pages + 1} accounts (Facebook Pages on the local sandbox), "
            "poll interval 15 min"
        )
        print(f"  first cycle (`run --once`, every account's backfill poll): {once_seconds:.1f} s")
        print(f"  RSS: {samples[-1]:.1f} MB at the end, {max(samples):.1f} MB max   (target < 150 MB)")
        print(
            f"  CPU: {cpu:.2f} s over {wall:.0f} s = {share:.2f} % of one core, "
            f"{polls} polls in the window   (target < 2 %)"
        )
        ok = max(samples) < 150 and share < 2
        print("  result: " + ("within targets" if ok else "OUTSIDE targets"))
        return 0 if ok else 1
    finally:
        world.close()


if __name__ == "__main__":
    sys.exit(main())
