"""Push subscriptions: subscribing, verifying, renewing, reporting, and noticing silence.

- Facebook Pages: `POST /{version}/{page-id}/subscribed_apps?subscribed_fields=feed` with the Page
  token (Webhooks for Pages). Instagram (Facebook Login): the same call on the linked Page, made as
  `/me/subscribed_apps` with the account's Page token; the Instagram fields (`comments`,
  `mentions`) are chosen for the app in the App Dashboard. No lease: active until removed.
- YouTube channels: WebSub, `POST https://pubsubhubbub.appspot.com/subscribe` (form: hub.callback,
  hub.mode=subscribe, hub.topic=https://www.youtube.com/xml/feeds/videos.xml?channel_id=ID,
  hub.lease_seconds, hub.secret); the hub answers 202 and verifies with a GET to the callback,
  whose `hub.lease_seconds` is the lease. Renewed a day before it ends (`renew_due`).
- Silence: an account whose polls keep finding things no hint announced (or whose lease ran out)
  is marked `silent_since`, stays on its polling schedule (as every account always is) and is
  reported to the operations route, once per silence.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from monitor.config import Account, Config
from monitor.db import MessageRow, PostRow, WebhookDeliveryRow, WebhookSubscriptionRow
from monitor.logs import get_logger, redact

log = get_logger(component="hooks")

GOOGLE_HUB = "https://pubsubhubbub.appspot.com/subscribe"
DEFAULT_YOUTUBE_BASE = "https://www.googleapis.com"
TOPIC = "https://www.youtube.com/xml/feeds/videos.xml?channel_id={channel}"
LEASE_REQUEST = 10 * 24 * 3600  # asked for; the hub decides (its verification says)
RENEW_BEFORE = timedelta(days=1)
RETRY_PENDING = timedelta(minutes=10)  # a subscription the hub never verified is asked for again
SILENCE_GRACE = timedelta(minutes=10)  # a record this much older than the last hint: hints missed
PUSH_PLATFORMS = ("facebook", "instagram", "youtube")
TIMEOUT = 20.0


def topic_for(channel_id: str) -> str:
    return TOPIC.format(channel=channel_id)


def websub_secret(configured: str, topic: str) -> str:
    """The `hub.secret` of one subscription: unique per topic (WebSub asks for a unique secret),
    derived from `webhooks.youtube.secret`, 64 hex characters (WebSub: under 200 bytes)."""
    return hmac.new(configured.encode("utf-8"), f"websub:{topic}".encode(), hashlib.sha256).hexdigest()


def hub_url(config: Config) -> str:
    """Google's hub; when `platforms.youtube.base_url` points elsewhere (the sandbox), its hub."""
    base = config.platforms.settings_for("youtube").base_url
    return GOOGLE_HUB if base == DEFAULT_YOUTUBE_BASE else f"{base}/pubsubhubbub/subscribe"


def push_accounts(config: Config, account_id: str | None = None) -> list[Account]:
    """The accounts that can be subscribed with this configuration."""
    hooks = config.webhooks
    if hooks is None:
        return []
    out = []
    for account in config.accounts:
        if not account.enabled or not account.native_id or (account_id and account.id != account_id):
            continue
        meta = account.platform in {"facebook", "instagram"} and hooks.meta is not None
        if meta or (account.platform == "youtube" and hooks.youtube is not None):
            out.append(account)
    return out


@dataclass
class SubscribeResult:
    account_id: str
    platform: str
    status: str  # active | pending | failed
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        return {
            "account": self.account_id,
            "platform": self.platform,
            "status": self.status,
            "detail": self.detail,
        }


def subscribe(
    config: Config,
    store: Any,
    now: datetime,
    account_id: str | None = None,
    session: requests.Session | None = None,
) -> list[SubscribeResult]:
    """Subscribe each push-capable account (or one); records each outcome."""
    http = session or requests.Session()
    results = []
    for account in push_accounts(config, account_id):
        if account.platform == "youtube":
            # The row first: the hub may verify before its answer to us has arrived.
            _record_request(store, account, SubscribeResult(account.id, "youtube", "pending"), now)
            result = _subscribe_websub(config, account, http)
        else:
            result = _subscribe_meta(config, account, http)
        _record_request(store, account, result, now)
        results.append(result)
    return results


def _subscribe_meta(config: Config, account: Account, http: requests.Session) -> SubscribeResult:
    settings = config.platforms.settings_for(account.platform)
    token_source = account.credentials.secret("access_token") if account.credentials else None
    token = token_source or settings.access_token
    if token is None:
        return SubscribeResult(account.id, account.platform, "failed", "no access token configured")
    node = account.native_id if account.platform == "facebook" else "me"
    url = f"{settings.base_url}/{settings.graph_version}/{node}/subscribed_apps"
    try:
        response = http.post(
            url,
            data={"subscribed_fields": "feed", "access_token": token.get_secret_value()},
            timeout=TIMEOUT,
        )
    except requests.RequestException as exc:
        return SubscribeResult(account.id, account.platform, "failed", redact(f"{type(exc).__name__}"))
    if response.status_code == 200 and _json(response).get("success") in (True, "true"):
        return SubscribeResult(account.id, account.platform, "active", "subscribed_apps: feed")
    message = str(_json(response).get("error", {}).get("message", ""))[:200]
    return SubscribeResult(
        account.id, account.platform, "failed", redact(f"HTTP {response.status_code}: {message}".strip(": "))
    )


