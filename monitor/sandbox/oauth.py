"""Credentials as the sandbox answers them: Meta's token facts (`debug_token`, system users) and
X's OAuth 2.0 authorization code flow with PKCE and rotating refresh tokens.

X (https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token):
  GET  /i/oauth2/authorize?response_type=code&client_id&redirect_uri&scope&state&code_challenge
       &code_challenge_method=S256[&as=<handle>]  -> 302 to redirect_uri?state=..&code=..
       (the sandbox has no login page: `as` names the account that approves; default the first X one)
  POST /2/oauth2/token  grant_type=authorization_code (code, redirect_uri, code_verifier, client_id)
                        grant_type=refresh_token (refresh_token, client_id)
       -> {token_type, expires_in: 7200, access_token, scope, refresh_token}
  Every refresh invalidates the refresh token it used and returns a new one, as X does; a used,
  revoked or unknown one is `400 {"error": "invalid_request", "error_description": ...}`.
  Admin: POST /_admin/oauth {account, revoke: true} revokes the account's grants;
  {account, expire: true} makes its access tokens expire now.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

ACCESS_LIFETIME = timedelta(hours=2)

# The permissions a Meta token has unless the scenario says otherwise.
META_SCOPES = {
    "facebook": [
        "pages_show_list",
        "pages_read_engagement",
        "pages_read_user_content",
        "pages_manage_metadata",
        "pages_manage_posts",
        "pages_messaging",
    ],
    "instagram": ["instagram_basic", "instagram_manage_comments", "pages_show_list", "pages_read_engagement"],
}


@dataclass
class SystemUser:
    """A Meta business's system user: one token that gives each assigned Page its Page token."""

    token: str
    pages: list[str]  # account keys
    scopes: list[str]
    expires: datetime | None = None
    granular: dict[str, list[str]] | None = None  # scope -> account keys it covers (default: all pages)


@dataclass
class Grant:
    account: str  # account key
    scopes: list[str]
    expires: datetime


@dataclass
class OAuthState:
    codes: dict[str, tuple[str, str, str, list[str]]] = field(
        default_factory=dict
    )  # code -> account, challenge, uri, scopes
    access: dict[str, Grant] = field(default_factory=dict)
    refresh: dict[str, Grant] = field(default_factory=dict)
    refreshes: int = 0

    def authorize(self, account: str, query: dict[str, str]) -> tuple[int, dict[str, str]]:
        missing = [k for k in ("client_id", "redirect_uri", "code_challenge", "state") if not query.get(k)]
        if missing or query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            return 400, {
                "error": "invalid_request",
                "error_description": f"missing or bad: {', '.join(missing) or 'response_type'}",
            }
        code = secrets.token_urlsafe(24)
        scopes = (query.get("scope") or "").split()
        self.codes[code] = (account, query["code_challenge"], query["redirect_uri"], scopes)
        location = f"{query['redirect_uri']}?{urlencode({'state': query['state'], 'code': code})}"
        return 302, {"location": location}

    def token(self, body: bytes, now: datetime) -> tuple[int, dict[str, Any]]:
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        kind = form.get("grant_type")
        if kind == "authorization_code":
            entry = self.codes.pop(form.get("code", ""), None)
            if entry is None:
                return _invalid("Value passed for the authorization code was invalid.")
            account, challenge, uri, scopes = entry
            verifier = form.get("code_verifier", "")
            digest = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            )
            if digest != challenge or form.get("redirect_uri") != uri:
                return _invalid("Value passed for the code_verifier or redirect_uri was invalid.")
            return 200, self._issue(account, scopes, now)
        if kind == "refresh_token":
            grant = self.refresh.pop(form.get("refresh_token", ""), None)
            if grant is None:
                return _invalid("Value passed for the token was invalid.")
            self.refreshes += 1
            return 200, self._issue(grant.account, grant.scopes, now)
        return _invalid("Missing or unsupported grant_type.")

    def _issue(self, account: str, scopes: list[str], now: datetime) -> dict[str, Any]:
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.access[access] = Grant(account, scopes, now + ACCESS_LIFETIME)
        body: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": int(ACCESS_LIFETIME.total_seconds()),
            "access_token": access,
            "scope": " ".join(scopes),
        }
        if "offline.access" in scopes:
            self.refresh[refresh] = Grant(account, scopes, now)
            body["refresh_token"] = refresh
        return body

    def revoke(self, account: str) -> None:
        for table in (self.access, self.refresh):
            for token in [t for t, g in table.items() if g.account == account]:
                del table[token]

    def expire(self, account: str, now: datetime) -> None:
        for grant in self.access.values():
            if grant.account == account:
                grant.expires = now - timedelta(seconds=1)


def _invalid(description: str) -> tuple[int, dict[str, Any]]:
    return 400, {"error": "invalid_request", "error_description": description}
