"""Who is asking, and what they may do.

Identity comes from one of two places (config `web.auth.mode`):
- `proxy`: the header a single-sign-on reverse proxy sets (`web.auth.header`), believed only when
  the request's own peer address is in `web.auth.trusted_proxies` (an address or a network);
  from anywhere else the request has no identity, whatever headers it carries.
- `local`: a name and password checked against `web.auth.users` (argon2id hashes made by
  `socialmon web hash-password`; werkzeug `scrypt:` hashes are accepted too), then a signed session.

An identity's role is looked up in `web.roles` (case-insensitively); one with no role is refused.
Roles are ordered: each may do what the one before it may, and more.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

ROLES = ("viewer", "comms", "oncall", "admin")

# action -> the least role that may do it
ACTIONS: dict[str, str] = {
    "view": "viewer",
    "acknowledge": "comms",
    "snooze": "comms",
    "dismiss": "comms",
    "reopen": "comms",
    "declare-emergency": "oncall",
    "stop-emergency": "oncall",
}


def may(role: str | None, action: str) -> bool:
    if role not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(ACTIONS[action])


@dataclass(frozen=True)
class User:
    name: str
    role: str

    def may(self, action: str) -> bool:
        return may(self.role, action)


def _secret(value: Any) -> str:
    """A config value that may be a pydantic SecretStr."""
    getter = getattr(value, "get_secret_value", None)
    return str(getter() if getter else value or "")


def role_of(web: Any, name: str) -> str | None:
    roles = {str(k).strip().lower(): str(v) for k, v in dict(getattr(web, "roles", {}) or {}).items()}
    role = roles.get(name.strip().lower())
    return role if role in ROLES else None


# --- proxy mode -----------------------------------------------------------------------------------


def _networks(trusted: Iterable[Any]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(str(entry), strict=False) for entry in trusted]


def trusted_peer(remote_addr: str | None, trusted: Iterable[Any]) -> bool:
    if not remote_addr:
        return False
    try:
        address = ipaddress.ip_address(remote_addr.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in _networks(trusted))


def proxy_identity(auth: Any, headers: Any, remote_addr: str | None) -> str | None:
    """The identity header's value, only from a trusted proxy."""
    if not trusted_peer(remote_addr, getattr(auth, "trusted_proxies", []) or []):
        return None
    value = str(headers.get(getattr(auth, "header", None) or "X-Forwarded-Email", "")).strip()
    return value[:254] or None


# --- local mode -----------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """An argon2id hash (argon2-cffi's defaults, RFC 9106's second recommended option)."""
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


# Verified when the name is unknown, so a wrong name costs what a wrong password does.
_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password("not a password anyone has"))
    return _DUMMY_HASH[0]


def verify_password(stored: str, password: str) -> bool:
    if stored.startswith("$argon2"):
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

        try:
            return bool(PasswordHasher().verify(stored, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    if stored.startswith("scrypt:"):
        from werkzeug.security import check_password_hash

        try:
            return check_password_hash(stored, password)
        except ValueError:
            return False
    return False


def check_login(auth: Any, name: str, password: str) -> str | None:
    """The user's configured name when the password is right; None otherwise."""
    wanted = name.strip().lower()
    for user in getattr(auth, "users", []) or []:
        if str(user.name).strip().lower() == wanted:
            return str(user.name) if verify_password(_secret(user.password_hash), password) else None
    verify_password(_dummy_hash(), password)
    return None


class LoginLimiter:
    """Login attempts per client address and per name, in a moving window (the `limits` library)."""

    def __init__(self, per_address: str = "10/minute", per_name: str = "5/minute;20/hour"):
        from limits import parse_many
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter

        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_address = parse_many(per_address)
        self._per_name = parse_many(per_name)

    def allow(self, address: str, name: str) -> bool:
        """Count one attempt; False when either limit is already reached."""
        checks = [(item, "address", address) for item in self._per_address]
        checks += [(item, "name", name.strip().lower()) for item in self._per_name]
        if not all(self._limiter.test(item, kind, key) for item, kind, key in checks):
            return False
        for item, kind, key in checks:
            self._limiter.hit(item, kind, key)
        return True
