"""Builders for check tests: accounts, records and a CheckContext under a frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from checks.base import CheckContext, Emergency, PollState
from monitor.config import Account, Policy
from monitor.models import Message, Post, ProfileSnapshot, Reply, ScheduledPost
from monitor.tagging import tag_profile
from monitor.worktime import WorkingTime

# Wednesday 4 June 2025, 12:00 UTC (13:00 BST): a working day in term.
NOW = datetime(2025, 6, 4, 12, 0, tzinfo=UTC)
PEOPLE = ["a.jones@example.ac.uk", "b.williams@example.ac.uk"]


def account(**overrides: Any) -> Account:
    data: dict[str, Any] = {
        "id": "dept-x",
        "platform": "x",
        "handle": "DeptX",
        "name": "Dept X",
        "role": "departmental",
        "language": {"mode": "bilingual"},
        "monitoring_hours": "Mon-Fri 09:00-17:00",
        "people": PEOPLE,
        "manager": "c.evans@example.ac.uk",
    }
    data.update(overrides)
    return Account.model_validate(data)


CENTRAL = account(id="bangor-x", handle="BangorUni", name="Bangor University", role="central")
CENTRAL_CY = account(id="bangor-x-cy", handle="PrifysgolBangor", name="Prifysgol Bangor", role="central")


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


_counter = iter(range(1, 10_000_000))


def post(text: str = "News", language: str = "en", at: datetime | None = None, **overrides: Any) -> Post:
    native_id = overrides.pop("native_id", f"p{next(_counter)}")
    data: dict[str, Any] = {
        "platform": "x",
        "native_id": native_id,
        "account_id": "dept-x",
        "created_at": at or ago(hours=1),
        "text": text,
        "url": f"https://x.com/DeptX/status/{native_id}",
        "language": language,
    }
    data.update(overrides)
    return Post(**data)


def message(text: str = "Pryd mae'r llyfrgell ar agor?", language: str = "cy", **overrides: Any) -> Message:
    native_id = overrides.pop("native_id", f"m{next(_counter)}")
    data: dict[str, Any] = {
        "platform": "x",
        "native_id": native_id,
        "account_id": "dept-x",
        "channel": "mention",
        "author_id": "u1",
        "author_name": "Gwen",
        "created_at": ago(hours=30),
        "text": text,
        "language": language,
        "is_enquiry": True,
        "in_reply_to": "",
        "url": f"https://x.com/gwen/status/{native_id}",
    }
    data.update(overrides)
    return Message(**data)


def reply(to: Message, text: str = "Mae ar agor tan 5yh.", language: str = "cy", **overrides: Any) -> Reply:
    data: dict[str, Any] = {
        "platform": to.platform,
        "native_id": overrides.pop("native_id", f"r{next(_counter)}"),
        "account_id": to.account_id,
        "created_at": to.created_at + timedelta(hours=1),
        "text": text,
        "in_reply_to": to.native_id,
        "language": language,
    }
    data.update(overrides)
    return Reply(**data)


def profile(text: str, at: datetime | None = None, **overrides: Any) -> ProfileSnapshot:
    data: dict[str, Any] = {
        "account_id": "dept-x",
        "taken_at": at or ago(days=1),
        "name": "Dept X",
        "handle": "DeptX",
        "text": text,
        "avatar_fingerprint": "abc",
        "url": "https://x.com/DeptX",
    }
    data.update(overrides)
    return tag_profile(ProfileSnapshot(**data))  # as the poll stores it: with its language


def scheduled(text: str = "Open day tomorrow!", **overrides: Any) -> ScheduledPost:
    data: dict[str, Any] = {
        "platform": "facebook",
        "native_id": f"s{next(_counter)}",
        "account_id": "dept-x",
        "scheduled_for": NOW + timedelta(hours=3),
        "text": text,
    }
    data.update(overrides)
    return ScheduledPost(**data)


def context(
    acct: Account | None = None, *, now: datetime = NOW, policy: Policy | None = None, **records: Any
) -> CheckContext:
    acct = acct or account()
    records.setdefault("central_accounts", (CENTRAL, CENTRAL_CY))
    for key in ("posts", "messages", "replies", "profiles", "scheduled", "pair_posts", "central_accounts"):
        if key in records:
            records[key] = tuple(records[key])
    return CheckContext(
        account=acct,
        policy=policy or Policy(),
        now=now,
        worktime=WorkingTime(acct.hours, "Europe/London", "GB-WLS"),
        lookback=timedelta(days=14),
        **records,
    )


__all__ = [
    "CENTRAL", "NOW", "PEOPLE", "Emergency", "PollState", "account", "ago", "context", "message", "post",
    "profile", "reply", "scheduled",
]  # fmt: skip
