"""A dashboard over a real store: a config with a `web:` section, seeded rows, a signed-in client."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from monitor.config import Config, parse_config
from monitor.db import (
    AccountStateRow,
    AlertRow,
    FindingRow,
    InstanceRow,
    MessageRow,
    PollRunRow,
    PostRow,
    ProfileSnapshotRow,
    RateLimitRow,
    ReplyRow,
    ScheduledPostRow,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
ROLE_USERS = {
    "viewer@example.ac.uk": "viewer",
    "comms@example.ac.uk": "comms",
    "oncall@example.ac.uk": "oncall",
    "admin@example.ac.uk": "admin",
}
TEAMS_SECRET = "https://example.webhook.office.com/webhookb2/SECRET-WEBHOOK-PATH"
FB_TOKEN = "EAAB-SECRET-TOKEN-4321"
# One hash for all users. An argon2id hash, like `hash_password`'s, but with the lowest cost
# argon2-cffi allows: the production cost (~0.1 s a verification, slow on purpose) made each
# sign-in in these tests cost that much. The app verifies with the parameters the hash carries.
_HASH: list[str] = []


def password_hash() -> str:
    if not _HASH:
        _HASH.append(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD))
    return _HASH[0]


ACCOUNTS = """
accounts:
  - {id: central-x, platform: x, handle: AberwenUni, name: Aberwen University, role: central,
     unit: Communications, language: {mode: paired, pair: central-cy-x, lang: en},
     monitoring_hours: "Mon-Fri 09:00-17:00", manager: head@example.ac.uk, people: [pat@example.ac.uk]}
  - {id: central-cy-x, platform: x, handle: PrifAberwen, name: Prifysgol Aberwen, role: central,
     unit: Communications, language: {mode: paired, pair: central-x, lang: cy}}
  - {id: music-fb, platform: facebook, native_id: "1001", name: Music, unit: Arts,
     language: {mode: bilingual}, manager: music.head@example.ac.uk}
