"""The `web:` section of the configuration: where the dashboard listens, who may do what.

Absent, the dashboard is off (and alerts carry no links to it). The key names are a public
interface (see the README's configuration reference):

    web:
      listen: 127.0.0.1:8080
      public_url: https://socialmon.example.ac.uk   # optional: links in alerts and digests
      auth:
        mode: proxy                      # or local
        header: X-Forwarded-Email        # proxy: the identity header the SSO proxy sets
        trusted_proxies: [127.0.0.1]     # proxy: the header is believed only from these
        users:                           # local: made with `socialmon web hash-password`
          - {name: a.person@example.ac.uk, password_hash: "..."}
      roles:                             # identity -> viewer | comms | oncall | admin
        a.person@example.ac.uk: comms

Rules spanning fields are in `web_problems`, which the config loader runs with its other
cross-checks so each problem names its key path.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr

Role = Literal["viewer", "comms", "oncall", "admin"]
ROLES: tuple[str, ...] = ("viewer", "comms", "oncall", "admin")
_HEADER = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")  # an HTTP field name (RFC 9110 token)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _listen(value: Any) -> str:
    """`host:port` (an IPv6 host in brackets: `[::1]:8080`)."""
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    host, port = split_listen(text) if text else (None, None)
    if host is None or port is None:
        raise ValueError(f"{value!r} is not host:port (e.g. 127.0.0.1:8080)")
    return text


def split_listen(text: str) -> tuple[str | None, int | None]:
    """(host, port) of `host:port`, or (None, None) when it is not one."""
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\s\[\]]+):(\d{1,5})", text)
    if not match:
        return None, None
    host = match[1] or match[3]
    port = int(match[2] or match[4])
    if not 0 < port < 65536:
        return None, None
    return host, port


def _public_url(value: Any) -> str:
    parts = urlsplit(str(value).strip()) if isinstance(value, str) else None
    if parts is None or parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("must be a plain http(s) URL (no query, fragment or user name)")
    return str(value).strip().rstrip("/")


def _proxy(value: Any) -> str:
    """An address or a network (`10.0.0.0/8`), kept as written after checking it parses."""
    text = str(value).strip() if isinstance(value, str) else ""
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address or network (e.g. 10.0.0.0/8)") from None
    return text


def _header(value: Any) -> str:
    if not isinstance(value, str) or not _HEADER.match(value.strip()):
        raise ValueError(f"{value!r} is not an HTTP header name")
    return value.strip()


Listen = Annotated[str, BeforeValidator(_listen)]
PublicUrl = Annotated[str, BeforeValidator(_public_url)]
ProxyAddress = Annotated[str, BeforeValidator(_proxy)]
HeaderName = Annotated[str, BeforeValidator(_header)]


class WebUser(_Strict):
    name: str = Field(min_length=1, max_length=255)
    password_hash: SecretStr  # never shown: pages, logs and errors print it masked


class WebAuth(_Strict):
    mode: Literal["proxy", "local"]
    header: HeaderName = "X-Forwarded-Email"
    trusted_proxies: list[ProxyAddress] = ["127.0.0.1"]
    users: list[WebUser] = []

    def is_trusted(self, address: str) -> bool:
        """Whether a request from `address` may set the identity header."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(p, strict=False) for p in self.trusted_proxies)


class Web(_Strict):
    listen: Listen = "127.0.0.1:8080"
    public_url: PublicUrl | None = None
    auth: WebAuth
    roles: dict[str, Role] = {}

    @property
    def host(self) -> str:
        return split_listen(self.listen)[0] or "127.0.0.1"

    @property
    def port(self) -> int:
        return split_listen(self.listen)[1] or 8080

    def role_of(self, identity: str | None) -> str | None:
        """The role of an identity; None (refused) for anyone not listed."""
        if not identity:
            return None
        return self.roles.get(identity)

    def finding_url(self, finding_id: int) -> str | None:
        """The finding's page, for links in alerts and digests; None without `public_url`."""
        return f"{self.public_url}/findings/{finding_id}" if self.public_url else None


def web_problems(web: Web | None) -> list[tuple[tuple[Any, ...], str]]:
    """Rules spanning the `web:` keys; each problem is (key path, message)."""
    if web is None:
        return []
    problems: list[tuple[tuple[Any, ...], str]] = []
    auth = web.auth
    seen: set[str] = set()
    for i, user in enumerate(auth.users):
        if user.name in seen:
            problems.append((("web", "auth", "users", i, "name"), f"{user.name!r} is listed twice"))
        seen.add(user.name)
        if not user.password_hash.get_secret_value().strip():
            problems.append((("web", "auth", "users", i, "password_hash"), "is empty"))
    if auth.mode == "local" and not auth.users:
        problems.append(
            (("web", "auth", "users"), "local sign-in needs at least one user (socialmon web hash-password)")
        )
    if auth.mode == "proxy" and not auth.trusted_proxies:
        problems.append(
            (("web", "auth", "trusted_proxies"), "proxy sign-in needs the address of the proxy to trust")
        )
    if auth.mode == "proxy" and auth.users:
        problems.append((("web", "auth", "users"), "users are for mode: local (the proxy signs people in)"))
    if auth.mode == "local":
        for identity in web.roles:
            if identity not in seen:
                problems.append((("web", "roles", identity), "is not one of web.auth.users"))
    if not web.roles:
        problems.append((("web", "roles"), "gives nobody a role: every page would be refused"))
    return problems
