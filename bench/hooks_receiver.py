"""The webhook receiver alone: signed deliveries per second on one core, and forged ones refused.

    python bench/hooks_receiver.py [--deliveries 5000] [--connections 4]

The receiver (HookServer + HookApp, the daemon's own code, with a hint sink that only counts) runs
in a child process pinned to one CPU; this process, pinned to another, sends Meta-shaped Page
deliveries, each a distinct body signed with the app secret, over keep-alive connections. Then
1,000 bad requests: 250 unsigned, 250 with a wrong signature (a real signature of another body, or
made with another secret), 250 replays of deliveries already accepted, 250 oversized (Content-Length
over 1 MB). Every response is checked; an accepted bad request, or a hint counted for one, fails.
Also used by `bench/emergency_latency.py --webhooks`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SECRET = "bench-app-secret-0123456789"
PAGE = "105000000000001"


def _config_text(port: int) -> str:
    return (
        'database: "sqlite:///unused.db"\n'
        "accounts:\n"
        f'  - {{id: page, platform: facebook, native_id: "{PAGE}", name: Page, role: central,'
        " language: {mode: bilingual}}\n"
        "webhooks:\n"
        f"  listen: 127.0.0.1:{port}\n"
        f"  public_url: http://127.0.0.1:{port}\n"
        f'  meta: {{app_secret: "{SECRET}", verify_token: "bench-verify-token-0123456789"}}\n'
    )


def _serve(port: int, ready: Any, hints: Any, cpu: int | None) -> None:
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})
    from datetime import UTC, datetime

    from prometheus_client import CollectorRegistry

    from monitor.config import parse_config
    from monitor.hooks.receiver import HookApp, HookMetrics, HookServer, SeenDeliveries
    from monitor.logs import configure_logging

    configure_logging(level="ERROR", stream=sys.stderr)

    class Count:
        def hint(self, account_id: str, platform: str) -> str:
            with hints.get_lock():
                hints.value += 1
            return "polled"

    config = parse_config(_config_text(port), "bench", env={})
    app = HookApp(
        config, Count(), HookMetrics(CollectorRegistry()), SeenDeliveries(lambda: datetime.now(UTC))
    )
    server = HookServer(app, "127.0.0.1", port).start()
    ready.set()
    try:
        while True:
            time.sleep(3600)
    finally:
        server.stop()


def body(n: int) -> bytes:
    entry = {
        "id": PAGE,
        "time": 1764504000 + n,
        "changes": [{"field": "feed", "value": {"item": "status", "verb": "add", "post_id": f"{PAGE}_{n}"}}],
    }
    return json.dumps({"object": "page", "entry": [entry]}, separators=(",", ":")).encode()


def signed(data: bytes, secret: str = SECRET) -> dict[str, str]:
    from monitor.hooks.verify import sign

    return {"Content-Type": "application/json", "X-Hub-Signature-256": sign(secret, data, "sha256")}


def _send_all(port: int, requests_: list[tuple[bytes, dict[str, str]]], connections: int) -> list[int]:
    statuses: list[int] = [0] * len(requests_)

    def worker(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in range(offset, len(requests_), connections):
            data, headers = requests_[i]
            try:
                conn.request("POST", "/hooks/meta", body=data, headers=headers)
                response = conn.getresponse()
                response.read()
                statuses[i] = response.status
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            except (ConnectionError, http.client.HTTPException, OSError):
                statuses[i] = -1  # the server hung up (an oversized body it did not read): not accepted
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def _oversized(port: int) -> int:
    """Claim 1.1 MB, send a little: the receiver must answer 413 without reading the rest."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    data = body(0)
    try:
        conn.putrequest("POST", "/hooks/meta")
        for name, value in signed(data).items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(1024 * 1024 + 100_000))
        conn.endheaders(data)
        response = conn.getresponse()
        response.read()
        return response.status
    except (ConnectionError, http.client.HTTPException, OSError):
        return -1
    finally:
        conn.close()


def measure(deliveries: int = 5000, connections: int = 4) -> dict[str, Any]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_cpu = cpus[0] if len(cpus) >= 2 else None
    ctx = multiprocessing.get_context("spawn")
    ready, hints = ctx.Event(), ctx.Value("i", 0)
    child = ctx.Process(target=_serve, args=(port, ready, hints, server_cpu), daemon=True)
    child.start()
    try:
        if not ready.wait(30):
            raise RuntimeError("the receiver did not start")
        if server_cpu is not None:
            os.sched_setaffinity(0, set(cpus[1:]))
        good = [(body(n), signed(body(n))) for n in range(1, deliveries + 1)]
        _send_all(port, good[:200], connections)  # warm up (connections, imports, caches)
        started = time.perf_counter()
        statuses = _send_all(port, good[200:], connections)
        seconds = time.perf_counter() - started
        accepted_good = sum(1 for s in statuses if s == 200)
        hints_before_bad = hints.value
        bad: list[tuple[bytes, dict[str, str]]] = []
        for n in range(250):
            data = body(1_000_000 + n)
            bad.append((data, {"Content-Type": "application/json"}))  # unsigned
        for n in range(250):
            data = body(2_000_000 + n)
            wrong = signed(body(3_000_000 + n)) if n % 2 else signed(data, "another-secret-0123456789")
            bad.append((data, wrong))
        for n in range(250):
            bad.append(good[n])  # replays of accepted deliveries
        bad_statuses = _send_all(port, bad, connections)
        bad_statuses += [_oversized(port) for _ in range(250)]
        return {
            "deliveries": len(statuses),
            "accepted": accepted_good,
            "seconds": seconds,
            "per_second": len(statuses) / seconds,
            "one_core": server_cpu is not None,
            "bad": len(bad_statuses),
            "bad_accepted": sum(1 for s in bad_statuses if 200 <= s < 300),
            "bad_statuses": {str(s): bad_statuses.count(s) for s in sorted(set(bad_statuses))},
            "hints_from_bad": hints.value - hints_before_bad,
        }
    finally:
        child.terminate()
        child.join(10)


def report(result: dict[str, Any]) -> bool:
    core = "one core (pinned)" if result["one_core"] else "unpinned"
    print(
        f"  receiver: {result['deliveries']} signed deliveries in {result['seconds']:.2f} s = "
        f"{result['per_second']:.0f}/s on {core}, {result['accepted']} accepted   (target >= 500/s)"
    )
    print(
        f"  bad requests: {result['bad']} (unsigned, wrong signature or secret, replayed, oversized): "
        f"{result['bad_accepted']} accepted, {result['hints_from_bad']} hints; "
        f"statuses {result['bad_statuses']}"
        "   (target 0 accepted)"
    )
    return (
        result["per_second"] >= 500
        and result["accepted"] == result["deliveries"]
        and result["bad_accepted"] == 0
        and result["hints_from_bad"] == 0
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deliveries", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    ok = report(measure(args.deliveries, args.connections))
    print("  result: " + ("within targets" if ok else "OUTSIDE targets"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