"""


def config_text(db: Path, mode: str = "local", extra: str = "") -> str:
    if mode == "local":
        users = "\n".join(
            f'      - {{name: {name}, password_hash: "{password_hash()}"}}' for name in ROLE_USERS
        )
        auth = f"    mode: local\n    users:\n{users}"
    else:
        auth = (
            "    mode: proxy\n    header: X-Forwarded-Email\n    trusted_proxies: [127.0.0.1, '10.0.0.0/8']"
        )
    roles = "\n".join(f"    {name}: {role}" for name, role in ROLE_USERS.items())
    return (
        f"database: sqlite:///{db}\n"
        "service: {data_dir: "
        + str(db.parent)
        + "}\n"
        + 'platforms: {facebook: {access_token: "${FB_TOKEN}"}}\n'
        + ACCOUNTS
        + 'alerts:\n  channels:\n    teams: {type: teams, url: "${TEAMS_URL}"}\n'
        + "  routes:\n    immediate: {channels: [teams]}\n"
        + f"web:\n  listen: 127.0.0.1:8080\n  auth:\n{auth}\n  roles:\n{roles}\n"
        + extra
    )


def make_config(db: Path, mode: str = "local", extra: str = "") -> Config:
    return parse_config(config_text(db, mode, extra), env={"TEAMS_URL": TEAMS_SECRET, "FB_TOKEN": FB_TOKEN})


def finding(n: int, **overrides: Any) -> FindingRow:
    values: dict[str, Any] = {
        "fingerprint": f"fp{n:014d}",
        "check": "cadence",
        "account_id": "music-fb",
        "subject": f"post:{n}",
        "severity": "warning",
        "title": f"Music has not posted for 3 days ({n})",
        "detail": "The last post was 3 days ago; the policy asks for one every 48 hours.",
        "policy_section": "4.2 Accounts must post at least every 48 hours.",
        "url": f"https://www.facebook.com/1001/posts/{n}",
        "since": NOW - timedelta(hours=n + 1),
        "opened_at": NOW - timedelta(hours=n + 1),
        "last_seen_at": NOW,
    }
    values.update(overrides)
    return FindingRow(**values)


def seed(store: Any) -> dict[str, int]:
    """Rows every page has something to show from; returns the ids tests act on."""
    with store.session() as s:
        f1 = finding(1, severity="high")
        f2 = finding(2)
        f3 = finding(3, check="welsh-counterpart", account_id="central-x", subject="post:x3")
        f4 = finding(4, status="resolved", resolved_at=NOW - timedelta(minutes=5))
        s.add_all([f1, f2, f3, f4])
        for i, (lang, account) in enumerate(
            [("cy", "central-cy-x"), ("en", "central-x"), ("cy+en", "music-fb")]
        ):
            s.add(
                PostRow(
                    platform="x" if account != "music-fb" else "facebook",
                    native_id=f"p{i}",
                    account_id=account,
                    created_at=NOW - timedelta(days=1, hours=i),
                    text=f"A post <script>alert({i})</script> in {lang}",
                    url=f"https://x.com/i/status/{i}" if i != 2 else "javascript:alert(1)",
                    language=lang,
                    first_seen_at=NOW,
                    updated_at=NOW,
                )
            )
        s.add(
            MessageRow(
                platform="x",
                native_id="m1",
                account_id="central-x",
                channel="mention",
                author_name="Student",
                created_at=NOW - timedelta(hours=6),
                text="Pryd mae'r diwrnod agored?",
                language="cy",
                is_enquiry=True,
                first_seen_at=NOW,
            )
        )
        s.add(
            ReplyRow(
                platform="x",
                native_id="r1",
                account_id="central-x",
                created_at=NOW - timedelta(hours=5),
                in_reply_to="m1",
                text="Dydd Sadwrn",
                language="cy",
                first_seen_at=NOW,
            )
        )
        for taken, name in (
            (NOW - timedelta(days=3), "Aberwen University"),
            (NOW - timedelta(hours=2), "Aberwen FREE CRYPTO"),
        ):
            s.add(
                ProfileSnapshotRow(
                    account_id="central-x",
                    taken_at=taken,
                    last_seen_at=taken,
                    name=name,
                    handle="AberwenUni",
                    text="Official account",
                )
            )
        s.add(
            AccountStateRow(account_id="central-x", last_poll_at=NOW - timedelta(minutes=3), last_status="ok")
        )
        s.add(
            AccountStateRow(
                account_id="music-fb",
                last_poll_at=NOW - timedelta(minutes=2),
                last_status="auth_expired",
                failing_since=NOW - timedelta(hours=2),
            )
        )
        s.add(
            PollRunRow(
                account_id="music-fb",
                started_at=NOW - timedelta(minutes=2),
                status="auth_expired",
                error=f"token {FB_TOKEN} expired",
            )
        )
        s.add(
            RateLimitRow(
                platform="x",
                bucket="GET /2/users/:id/tweets",
                limit=900,
                remaining=850,
                reset_at=NOW + timedelta(minutes=10),
                updated_at=NOW,
            )
        )
        s.add(
            AlertRow(
                route="immediate",
                channel="teams",
                reason="first",
                subject="Music: no post",
                status="failed",
                attempts=5,
                created_at=NOW - timedelta(hours=1),
                next_attempt_at=NOW,
                last_error=f"HTTP 500 from {TEAMS_SECRET}",
            )
        )
        s.add(
            ScheduledPostRow(
                platform="facebook",
                native_id="sch1",
                account_id="music-fb",
                scheduled_for=NOW + timedelta(hours=3),
                text="Concert tonight",
                first_seen_at=NOW,
                last_seen_at=NOW,
            )
        )
        s.add(InstanceRow(instance_id="host:1:abc", started_at=NOW, heartbeat_at=NOW, is_leader=True))
        s.flush()
        return {"high": f1.id, "warning": f2.id, "counterpart": f3.id, "resolved": f4.id}


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match[1]


def sign_in(client: Any, name: str, password: str = PASSWORD) -> Any:
    page = client.get("/login")
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": csrf_token(page.get_data(as_text=True))},
    )


def post_form(client: Any, page_path: str, action: str, data: dict[str, str], **kwargs: Any) -> Any:
    """Load a page (for its CSRF token) and post one of its forms."""
    page = client.get(page_path, **kwargs)
    token = csrf_token(page.get_data(as_text=True))
    return client.post(action, data={**data, "csrf_token": token}, **kwargs)
