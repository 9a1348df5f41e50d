"""The sandbox's push side: Meta webhooks and a WebSub hub, signed like the real ones.

- Meta: `POST /_admin/webhooks {callback, app_secret, verify_token}` plays the App Dashboard
  (the sandbox sends the verification GET, `hub.mode=subscribe&hub.verify_token&hub.challenge`,
  and keeps the callback only if the challenge comes back); `POST /{page-id|me}/subscribed_apps`
  installs the app on a Page (or Instagram account). A new post on a subscribed Page, or a new
  comment on a subscribed Page or Instagram account, is delivered as Graph sends it:
  `{"object": "page"|"instagram", "entry": [{"id", "time", "changes": [{"field", "value"}]}]}`,
  signed `X-Hub-Signature-256: sha256=HMAC(app_secret, body)`.
- WebSub: `POST /pubsubhubbub/subscribe` (form hub.callback, hub.mode, hub.topic,
  hub.lease_seconds, hub.secret) answers 202, then verifies intent with a GET carrying
  hub.challenge and hub.lease_seconds (5 days, like Google's hub, whatever was asked). A new upload
  is delivered as YouTube's Atom notification, `Content-Type: application/atom+xml`, signed
  `X-Hub-Signature: sha1=HMAC(hub.secret, body)` (Google's hub signs with SHA-1).

Deliveries go out on a small thread pool, so the admin call that made the post returns first.
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import parse_qsl, urlencode, urlsplit
from xml.sax.saxutils import escape

from monitor.hooks.verify import sign
from monitor.sandbox.scenario import SAccount, SMessage, SPost

HUB_LEASE = 432_000  # seconds: what Google's hub grants
TIMEOUT = 5.0
TOPIC_PREFIX = "https://www.youtube.com/xml/feeds/videos.xml?channel_id="


@dataclass
class WebSubSubscription:
    callback: str
    topic: str
    secret: str
    expires_at: datetime


@dataclass
class SentDelivery:
    kind: str  # meta | websub | verify
    account: str
    url: str
    status: int
    at: datetime


@dataclass
class SandboxHooks:
    meta_callback: str = ""
    app_secret: str = ""
    installed: set[str] = field(default_factory=set)  # account keys with the app installed
    websub: dict[str, WebSubSubscription] = field(default_factory=dict)  # (callback) -> subscription
    sent: list[SentDelivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(4, "sandbox-hooks"))

    # --- the App Dashboard and subscribed_apps ---------------------------------------------

    def configure_meta(self, callback: str, app_secret: str, verify_token: str) -> dict[str, Any]:
        challenge = str(secrets.randbelow(10**10))
        query = urlencode(
            {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify_token}
        )
        status, body = _request("GET", _join(callback, query))
        ok = status == 200 and body.decode("utf-8", "replace") == challenge
        if ok:
            with self.lock:
                self.meta_callback, self.app_secret = callback, app_secret
        return {"verified": ok, "status": status}

    def install(self, account: SAccount, fields: str) -> dict[str, Any]:
        with self.lock:
            self.installed.add(account.key)
        return {"success": True}

    # --- the WebSub hub -----------------------------------------------------------------------

    def hub_request(self, body: bytes, now: datetime) -> tuple[int, str]:
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        callback, topic, mode = (
            form.get("hub.callback", ""),
            form.get("hub.topic", ""),
            form.get("hub.mode", ""),
        )
        if mode not in {"subscribe", "unsubscribe"} or not callback or not topic.startswith(TOPIC_PREFIX):
            return 400, "hub.mode, hub.callback and a YouTube hub.topic are required"
        secret = form.get("hub.secret", "")
        if len(secret.encode()) >= 200:
            return 400, "hub.secret must be less than 200 bytes"
        self.pool.submit(self._verify_intent, callback, topic, mode, secret)
        return 202, ""

    def _verify_intent(self, callback: str, topic: str, mode: str, secret: str) -> None:
        challenge = secrets.token_hex(8)
        query = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
        if mode == "subscribe":
            query["hub.lease_seconds"] = str(HUB_LEASE)
        status, body = _request("GET", _join(callback, urlencode(query)))
        now = datetime.now(UTC)
        self._note("verify", topic, callback, status, now)
        if status // 100 != 2 or body.decode("utf-8", "replace") != challenge:
            return
        with self.lock:
            if mode == "subscribe":
                self.websub[callback] = WebSubSubscription(
                    callback, topic, secret, now + timedelta(seconds=HUB_LEASE)
                )
            else:
                self.websub.pop(callback, None)

    # --- deliveries ---------------------------------------------------------------------------

    def on_post(self, account: SAccount, post: SPost, now: datetime) -> None:
        if account.platform == "facebook":
            value = {
                "item": "status",
                "verb": "add",
                "post_id": post.id,
                "message": post.text,
                "created_time": int(post.at.timestamp()),
                "published": 1,
                "from": {"id": account.native_id, "name": account.name},
            }
            self._meta(account, "page", "feed", value, now)
        elif account.platform == "youtube":
            self._upload(account, post, now)

    def on_message(self, account: SAccount, message: SMessage, now: datetime) -> None:
        if account.platform == "facebook" and message.channel in {"comment", "reply"}:
            value = {
                "item": "comment",
                "verb": "add",
                "comment_id": message.id,
                "post_id": message.on,
                "message": message.text,
                "created_time": int(message.at.timestamp()),
                "from": {"id": message.author_id, "name": message.author_name},
            }
            self._meta(account, "page", "feed", value, now)
        elif account.platform == "instagram" and message.channel in {"comment", "reply", "mention"}:
            if message.channel == "mention":
                value = {"comment_id": message.id, "media_id": message.on}
                self._meta(account, "instagram", "mentions", value, now)
            else:
                value = {
                    "id": message.id,
                    "text": message.text,
                    "from": {"id": message.author_id, "username": message.author_name},
                    "media": {"id": message.on, "media_product_type": "FEED"},
                }
                self._meta(account, "instagram", "comments", value, now)

    def _meta(
        self, account: SAccount, kind: str, field_name: str, value: dict[str, Any], now: datetime
    ) -> None:
        with self.lock:
            if not self.meta_callback or account.key not in self.installed:
                return
            callback, secret = self.meta_callback, self.app_secret
        payload = {
            "object": kind,
            "entry": [
                {
                    "id": account.native_id,
                    "time": int(now.timestamp()),
                    "changes": [{"field": field_name, "value": value}],
                }
            ],
        }
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(secret, body, "sha256")}
        self.pool.submit(self._send, "meta", account.key, callback, body, headers)

    def _upload(self, account: SAccount, post: SPost, now: datetime) -> None:
        topic = TOPIC_PREFIX + account.native_id
        with self.lock:
            targets = [s for s in self.websub.values() if s.topic == topic and s.expires_at > now]
        if not targets:
            return
        body = atom_notification(account, post, now)
        for sub in targets:
            headers = {
                "Content-Type": "application/atom+xml",
                "Link": f"<{topic}>; rel=self, <https://pubsubhubbub.appspot.com/>; rel=hub",
            }
            if sub.secret:
                headers["X-Hub-Signature"] = sign(sub.secret, body, "sha1")
            self.pool.submit(self._send, "websub", account.key, sub.callback, body, headers)

    def _send(self, kind: str, account: str, url: str, body: bytes, headers: dict[str, str]) -> None:
        status, _ = _request("POST", url, body, headers)
        self._note(kind, account, url, status, datetime.now(UTC))

    def _note(self, kind: str, account: str, url: str, status: int, at: datetime) -> None:
        with self.lock:
            self.sent.append(SentDelivery(kind, account, urlsplit(url).path, status, at))
            del self.sent[:-1000]

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "meta_callback": self.meta_callback,
                "installed": sorted(self.installed),
                "websub": [
                    {"callback": s.callback, "topic": s.topic, "expires_at": s.expires_at.isoformat()}
                    for s in self.websub.values()
                ],
                "sent": [
                    {
                        "kind": d.kind,
                        "account": d.account,
                        "path": d.url,
                        "status": d.status,
                        "at": d.at.isoformat(),
                    }
                    for d in self.sent
                ],
            }

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def atom_notification(account: SAccount, post: SPost, now: datetime) -> bytes:
    """A new upload as YouTube's hub delivers it (YouTube Data API guide "Push Notifications")."""
    channel, video = escape(account.native_id), escape(post.id)
    title = escape(post.title or post.text[:100])
    stamp = now.isoformat()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns="http://www.w3.org/2005/Atom">\n'
        '  <link rel="hub" href="https://pubsubhubbub.appspot.com"/>\n'
        f'  <link rel="self" href="https://www.youtube.com/xml/feeds/videos.xml?channel_id={channel}"/>\n'
        "  <title>YouTube video feed</title>\n"
        f"  <updated>{stamp}</updated>\n"
        "  <entry>\n"
        f"    <id>yt:video:{video}</id>\n"
        f"    <yt:videoId>{video}</yt:videoId>\n"
        f"    <yt:channelId>{channel}</yt:channelId>\n"
        f"    <title>{title}</title>\n"
        f'    <link rel="alternate" href="http://www.youtube.com/watch?v={video}"/>\n'
        f"    <author><name>{escape(account.name)}</name>"
        f"<uri>http://www.youtube.com/channel/{channel}</uri></author>\n"
        f"    <published>{post.at.isoformat()}</published>\n"
        f"    <updated>{stamp}</updated>\n"
        "  </entry>\n"
        "</feed>\n"
    ).encode()


def _join(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _request(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.read()
    except HTTPError as exc:
        return exc.code, exc.read()
    except (URLError, OSError):
        return 0, b""
