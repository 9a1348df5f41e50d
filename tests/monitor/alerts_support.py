"""Shared by the alert, outbox and digest tests: a config with real local channels, and findings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.config import Config, parse_config
from monitor.db import FindingRow
from monitor.models import fingerprint

NOW = datetime(2025, 3, 5, 12, 0, tzinfo=UTC)  # a Wednesday, GMT

ACCOUNTS = """
accounts:
  - id: central
    platform: x
    handle: prifysgol
    name: University
    role: central
    language: {mode: bilingual}
    monitoring_hours: Mon-Fri 09:00-17:00
    manager: manager@uni.ac.uk
  - id: physics-en
    platform: facebook
    native_id: "111"
    name: Physics
    language: {mode: paired, pair: physics-cy, lang: en}
    monitoring_hours: Mon-Fri 09:00-17:00
    manager: physics.manager@uni.ac.uk
  - id: physics-cy
    platform: facebook
    native_id: "222"
    name: Ffiseg
    language: {mode: paired, pair: physics-en, lang: cy}
    monitoring_hours: Mon-Fri 09:00-17:00
  - {id: recruit-intl,
     platform: instagram, native_id: "17841400000000077",
     handle: uni_international,
     name: International recruitment,
     language: {mode: exempt, reason: audience outside Wales}}
"""


def make_config(channels: dict[str, str], routes: dict[str, str], extra_alerts: str = "") -> Config:
    """Build a Config: `channels` name -> YAML flow mapping, `routes` name -> YAML flow mapping."""
    lines = [ACCOUNTS, "alerts:", "  channels:"]
    lines += [f"    {name}: {spec}" for name, spec in channels.items()]
    lines.append("  routes:")
    lines += [f"    {name}: {spec}" for name, spec in routes.items()]
    if extra_alerts:
        lines.append(extra_alerts)
    return parse_config("\n".join(lines), "test.yaml", env={})


def teams_channel(url: str, fmt: str = "workflows") -> str:
    return f'{{type: teams, url: "{url}", format: {fmt}, timeout: 5s}}'


def email_channel(port: int, security: str = "none", extra: str = "") -> str:
    return (
        f"{{type: email, host: 127.0.0.1, port: {port}, security: {security}, from: socialmon@uni.ac.uk, "
        f"to: [comms@uni.ac.uk], timeout: 5s{', ' + extra if extra else ''}}}"
    )


def add_finding(
    session: Any,
    check: str = "emergency-posting",
    account_id: str = "physics-en",
    subject: str = "post:facebook:1",
    severity: str = "critical",
    *,
    opened_at: datetime = NOW,
    status: str = "open",
    resolved_at: datetime | None = None,
    title: str = "A finding",
    detail: str = "Detail",
    url: str = "https://facebook.com/1",
) -> FindingRow:
    row = FindingRow(
        fingerprint=fingerprint(check, account_id, subject),
        check=check,
        account_id=account_id,
        subject=subject,
        severity=severity,
        status=status,
        title=title,
        detail=detail,
        policy_section="Policy: a section",
        url=url,
        immediate=check in {"emergency-posting", "profile-changed"},
        since=opened_at - timedelta(minutes=1),
        opened_at=opened_at,
        last_seen_at=opened_at,
        resolved_at=resolved_at,
        resolve_reason="fixed" if resolved_at else None,
    )
    session.add(row)
    session.flush()
    return row
