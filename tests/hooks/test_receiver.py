"""The receiver over real HTTP: handshakes, and every refusal (with its status and its count)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
import requests
from prometheus_client import CollectorRegistry

from monitor.hooks.receiver import HookApp, HookMetrics, HookServer, SeenDeliveries, atom_channels
from monitor.hooks.subscriptions import topic_for, websub_secret
from monitor.hooks.verify import sign
from tests.hooks.conftest import (
    APP_SECRET,
    CHANNEL,
    DEPT_PAGE,
    IG_USER,
    VERIFY_TOKEN,
    WEBSUB_SECRET,
    make_config,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@dataclass
class Hints:
    got: list[tuple[str, str]] = field(default_factory=list)

    def hint(self, account_id: str, platform: str) -> str:
        self.got.append((account_id, platform))
        return "polled"


@dataclass
class Rig:
    url: str
    hints: Hints
    registry: CollectorRegistry
    verified: list[tuple[str, str, int | None]]
    deliveries: list[str]

    def count(self, endpoint: str, outcome: str) -> float:
        value = self.registry.get_sample_value(
            "socialmon_webhook_requests_total", {"endpoint": endpoint, "outcome": outcome}
        )
        return value or 0.0


@pytest.fixture
def rig(tmp_path) -> Iterator[Rig]:
    config = make_config("http://127.0.0.1:9", f"sqlite:///{tmp_path / 'x.db'}", 0)
    hints, registry = Hints(), CollectorRegistry()
    verified: list[tuple[str, str, int | None]] = []
    deliveries: list[str] = []

    def on_verified(account: str, mode: str, lease: int | None) -> bool:
        verified.append((account, mode, lease))
        return True

    app = HookApp(
        config,
        hints,
        HookMetrics(registry),
        SeenDeliveries(lambda: NOW),
        on_delivery=deliveries.append,
        on_verified=on_verified,
    )
    server = HookServer(app, "127.0.0.1", 0).start()
    try:
        yield Rig(f"http://127.0.0.1:{server.port}", hints, registry, verified, deliveries)
    finally:
        server.stop()


def page_post(page: str = DEPT_PAGE, n: int = 1) -> bytes:
    payload = {
        "object": "page",
        "entry": [
            {
                "id": page,
                "time": 1764504000 + n,
                "changes": [
                    {"field": "feed", "value": {"item": "status", "verb": "add", "post_id": f"{page}_{n}"}}
                ],
            }
        ],
    }
    return json.dumps(payload).encode()


def post_meta(rig: Rig, body: bytes, secret: str | None = APP_SECRET, **headers: str) -> requests.Response:
    sent = {"Content-Type": "application/json", **headers}
    if secret is not None:
        sent.setdefault("X-Hub-Signature-256", sign(secret, body, "sha256"))
    return requests.post(f"{rig.url}/hooks/meta", data=body, headers=sent, timeout=5)


# --- Meta ---------------------------------------------------------------------------------------


def test_meta_handshake_echoes_the_challenge_only_with_the_verify_token(rig: Rig) -> None:
    ok = requests.get(
        f"{rig.url}/hooks/meta",
        params={"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": VERIFY_TOKEN},
        timeout=5,
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    assert ok.headers["Content-Type"].startswith("text/plain")
    wrong = requests.get(
        f"{rig.url}/hooks/meta",
        params={"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "guess"},
        timeout=5,
    )
    assert wrong.status_code == 403 and "1158201444" not in wrong.text
    assert rig.count("meta", "refused_token") == 1 and rig.count("meta", "verified") == 1


def test_a_signed_page_delivery_is_a_hint_for_that_account(rig: Rig) -> None:
    response = post_meta(rig, page_post())
    assert response.status_code == 200
    assert rig.hints.got == [("dept-facebook", "facebook")]
    assert rig.deliveries == ["dept-facebook"]
    assert rig.count("meta", "accepted") == 1


def test_instagram_comments_and_mentions_are_hints(rig: Rig) -> None:
    for n, (field_name, value) in enumerate(
        [
            ("comments", {"id": "1", "text": "hi", "media": {"id": "9"}}),
            ("mentions", {"comment_id": "2", "media_id": "9"}),
        ]
    ):
        body = json.dumps(
            {
                "object": "instagram",
                "entry": [{"id": IG_USER, "time": n, "changes": [{"field": field_name, "value": value}]}],
            }
        ).encode()
        assert post_meta(rig, body).status_code == 200
    assert rig.hints.got == [("dept-instagram", "instagram")] * 2


def test_unsigned_delivery_is_refused_401(rig: Rig) -> None:
    assert post_meta(rig, page_post(), secret=None).status_code == 401
    assert rig.hints.got == [] and rig.count("meta", "refused_unsigned") == 1


def test_wrong_signature_is_refused_403(rig: Rig) -> None:
    body = page_post()
    forged = sign(APP_SECRET, page_post(n=2), "sha256")  # a real signature, of another body
    assert post_meta(rig, body, **{"X-Hub-Signature-256": forged}).status_code == 403
    assert post_meta(rig, body, **{"X-Hub-Signature-256": "sha256=zz"}).status_code == 403
    assert post_meta(rig, body, **{"X-Hub-Signature-256": sign(APP_SECRET, body, "sha1")}).status_code == 403
    assert rig.hints.got == [] and rig.count("meta", "refused_signature") == 3


def test_wrong_secret_is_refused_403(rig: Rig) -> None:
    assert post_meta(rig, page_post(), secret="not-the-app-secret-at-all").status_code == 403
    assert rig.hints.got == []


def test_oversized_body_is_refused_413_unread(rig: Rig) -> None:
    body = b'{"object":"page","entry":[]}' + b" " * (1024 * 1024)
    assert post_meta(rig, body).status_code == 413
    assert rig.hints.got == [] and rig.count("meta", "refused_size") == 1


def test_wrong_content_type_is_refused_415(rig: Rig) -> None:
    body = page_post()
    assert post_meta(rig, body, **{"Content-Type": "application/x-www-form-urlencoded"}).status_code == 415
    assert rig.hints.got == [] and rig.count("meta", "refused_content_type") == 1


def test_replay_is_refused_409(rig: Rig) -> None:
    body = page_post()
    assert post_meta(rig, body).status_code == 200
    assert post_meta(rig, body).status_code == 409
    assert rig.hints.got == [("dept-facebook", "facebook")]
    assert rig.count("meta", "refused_replay") == 1


def test_signed_but_malformed_payload_is_400(rig: Rig) -> None:
    assert post_meta(rig, b"[1, 2]").status_code == 400
    assert post_meta(rig, b"not json").status_code == 400
    assert rig.hints.got == []


def test_a_page_we_do_not_watch_is_no_hint(rig: Rig) -> None:
    assert post_meta(rig, page_post(page="999")).status_code == 200
    assert rig.hints.got == []


# --- WebSub -------------------------------------------------------------------------------------


def atom(channel: str = CHANNEL, video: str = "abcdefghijk") -> bytes:
    return (
        '<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns="http://www.w3.org/2005/Atom">'
        f"<entry><id>yt:video:{video}</id><yt:videoId>{video}</yt:videoId>"
        f"<yt:channelId>{channel}</yt:channelId></entry></feed>"
    ).encode()


def post_websub(
    rig: Rig, body: bytes, method: str | None = "sha1", secret: str | None = None, **headers: str
):
    key = secret or websub_secret(WEBSUB_SECRET, topic_for(CHANNEL))
    sent = {"Content-Type": "application/atom+xml", **headers}
    if method is not None:
        sent.setdefault("X-Hub-Signature", sign(key, body, method))
    return requests.post(f"{rig.url}/hooks/youtube?account=dept-youtube", data=body, headers=sent, timeout=5)


def test_websub_verification_for_our_topic_echoes_and_records_the_lease(rig: Rig) -> None:
    ok = requests.get(
        f"{rig.url}/hooks/youtube",
        params={
            "account": "dept-youtube",
            "hub.mode": "subscribe",
            "hub.topic": topic_for(CHANNEL),
            "hub.challenge": "chal-123",
            "hub.lease_seconds": "432000",
        },
        timeout=5,
    )
    assert (ok.status_code, ok.text) == (200, "chal-123")
    assert rig.verified == [("dept-youtube", "subscribe", 432000)]
    other = requests.get(
        f"{rig.url}/hooks/youtube",
        params={
            "account": "dept-youtube",
            "hub.mode": "subscribe",
            "hub.topic": topic_for("UCother"),
            "hub.challenge": "x",
        },
        timeout=5,
    )
    assert other.status_code == 404 and rig.verified == [("dept-youtube", "subscribe", 432000)]


@pytest.mark.parametrize("method", ["sha1", "sha256", "sha384", "sha512"])
def test_websub_delivery_signed_with_any_websub_method_is_a_hint(rig: Rig, method: str) -> None:
    assert post_websub(rig, atom(video=f"vid{method}"), method=method).status_code == 200
    assert rig.hints.got == [("dept-youtube", "youtube")]


def test_websub_refusals(rig: Rig) -> None:
    body = atom()
    assert post_websub(rig, body, method=None).status_code == 401
    assert post_websub(rig, body, secret="the-configured-secret-itself-not-derived").status_code == 403
    assert post_websub(rig, body, **{"X-Hub-Signature": "md5=abcdef"}).status_code == 403
    assert post_websub(rig, body, **{"Content-Type": "application/json"}).status_code == 415
    assert post_websub(rig, b"<feed" + b" " * (1024 * 1024 + 1)).status_code == 413
    assert rig.hints.got == []
    assert post_websub(rig, body).status_code == 200
    assert post_websub(rig, body).status_code == 409
    assert rig.hints.got == [("dept-youtube", "youtube")]


def test_atom_with_entities_is_refused_not_expanded(rig: Rig) -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY a "aaaa">]><feed xmlns="http://www.w3.org/2005/Atom">&a;</feed>'
    assert post_websub(rig, bomb).status_code == 400
    assert rig.hints.got == []


def test_atom_channels_reads_the_youtube_notification_shape() -> None:
    assert atom_channels(atom()) == {CHANNEL}
