"""A sandbox on a loopback port per test, from a small scenario or the demo one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from monitor.sandbox import SandboxServer, load_scenario, parse_scenario

REAL = Path(__file__).parent.parent / "fixtures" / "sandbox"
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday

SMALL = """
scenario: small
accounts:
  - key: acme-x
    platform: x
    id: "1000000000000000001"
    handle: AcmeUni
    name: Acme University
    bio: "Monitored Mon-Fri 9am-5pm"
    posts:
      - {ref: p1, at: -1h, text: "Newest post https://acme.invalid/a #Acme", links: [https://acme.invalid/a]}
      - {ref: p2, at: -2h, text: "Second post"}
      - {ref: p3, at: -3h, text: "Third post"}
      - {ref: p4, at: -4h, text: "Fourth post"}
      - {ref: p5, at: -5h, text: "Fifth post"}
      - {ref: p6, at: -6h, text: "Sixth post", media: [poster], image: true}
      - {ref: p7, at: -7h, text: "Seventh post"}
    inbox:
      - {ref: m1, channel: mention, post: p2, at: -90m, author: Ann, text: "When does term start?",
         reply: {after: 10m, text: "Next Monday!"}}
      - {ref: d1, channel: dm, at: -30m, author: Bob, text: "Helo?", reply: {after: 5m, text: "Shwmae!"}}
  - key: acme-fb
    platform: facebook
    id: "104000000000099"
    handle: AcmeFB
    name: Acme University
    bio: "About Acme"
    posts:
      - {ref: f1, at: -1h, text: "Page post one"}
      - {ref: f2, at: -10d, text: "An old post"}
    inbox:
      - {ref: c1, channel: comment, post: f1, at: -50m, author: Cai, text: "A question?",
         reply: {after: 5m, text: "An answer"}}
      - {ref: c2, channel: reply, parent: c1, at: -40m, author: Dee, text: "Me too?"}
      - {ref: dm1, channel: dm, at: -20m, author: Eve, text: "Hello page",
         reply: {after: 2m, text: "Hello Eve"}}
    scheduled:
      - {at: +2h, text: "Later today"}
  - key: acme-ig
    platform: instagram
    id: "17841400000000099"
    handle: acmeuni
    name: Acme
    bio: "Acme on Instagram"
    posts:
      - {ref: i1, at: -3h, text: "A photo", image: true}
      - {ref: i2, at: -2h, text: "A reel", video: {captions: true}}
    inbox:
      - {ref: ic1, channel: comment, post: i1, at: -2h, author: Fay, text: "Nice?",
         reply: {after: 1h, text: "Thanks"}}
  - key: acme-yt
    platform: youtube
    id: UCacmeacmeacmeacmeacme01
    handle: AcmeTube
    name: Acme Tube
    bio: "Videos"
    posts:
      - {ref: v1, at: -1d, title: Captioned, text: "With captions", video: {captions: true}}
      - {ref: v2, at: -2d, title: Uncaptioned, text: "No captions", video: {captions: false}}
      - {ref: v3, at: -10m, title: Live, text: "Live now", video: {captions: false, live: live}}
    inbox:
      - {ref: yc1, channel: comment, post: v1, at: -5h, author: Gus, text: "Is this <b>bold</b>?",
         reply: {after: 1h, text: "Yes"}}
      - {ref: yc2, channel: reply, parent: yc1, at: -3h, author: Hal, text: "Another reply"}
"""


@pytest.fixture
def small() -> Iterator[SandboxServer]:
    server = SandboxServer(parse_scenario(SMALL, "small", now=datetime.now(UTC))).start()
    yield server
    server.stop()


@pytest.fixture
def demo() -> Iterator[SandboxServer]:
    server = SandboxServer(load_scenario("demo")).start()
    yield server
    server.stop()


def get(server: SandboxServer, path: str, token: str = "sandbox-acme-x", **params: Any) -> requests.Response:
    return requests.get(
        server.url + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=5
    )


def real(name: str) -> Any:
    return json.loads((REAL / name).read_text(encoding="utf-8"))
