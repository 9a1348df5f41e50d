"""Alerts for notifier tests (imported by the test modules; fixtures live in conftest.py)."""

from __future__ import annotations

import datetime as dt

from monitor.notifiers import OutgoingAlert

NOW = dt.datetime(2025, 3, 5, 12, 0, tzinfo=dt.UTC)


def make_alert(reason: str = "first", alert_id: int = 7, **payload: object) -> OutgoingAlert:
    base: dict[str, object] = {
        "kind": "finding",
        "title": "Non-central account posted during an emergency",
        "text": "Physics posted: 'Open day tomorrow!'",
        "facts": [["Account", "Physics (facebook:111)"], ["Check", "emergency-posting"]],
        "url": "https://www.facebook.com/111/posts/1",
        "url_title": "Open the post",
        "thread": "socialmon.0123456789abcdef0123456789abcdef.1741176000",
        "check": "emergency-posting",
        "account_label": "Physics (facebook:111)",
        "policy_section": "Social media in an emergency: only central accounts post",
    }
    base.update(payload)
    return OutgoingAlert(
        id=alert_id,
        route="emergency",
        channel="on-call",
        reason=reason,
        severity="critical",
        subject="[CRITICAL] emergency-posting · Physics (facebook:111) · Posted",
        payload=base,
        created_at=NOW,
    )
