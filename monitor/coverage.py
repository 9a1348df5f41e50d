"""What socialmon can and cannot see of each account: credential facts, coverage per feature,
OAuth grants and accounts the credentials see but the registry lacks.

Neutral records: connectors produce them from platform answers (platform JSON never leaves
`connectors/`), the store keeps them, checks and commands read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.i18n import N_

# The features `accounts verify` reports on, in the order people read them.
FEATURES: tuple[str, ...] = (
    "posts",
    "comments",
    "direct_messages",
    "scheduled_posts",
    "captions",
    "profile",
)

# How each feature is named to people ("queued posts unknown for: Sport Facebook").
FEATURE_LABELS: dict[str, str] = {
    "posts": N_("posts"),
    "comments": N_("comments and replies"),
    "direct_messages": N_("direct messages"),
    "scheduled_posts": N_("queued posts"),
    "captions": N_("video captions"),
    "profile": N_("profile"),
}


@dataclass(frozen=True)
class Coverage:
    """Whether a feature of an account can be read: `ok` None means the platform has no such thing."""

    ok: bool | None
    reason: str = ""
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "reason": self.reason, "fix": self.fix}


@dataclass(frozen=True)
class CredentialFacts:
    valid: bool
    expires_at: datetime | None = None  # None: does not expire (or the platform does not say)
    data_access_expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    kind: str = ""  # "PAGE", "SYSTEM_USER", "USER", "APP", "oauth2-user", "api-key"
    problem: str = ""  # why it is not valid, in words
    # Meta's granular_scopes: scope -> the ids (Pages, IG accounts) it is granted for; a scope
    # absent here applies to every asset the token reaches.
    targets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def grants(self, scope: str, target: str) -> bool:
        if scope not in self.scopes:
            return False
        ids = self.targets.get(scope)
        return ids is None or target in ids


@dataclass
class Verification:
    """One account's answer to `accounts verify`."""

    account_id: str
    platform: str
    credential: CredentialFacts
    coverage: dict[str, Coverage] = field(default_factory=dict)
    native_id: str | None = None  # resolved from the handle
    config_hint: str = ""  # the config line to add when native_id is missing

    def uncovered(self) -> list[str]:
        return [name for name, item in self.coverage.items() if item.ok is False]


@dataclass(frozen=True)
class DiscoveredAccount:
    """An account the configured credentials can see."""

    platform: str
    native_id: str
    name: str
    handle: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "platform": self.platform,
            "native_id": self.native_id,
            "name": self.name,
            "handle": self.handle,
        }


@dataclass(frozen=True)
class TokenGrant:
    """An OAuth 2.0 token endpoint's answer (secrets: never logged, stored only encrypted)."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    scopes: tuple[str, ...] = ()

    def __repr__(self) -> str:  # keeps the secrets out of tracebacks and logs
        return f"TokenGrant(expires_at={self.expires_at!r}, scopes={self.scopes!r})"


class RefreshRejected(Exception):
    """The platform refused a refresh token for good (revoked, used, expired): re-authorize."""


@dataclass(frozen=True)
class CoverageGap:
    """A feature of an account a poll could not read (stored; the `coverage` check reads it)."""

    account_id: str
    feature: str
    reason: str
    fix: str
    since: datetime


@dataclass(frozen=True)
class CredentialState:
    """The stored facts about an account's credential (from `accounts verify` and token refresh)."""

    account_id: str
    checked_at: datetime
    valid: bool
    expires_at: datetime | None = None
    data_access_expires_at: datetime | None = None
    problem: str = ""
    refresh_failed: str = ""  # a permanent refresh failure, with the fix