def _subscribe_websub(config: Config, account: Account, http: requests.Session) -> SubscribeResult:
    hooks = config.webhooks
    assert hooks is not None and hooks.youtube is not None and account.native_id
    topic = topic_for(account.native_id)
    form = {
        "hub.callback": hooks.youtube_callback(account.id),
        "hub.mode": "subscribe",
        "hub.topic": topic,
        "hub.lease_seconds": str(LEASE_REQUEST),
        "hub.secret": websub_secret(hooks.youtube.secret.get_secret_value(), topic),
    }
    try:
        response = http.post(hub_url(config), data=form, timeout=TIMEOUT)
    except requests.RequestException as exc:
        return SubscribeResult(account.id, "youtube", "failed", f"hub unreachable ({type(exc).__name__})")
    if response.status_code in (202, 204):
        return SubscribeResult(account.id, "youtube", "pending", "the hub will verify with the callback")
    return SubscribeResult(
        account.id,
        "youtube",
        "failed",
        redact(f"hub answered HTTP {response.status_code}: {response.text[:200]}"),
    )


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _record_request(store: Any, account: Account, result: SubscribeResult, now: datetime) -> None:
    kind = "websub" if account.platform == "youtube" else "meta"
    topic = topic_for(account.native_id or "") if kind == "websub" else account.native_id or ""
    with store.session() as session:
        row = session.get(WebhookSubscriptionRow, account.id)
        if row is None:
            row = WebhookSubscriptionRow(
                account_id=account.id, platform=account.platform, kind=kind, topic=topic, deliveries=0
            )
            session.add(row)
        row.requested_at = now
        row.last_error = result.detail if result.status == "failed" else None
        if result.status == "active":
            row.status, row.verified_at = "active", now
        elif result.status == "pending":
            # A renewal keeps the running lease until the hub verifies the new one.
            row.status = row.status if row.status == "active" else "pending"
        else:
            row.status = "failed" if row.status != "active" else row.status


def record_verification(
    store: Any, account_id: str, mode: str, lease_seconds: int | None, now: datetime
) -> bool:
    """A hub's verification of intent (or denial); True if it matches a subscription we asked for."""
    with store.session() as session:
        row = session.get(WebhookSubscriptionRow, account_id)
        if row is None or row.kind != "websub":
            return False
        if mode == "denied":
            row.status, row.last_error = "denied", "the hub denied the subscription"
        elif mode == "unsubscribe":
            row.status, row.lease_expires_at = "failed", None
        else:
            row.status, row.verified_at, row.last_error = "active", now, None
            row.lease_expires_at = now + timedelta(seconds=lease_seconds) if lease_seconds else None
    log.info("websub verification", account=account_id, mode=mode, lease_seconds=lease_seconds)
    return True


def renew_due(
    config: Config, store: Any, now: datetime, session: requests.Session | None = None
) -> list[SubscribeResult]:
    """Re-subscribe WebSub leases ending within a day, and subscriptions never verified."""
    due: list[str] = []
    with store.session() as db:
        for row in db.scalars(select(WebhookSubscriptionRow).where(WebhookSubscriptionRow.kind == "websub")):
            ending = row.lease_expires_at is not None and row.lease_expires_at - now <= RENEW_BEFORE
            unverified = row.status in {"pending", "failed"} and (
                row.requested_at is None or now - row.requested_at >= RETRY_PENDING
            )
            if (row.status == "active" and (ending or row.lease_expires_at is None)) or unverified:
                due.append(row.account_id)
    results = []
    for account_id in due:
        results += subscribe(config, store, now, account_id, session)
    if results:
        log.info("websub leases renewed", accounts=[r.account_id for r in results])
    return results


class DeliveryLog:
    """Last delivery per account and seen digests, written in batches (not per request)."""

    def __init__(self) -> None:
        self._last: dict[str, datetime] = {}
        self._count: dict[str, int] = {}
        self._lock = threading.Lock()

    def note(self, account_id: str, at: datetime) -> None:
        with self._lock:
            self._last[account_id] = at
            self._count[account_id] = self._count.get(account_id, 0) + 1

    def flush(self, store: Any, digests: list[tuple[str, datetime]], now: datetime) -> None:
        with self._lock:
            last, counts = self._last, self._count
            self._last, self._count = {}, {}
        if not last and not digests:
            return
        with store.session() as session:
            for account_id, at in last.items():
                row = session.get(WebhookSubscriptionRow, account_id)
                if row is None:  # deliveries for an account subscribed by hand (App Dashboard)
                    row = WebhookSubscriptionRow(
                        account_id=account_id,
                        platform="",
                        kind="meta",
                        topic="",
                        status="active",
                        deliveries=0,
                    )
                    session.add(row)
                row.last_delivery_at = max(at, row.last_delivery_at) if row.last_delivery_at else at
                row.deliveries = (row.deliveries or 0) + counts.get(account_id, 0)
                row.silent_since = None
            if digests:
                session.add_all(WebhookDeliveryRow(digest=d, received_at=at) for d, at in digests)
            session.execute(
                delete(WebhookDeliveryRow).where(WebhookDeliveryRow.received_at < now - timedelta(days=2))
            )


