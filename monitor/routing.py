"""From findings to outbox rows: which route hears about which finding, once, and why.

Rules (DESIGN section 6):
- An immediate check goes to the route it declares (`Check.immediate`, `Check.route`):
  `emergency-posting` -> route `emergency`, `profile-changed` and `post-anomaly` -> `security`,
  `connector-health` -> `operations`; a route's own `checks:` replaces that default. Every other
  finding waits for the digest unless a custom route takes it with a `checks`, `accounts` or
  `min_severity` filter.
- A route absent from the config is skipped silently (`alerts test` and check-config list them).
- Per finding row and route: one `first` alert; a `repeat` every `repeat:` interval while a
  critical finding is open (only on routes that set `repeat`; lesser findings are said once);
  one `resolved` once it resolves (only if `first` went).
- Triage (monitor/triage.py): an acknowledged finding gets no more repeats; a snoozed or
  dismissed one gets no alerts at all (expired snoozes and dismissals count as `none` again).
- With `web.public_url`, every finding alert carries `finding_url`, the link to its page.
- Optional manager routing: the account's manager also gets immediate findings by e-mail.

Idempotency: every row carries a unique `dedup_key`, inserted with ON CONFLICT DO NOTHING, so
running this twice (or in two processes) never queues the same alert twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from checks import all_checks
from monitor.clock import as_utc, utcnow
from monitor.config import Account, Config, Route
from monitor.db import AlertRow, FindingRow
from monitor.logs import get_logger
from monitor.models import severity_rank
from monitor.notifiers.text import one_line
from monitor.seams import AlertKind, AlertPayload, AlertReason
from monitor.store import Store, dialect_insert
from monitor.triage import QUIET_STATES, expire_states

DIGEST_ROUTE = "digest"
MANAGER_ROUTE = "manager"
RESOLVED_LOOKBACK = timedelta(days=30)  # older resolutions are not announced after a long outage

log = get_logger(component="routing")


# --- which routes take a finding ---------------------------------------------------------------


@cache
def builtin_checks() -> dict[str, frozenset[str]]:
    """Route name -> the immediate checks that declare it (e.g. `emergency` -> emergency-posting)."""
    routes: dict[str, set[str]] = {}
    for check in all_checks():
        if check.immediate and check.route is not None:
            routes.setdefault(check.route, set()).add(check.id)
    return {name: frozenset(ids) for name, ids in routes.items()}


def is_digest_route(name: str, route: Route) -> bool:
    return name == DIGEST_ROUTE or route.at is not None


def route_takes(name: str, route: Route, check: str, account_id: str, severity: str) -> bool:
    """Whether an immediate route takes a finding (digest routes never do)."""
    if is_digest_route(name, route):
        return False
    checks = frozenset(route.checks) if route.checks is not None else builtin_checks().get(name)
    if checks is None:  # a custom route takes only what one of its filters selects
        if route.accounts is None and route.min_severity is None:
            return False
    elif check not in checks:
        return False
    if route.accounts is not None and account_id not in route.accounts:
        return False
    return not (route.min_severity and severity_rank(severity) < severity_rank(route.min_severity))


def routes_for(config: Config, check: str, account_id: str, severity: str) -> list[str]:
    return [
        name
        for name, route in config.alerts.routes.items()
        if route_takes(name, route, check, account_id, severity)
    ]


def manager_recipient(config: Config, finding: FindingRow, routes: Sequence[str]) -> str | None:
    """The manager to copy, when manager routing is on and the finding alerts at once."""
    alerts = config.alerts
    if not (alerts.manager_routing and alerts.manager_channel) or not routes:
        return None
    if finding.check == "connector-health":  # for operators, not for the account's manager
        return None
    account = _account(config, finding.account_id)
    return account.manager if account else None


# --- writing rows ------------------------------------------------------------------------------


def enqueue_alert(
    session: Session,
    config: Config,
    route: str,
    reason: AlertReason,
    severity: str,
    subject: str,
    text: str = "",
    *,
    now: datetime | None = None,
    title: str | None = None,
    facts: Iterable[tuple[str, str]] = (),
    items: Iterable[str] = (),
    url: str = "",
    kind: AlertKind = "notice",
    dedup_key: str | None = None,
    finding_id: int | None = None,
    fingerprint: str | None = None,
    source_created_at: datetime | None = None,
    channels: Sequence[str] | None = None,
    extra: dict[str, Any] | None = None,
    localize: Callable[[str], dict[str, Any]] | None = None,
) -> list[int]:
    """Queue one alert on every channel of `route` (in the caller's transaction); returns new row ids.

    For other producers too: emergency start/stop notices, operations notices. A route absent from
    the config queues nothing. With `dedup_key`, queueing the same alert again is a no-op.
    `localize(locale)` gives the alert's texts (subject, title, text, facts, items, ...) in a locale:
    each channel then gets its language (`alerts.channels.NAME.language`, else `locale`); a
    bilingual channel's row carries both versions, Welsh first (`versions`), and a joint subject.
    """
    now = now or utcnow()
    route_config = config.alerts.routes.get(route)
    if channels is None:
        if route_config is None:
            return []
        channels = route_config.channels
    payload: AlertPayload = {
        "kind": kind,
        "title": title or subject,
        "text": text,
        "facts": [[str(k), str(v)] for k, v in facts],
        "items": [str(i) for i in items],
        "url": url,
    }
    payload.update(extra or {})  # type: ignore[typeddict-item]  # extra keys are AlertPayload keys
    localized = _localizer(config, localize, cast(dict[str, Any], payload), subject)
    rows = [
        {
            "finding_id": finding_id,
            "fingerprint": fingerprint,
            "route": route,
            "channel": channel,
            "reason": reason,
            "severity": severity,
            **localized(channel),
            "status": "pending",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
            "source_created_at": source_created_at,
            "dedup_key": f"{dedup_key}:{channel}" if dedup_key else None,
        }
        for channel in channels
    ]
    if not rows:
        return []
    stmt = dialect_insert(session, AlertRow).values(rows).on_conflict_do_nothing(index_elements=["dedup_key"])
    return list(session.scalars(stmt.returning(AlertRow.id)))


def _localizer(
    config: Config, localize: Callable[[str], dict[str, Any]] | None, payload: dict[str, Any], subject: str
) -> Callable[[str], dict[str, Any]]:
    """channel -> its row's `subject` and `payload` in the channel's language."""
    from monitor.i18n import channel_language, locales

    if localize is None:
        return lambda channel: {"subject": one_line(subject, 250), "payload": payload}
    cache: dict[str, dict[str, Any]] = {}

    def version(locale: str) -> dict[str, Any]:
        if locale not in cache:
            texts = dict(localize(locale))
            texts["facts"] = [[str(k), str(v)] for k, v in texts.get("facts", payload["facts"])]
            texts["items"] = [str(i) for i in texts.get("items", payload["items"])]
            cache[locale] = {**payload, **texts, "locale": locale}
        return cache[locale]

    def for_channel(channel: str) -> dict[str, Any]:
        language = channel_language(config, channel)
        versions = [version(locale) for locale in locales(language)]
        hidden = ("subject", "subject_parts")
        first = {k: v for k, v in versions[0].items() if k not in hidden}
        body: dict[str, Any] = {**first, "language": language}
        if len(versions) > 1:
            body["versions"] = [{k: v for k, v in ver.items() if k not in hidden} for ver in versions]
        return {"subject": _joint_subject(versions, subject), "payload": body}

    return for_channel


def _joint_subject(versions: list[dict[str, Any]], default: str) -> str:
    """One subject line for all versions, Welsh first and short: with `subject_parts` (label, topic,
    where) "[UCHEL/HIGH] Welsh topic / English topic - where"; else the subjects joined."""
    from monitor.i18n import bilingual

    if len(versions) == 1:
        return one_line(versions[0].get("subject") or default, 250)
    parts = [v.get("subject_parts") for v in versions]
    if all(parts):
        labels = bilingual([p[0] for p in parts if p], 60).replace(" / ", "/")
        topics = bilingual([p[1] for p in parts if p], 180)
        where = parts[0][2] if parts[0] else ""
        return one_line(f"[{labels}] {topics}" + (f" - {where}" if where else ""), 250)
    return one_line(bilingual([str(v.get("subject") or default) for v in versions], 250), 250)


# --- findings -> rows --------------------------------------------------------------------------


def route_findings(config: Config, store: Store, now: datetime | None = None) -> int:
    """Queue first / repeat / resolved alerts for findings; returns how many rows were written."""
    now = now or utcnow()
    with store.session() as session:
        expire_states(session, now)
        written = _route_open(session, config, now) + _route_resolved(session, config, now)
    if written:
        log.info("alerts_queued", rows=written)
    return written


def _route_open(session: Session, config: Config, now: datetime) -> int:
    findings = list(
        session.scalars(select(FindingRow).where(FindingRow.status == "open").order_by(FindingRow.id))
    )
    sent = _sent_times(session, [f.id for f in findings])
    written = 0
    for finding in findings:
        if finding.state in QUIET_STATES:
            continue  # snoozed or dismissed: no alerts until it expires or is reopened
        routes = routes_for(config, finding.check, finding.account_id, finding.severity)
        targets: list[tuple[str, timedelta | None, str | None]] = [
            (name, config.alerts.routes[name].repeat, None) for name in routes
        ]
        manager = manager_recipient(config, finding, routes)
        if manager:
            targets.append((MANAGER_ROUTE, None, manager))
        for route, repeat, recipient in targets:
            first_at, last_at = sent.get((finding.id, route), (None, None))
            if first_at is None:
                written += _enqueue_finding(
                    session, config, finding, route, "first", now, recipient=recipient
                )
            elif repeat is not None and _repeat_due(finding, repeat, last_at, now):
                number = int((now - first_at) / repeat)
                written += _enqueue_finding(
                    session, config, finding, route, "repeat", now, number=number, recipient=recipient
                )
    return written


def _repeat_due(
    finding: FindingRow, repeat: timedelta | None, last_at: datetime | None, now: datetime
) -> bool:
    """Only critical findings repeat (on-call must not forget them); the rest are said once.

    An acknowledged finding does not repeat: someone is on it.
    """
    if finding.severity != "critical" or repeat is None or last_at is None or finding.state == "acknowledged":
        return False
    return now - last_at >= repeat


def _sent_times(session: Session, finding_ids: list[int]) -> dict[tuple[int, str], tuple[datetime, datetime]]:
    """(finding, route) -> (first alert time, latest first/repeat time)."""
    out: dict[tuple[int, str], tuple[datetime, datetime]] = {}
    for start in range(0, len(finding_ids), 500):
        chunk = finding_ids[start : start + 500]
        stmt = (
            select(
                AlertRow.finding_id,
                AlertRow.route,
                func.min(AlertRow.created_at),
                func.max(AlertRow.created_at),
            )
            .where(AlertRow.finding_id.in_(chunk), AlertRow.reason.in_(("first", "repeat")))
            .group_by(AlertRow.finding_id, AlertRow.route)
        )
        for finding_id, route, first_at, last_at in session.execute(stmt):
            if finding_id is not None:
                out[(finding_id, route)] = (as_utc(first_at), as_utc(last_at))
    return out


def _route_resolved(session: Session, config: Config, now: datetime) -> int:
    first, later = aliased(AlertRow), aliased(AlertRow)
    stmt = (
        select(FindingRow, first.route)
        .join(first, and_(first.finding_id == FindingRow.id, first.reason == "first"))
        .where(
            FindingRow.status == "resolved",
            FindingRow.resolved_at >= now - RESOLVED_LOOKBACK,
            FindingRow.state.not_in(QUIET_STATES),
            ~exists().where(
                later.finding_id == FindingRow.id, later.route == first.route, later.reason == "resolved"
            ),
        )
        .distinct()
        .order_by(FindingRow.id)
    )
    written = 0
    for finding, route in session.execute(stmt).all():
        recipient = None
        if route == MANAGER_ROUTE:
            account = _account(config, finding.account_id)
            recipient = account.manager if account else None
            if not recipient or not config.alerts.manager_channel:
                continue
        elif route not in config.alerts.routes:
            continue
        written += _enqueue_finding(session, config, finding, route, "resolved", now, recipient=recipient)
    return written


def _enqueue_finding(
    session: Session,
    config: Config,
    finding: FindingRow,
    route: str,
    reason: AlertReason,
    now: datetime,
    *,
    number: int = 0,
    recipient: str | None = None,
) -> int:
    account = _account(config, finding.account_id)
    label = account.label() if account else finding.account_id
    english = finding_texts(config, finding, reason, label, "en")
    topic = one_line(f"{finding.title or finding.check} - {label}", 220)
    finding_url = config.web.finding_url(finding.id) if config.web else None
    key = f"finding:{finding.id}:{route}:{reason}" + (f":{number}" if reason == "repeat" else "")
    channels = (
        [config.alerts.manager_channel] if route == MANAGER_ROUTE and config.alerts.manager_channel else None
    )
    ids = enqueue_alert(
        session,
        config,
        route,
        reason,
        finding.severity,
        english["subject"],
        finding.detail,
        now=now,
        title=finding.title or topic,
        facts=english["facts"],
        url=finding.url,
        kind="finding",
        dedup_key=key,
        finding_id=finding.id,
        fingerprint=finding.fingerprint,
        channels=channels,
        source_created_at=finding.resolved_at
        if reason == "resolved"
        else (finding.since if reason == "first" else None),
        extra={
            "thread": thread_key(finding),
            "thread_topic": topic,
            "check": finding.check,
            "account_id": finding.account_id,
            "account_label": label,
            "policy_section": finding.policy_section,
            "url_title": english["url_title"],
            **({"finding_url": finding_url} if finding_url else {}),
            **({"to": [recipient]} if recipient else {}),
        },
        localize=lambda locale: finding_texts(config, finding, reason, label, locale),
    )
    return len(ids)


def finding_texts(
    config: Config, finding: FindingRow, reason: str, label: str, locale: str
) -> dict[str, Any]:
    """What a finding's alert says, in `locale`: subject, title, detail, facts, link and policy quote."""
    from monitor.i18n import translator
    from monitor.texts import SEVERITIES, translate_detail, translate_reason

    t = translator(locale)
    severity = t.known(SEVERITIES.get(finding.severity, finding.severity.upper()))
    title = t.known(finding.title or finding.check)
    # What happened first, then where: a phone shows only the start of a subject line. The check's
    # id is in the facts; it means nothing to most readers.
    topic = one_line(f"{title} - {label}", 220)
    prefix = {
        "resolved": t.gettext("RESOLVED"),
        "repeat": t.gettext("%(severity)s, still open", severity=severity),
    }.get(reason, severity)
    facts = [
        (t.gettext("Account"), label),
        (t.gettext("Check"), finding.check),
        (t.gettext("Severity"), severity.lower()),
        (t.gettext("Since"), t.local_time(finding.since, config.tz)),
        (t.gettext("Opened"), t.local_time(finding.opened_at, config.tz)),
    ]
    if reason == "resolved" and finding.resolved_at is not None:
        facts.append((t.gettext("Resolved"), t.local_time(finding.resolved_at, config.tz)))
        if finding.resolve_reason:
            facts.append((t.gettext("How"), translate_reason(finding.resolve_reason, t)))
    return {
        "subject": f"[{prefix}] {topic}",
        "subject_parts": [prefix, one_line(title, 120), one_line(label, 80)],
        "title": title,
        "text": translate_detail(finding.check, finding.detail or "", t, finding.title or ""),
        "facts": facts,
        "policy_section": t.known(finding.policy_section or ""),
        "url_title": t.gettext("Open the post") if finding.subject.startswith("post:") else t.gettext("Open"),
        "severity_label": severity,
        "thread_topic": topic,
    }


def thread_key(finding: FindingRow) -> str:
    """Stable per finding row: first, repeats and resolution share it (e-mail threading)."""
    return f"socialmon.{finding.fingerprint}.{int(as_utc(finding.opened_at).timestamp())}"


def _account(config: Config, account_id: str) -> Account | None:
    try:
        return config.account(account_id)
    except KeyError:
        return None