def recent_digests(store: Any, now: datetime) -> list[tuple[str, datetime]]:
    with store.session() as session:
        return [
            (d, at)
            for d, at in session.execute(
                select(WebhookDeliveryRow.digest, WebhookDeliveryRow.received_at).where(
                    WebhookDeliveryRow.received_at >= now - timedelta(days=2)
                )
            )
        ]


def check_silence(
    config: Config, store: Any, now: datetime, enqueue_alert: Callable[..., Any], route: str = "operations"
) -> list[str]:
    """Mark and report accounts whose hints stopped; returns the newly silent account ids."""
    newly: list[str] = []
    with store.session() as session:
        rows = list(session.scalars(select(WebhookSubscriptionRow)))
        for row in rows:
            if row.silent_since is not None or row.status not in {"active", "pending"}:
                continue
            why = _silence_reason(session, row, now)
            if not why:
                continue
            row.silent_since = now
            newly.append(row.account_id)
            try:
                label = config.account(row.account_id).label()
            except KeyError:
                label = row.account_id
            english = _silence_texts("en", label, row.account_id, why)
            enqueue_alert(
                session,
                config,
                route,
                "operations",
                "warning",
                english["subject"],
                english["text"],
                now=now,
                dedup_key=f"hooks-silent:{row.account_id}:{now:%Y%m%dT%H%M%S}",
                localize=lambda locale, label=label, account=row.account_id, why=why: _silence_texts(
                    locale, label, account, why
                ),
            )
            log.warning("webhook hints stopped; the account falls back to polling", account=row.account_id)
    return newly


def _silence_texts(locale: str, label: str, account_id: str, why: Silence) -> dict[str, Any]:
    """The notice that an account's hints stopped, in `locale` (the commands stay as they are typed)."""
    from monitor.i18n import translator

    t = translator(locale)
    kind, count, when = why
    if kind == "lease":
        reason = t.gettext("The WebSub lease ended at %(when)s UTC and was not renewed.", when=when)
    else:
        reason = t.ngettext(
            "Polling found %(num)s new item made since the last hint (%(when)s UTC) that no hint announced.",
            "Polling found %(num)s new items made since the last hint (%(when)s UTC) that no hint announced.",
            count,
            when=when,
        )
    text = t.gettext(
        "The account is still polled on its schedule, so nothing is lost, but posts are heard of at the "
        "polling interval, not within seconds. Run %(subscribe)s and %(status)s.",
        subscribe=f"`socialmon hooks subscribe --account {account_id}`",
        status="`socialmon hooks status`",
    )
    subject = t.gettext("Webhook hints stopped for %(account)s: back to polling only", account=label)
    return {"subject": subject, "title": subject, "text": f"{reason}\n{text}"}


# Why an account's hints count as stopped: ("lease", 0, when) or ("missed", items, since when).
Silence = tuple[str, int, str]


def _silence_reason(session: Session, row: WebhookSubscriptionRow, now: datetime) -> Silence | None:
    if row.kind == "websub" and row.lease_expires_at is not None and row.lease_expires_at <= now:
        return ("lease", 0, f"{row.lease_expires_at:%Y-%m-%d %H:%M}")
    since = row.last_delivery_at or row.verified_at
    if since is None:
        return None
    # Something the platform would have pushed, found by a poll well after the last hint.
    table: Any = MessageRow if row.platform == "instagram" else PostRow
    query = (
        select(func.count())
        .select_from(table)
        .where(
            table.account_id == row.account_id,
            table.created_at > since,
            table.created_at < now - SILENCE_GRACE,
        )
    )
    if table is MessageRow:
        query = query.where(MessageRow.channel.in_(("comment", "mention", "reply")))
    missed = int(session.scalar(query) or 0)
    if missed:
        return ("missed", missed, since.strftime("%Y-%m-%d %H:%M"))
    return None


def status(config: Config, store: Any, now: datetime) -> list[dict[str, Any]]:
    """Per push-capable account: subscription state, lease, last delivery, silence."""
    with store.session() as session:
        rows = {r.account_id: r for r in session.scalars(select(WebhookSubscriptionRow))}
    out = []
    for account in push_accounts(config):
        row = rows.get(account.id)
        state = "not subscribed" if row is None else row.status
        if row is not None and row.silent_since is not None:
            state = "silent (polling only)"
        out.append(
            {
                "account": account.id,
                "platform": account.platform,
                "status": state,
                "subscribed": row is not None and row.status == "active",
                "lease_expires_at": _iso(row.lease_expires_at if row else None),
                "last_delivery_at": _iso(row.last_delivery_at if row else None),
                "deliveries": row.deliveries if row else 0,
                "silent_since": _iso(row.silent_since if row else None),
                "error": row.last_error if row else None,
            }
        )
    return out


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
