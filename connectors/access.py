"""What each platform says about a credential: `accounts verify`, `accounts discover`, Meta Page
tokens and X OAuth 2.0 (PKCE, refresh). Platform JSON is read here and nowhere else; callers get
the neutral records of `monitor.coverage`.

Endpoints (host = `platforms.<p>.base_url`; Graph paths start with `/{graph_version}`):
  Meta   GET /debug_token?input_token=T&access_token=T  -> data.{is_valid, expires_at,
           data_access_expires_at, scopes, granular_scopes, type, error.message}
         GET /{page-or-handle}?fields=id,name,username[,access_token]   (the Page's id and token)
         GET /{page-id}/scheduled_posts?limit=1&fields=id               (probe: may the token read it)
         GET /me/accounts?fields=id,name,username,instagram_business_account{id,username,name}
  X      GET /2/users/by/username/{handle} (bearer)  GET /2/users/me (user token)
         POST /2/oauth2/token  grant_type=authorization_code | refresh_token
  YouTube GET /youtube/v3/channels?part=id,snippet&forHandle=@h | id=UC...&key=K
Facts and sources: docs/ONBOARDING.md.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests

from connectors.specs import PlatformSpec
from monitor.config import RESOLVED_SECRETS, Account, GraphPlatform, XPlatform, YouTubePlatform
from monitor.coverage import (
    FEATURES,
    Coverage,
    CredentialFacts,
    DiscoveredAccount,
    RefreshRejected,
    TokenGrant,
    Verification,
)
from monitor.logs import redact

PAGE_TOKEN_TTL = timedelta(hours=24)


class AccessError(Exception):
    """The platform could not be asked (network, 5xx): nothing is known about the credential."""


# --- HTTP ------------------------------------------------------------------------------------


def _session(transport: Any) -> requests.Session:
    return transport if isinstance(transport, requests.Session) else requests.Session()


def _json(
    transport: Any,
    method: str,
    url: str,
    timeout: timedelta,
    *,
    params: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    try:
        response = _session(transport).request(
            method, url, params=params, data=data, headers=headers, auth=auth, timeout=timeout.total_seconds()
        )
    except requests.RequestException as exc:
        raise AccessError(f"{url.split('?')[0]}: {type(exc).__name__}") from None
    if response.status_code >= 500:
        raise AccessError(f"{url.split('?')[0]}: HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise AccessError(f"{url.split('?')[0]}: the answer is not JSON") from None
    return response.status_code, body if isinstance(body, dict) else {}


def _epoch(value: Any) -> datetime | None:
    """Meta's expiry epochs: 0 means never."""
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(seconds, UTC) if seconds > 0 else None


def _not_read(spec: PlatformSpec) -> dict[str, Coverage]:
    return {feature: Coverage(None, reason) for feature, reason in spec.not_read.items()}


def _ordered(coverage: dict[str, Coverage]) -> dict[str, Coverage]:
    return {feature: coverage[feature] for feature in FEATURES if feature in coverage}


# --- Meta (Facebook Pages, Instagram) ---------------------------------------------------------


@dataclass(frozen=True)
class GraphNode:
    id: str
    name: str
    username: str
    access_token: str | None


class Graph:
    def __init__(self, settings: GraphPlatform, transport: Any = None):
        self.settings = settings
        self.transport = transport

    def get(self, path: str, token: str, **params: Any) -> tuple[int, dict[str, Any]]:
        url = f"{self.settings.base_url.rstrip('/')}/{self.settings.graph_version}/{path.lstrip('/')}"
        return _json(
            self.transport, "GET", url, self.settings.timeout, params={**params, "access_token": token}
        )

    def debug_token(self, token: str) -> CredentialFacts:
        status, body = self.get("debug_token", token, input_token=token)
        data = body.get("data") if isinstance(body.get("data"), dict) else None
        if data is None:
            return CredentialFacts(valid=False, problem=_graph_message(body) or f"HTTP {status}")
        scopes = tuple(str(s) for s in data.get("scopes") or ())
        problem = ""
        if not data.get("is_valid"):
            error = data.get("error") if isinstance(data.get("error"), dict) else {}
            problem = redact(str(error.get("message") or "the token is not valid"))
        targets: dict[str, tuple[str, ...]] = {}
        for item in data.get("granular_scopes") or ():
            if isinstance(item, dict) and item.get("scope") and isinstance(item.get("target_ids"), list):
                targets[str(item["scope"])] = tuple(str(t) for t in item["target_ids"])
        return CredentialFacts(
            valid=bool(data.get("is_valid")),
            expires_at=_epoch(data.get("expires_at")),
            data_access_expires_at=_epoch(data.get("data_access_expires_at")),
            scopes=scopes,
            kind=str(data.get("type") or ""),
            problem=problem,
            targets=targets,
        )

    def node(self, ref: str, token: str, *, with_token: bool) -> GraphNode | str:
        """The Page (or IG user) `ref` resolves to, or the platform's reason it does not."""
        fields = "id,name,username" + (",access_token" if with_token else "")
        status, body = self.get(ref, token, fields=fields)
        if status != 200 or "id" not in body:
            return _graph_message(body) or f"HTTP {status}"
        return GraphNode(
            str(body["id"]),
            str(body.get("name") or ""),
            str(body.get("username") or ""),
            str(body["access_token"]) if body.get("access_token") else None,
        )

    def can_read(self, path: str, token: str) -> str | None:
        """None when the token may read `path`; else the platform's reason."""
        status, body = self.get(path, token, fields="id", limit=1)
        return None if status == 200 and "error" not in body else (_graph_message(body) or f"HTTP {status}")

    def my_pages(self, token: str) -> list[dict[str, Any]]:
        fields = "id,name,username,instagram_business_account{id,username,name}"
        status, body = self.get("me/accounts", token, fields=fields, limit=100)
        if status != 200:
            raise AccessError(f"/me/accounts: {_graph_message(body) or f'HTTP {status}'}")
        return [p for p in body.get("data") or [] if isinstance(p, dict)]


def _graph_message(body: dict[str, Any]) -> str:
    error = body.get("error")
    return redact(str(error.get("message") or "")) if isinstance(error, dict) else ""


# Page tokens fetched with a system-user token, per (configured token digest, Page), for a day.
_PAGE_TOKENS: dict[tuple[str, str], tuple[str, datetime]] = {}


def page_token(settings: GraphPlatform, transport: Any, token: str, page_ref: str, now: datetime) -> str:
    """The Page's own token, fetched with the configured system-user token and cached for a day;
    the configured token itself when the Page answers none (it already is a Page token)."""
    key = (hashlib.sha256(token.encode()).hexdigest()[:16], page_ref)
    cached = _PAGE_TOKENS.get(key)
    if cached and cached[1] > now:
        return cached[0]
    node = Graph(settings, transport).node(page_ref, token, with_token=True)
    if isinstance(node, str) or not node.access_token:
        return token
    RESOLVED_SECRETS.add(node.access_token)  # masked in logs and errors like the configured ones
    for ref in {page_ref, node.id}:  # the next poll may name the Page by the id it learnt
        _PAGE_TOKENS[(key[0], ref)] = (node.access_token, now + PAGE_TOKEN_TTL)
    return node.access_token


META_FIX_WHERE = "to the system user in Business settings > Users > System users (then generate a new token)"


def meta_verify(
    spec: PlatformSpec,
    settings: GraphPlatform,
    transport: Any,
    account: Account,
    token: str | None,
    now: datetime,
    debugged: dict[str, CredentialFacts] | None = None,
) -> Verification:
    """`debugged`: the facts of tokens already asked about in this run (one system-user token
    serves every Page: it is debugged once)."""
    if not token:
        return _no_credential(spec, account, f"platforms.{spec.name}.{spec.credential}")
    graph = Graph(settings, transport)
    digest = hashlib.sha256(token.encode()).hexdigest()
    facts = debugged.get(digest) if debugged is not None else None
    if facts is None:
        facts = graph.debug_token(token)
        if debugged is not None:
            debugged[digest] = facts
    verification = Verification(account.id, spec.name, facts)
    if not facts.valid:
        verification.coverage = _all_missing(
            spec, f"the token is not valid: {facts.problem}", "issue a new token"
        )
        return verification
    ref = account.native_id or (account.handle or "").lstrip("@")
    node = graph.node(ref, token, with_token=settings.page_tokens and spec.name == "facebook")
    coverage: dict[str, Coverage] = {}
    if isinstance(node, str):
        reason = f"{ref!r} cannot be read with this token: {node}"
        fix = "give the system user access to this asset" if spec.name == "facebook" else "check native_id"
        verification.coverage = _all_missing(spec, reason, fix)
        return verification
    if not account.native_id:
        verification.native_id = node.id
        verification.config_hint = f'native_id: "{node.id}"'
    for feature, needed in spec.permissions.items():
        missing = [p for p in needed if p not in facts.scopes]
        elsewhere = [p for p in needed if p in facts.scopes and not facts.grants(p, node.id)]
        if missing:
            coverage[feature] = Coverage(
                False,
                f"the token lacks {', '.join(missing)}",
                f"grant {', '.join(missing)} {META_FIX_WHERE}",
            )
        elif elsewhere:  # granted, but for other Pages (granular_scopes)
            coverage[feature] = Coverage(
                False,
                f"the token's {', '.join(elsewhere)} does not cover this account ({node.id})",
                f"grant {', '.join(elsewhere)} for this asset too {META_FIX_WHERE}",
            )
        else:
            coverage[feature] = Coverage(True)
    if spec.name == "facebook" and coverage.get("scheduled_posts", Coverage(False)).ok:
        # A permission is not enough: the token's person needs the CREATE_CONTENT task on the Page.
        page_tok = node.access_token or token
        refused = graph.can_read(f"{node.id}/scheduled_posts", page_tok)
        if refused:
            coverage["scheduled_posts"] = Coverage(
                False,
                f"the scheduled queue is refused: {refused}",
                "give the system user the Create content task on the Page",
            )
    coverage.update(_not_read(spec))
    verification.coverage = _ordered(coverage)
    return verification


def meta_discover(settings: GraphPlatform, transport: Any, token: str) -> list[DiscoveredAccount]:
    found: list[DiscoveredAccount] = []
    for page in Graph(settings, transport).my_pages(token):
        found.append(
            DiscoveredAccount(
                "facebook",
                str(page.get("id") or ""),
                str(page.get("name") or ""),
                str(page.get("username") or ""),
            )
        )
        ig = page.get("instagram_business_account")
        if isinstance(ig, dict) and ig.get("id"):
            found.append(
                DiscoveredAccount(
                    "instagram",
                    str(ig["id"]),
                    str(ig.get("name") or ig.get("username") or ""),
                    str(ig.get("username") or ""),
                )
            )
    return [f for f in found if f.native_id]


# --- X ---------------------------------------------------------------------------------------


class XOAuth:
    """OAuth 2.0 Authorization Code with PKCE for X user tokens (scopes incl. offline.access)."""

    SCOPES = ("tweet.read", "users.read", "dm.read", "offline.access")

    def __init__(self, settings: XPlatform, transport: Any = None):
        if not settings.client_id:
            raise AccessError("platforms.x.client_id is not set (the OAuth 2.0 client id of the X app)")
        self.settings = settings
        self.client_id = settings.client_id
        self.transport = transport

    @staticmethod
    def pkce() -> tuple[str, str]:
        verifier = secrets.token_urlsafe(64)[:96]
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        return verifier, challenge

    def authorize_url(self, state: str, challenge: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.settings.redirect_uri,
            "scope": " ".join(self.SCOPES),
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return f"{self.settings.authorize_url}?{urlencode(query)}"

    def exchange(self, code: str, verifier: str, now: datetime) -> TokenGrant:
        return self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.settings.redirect_uri,
                "code_verifier": verifier,
            },
            now,
        )

    def refresh(self, refresh_token: str, now: datetime) -> TokenGrant:
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token}, now)

    def _token(self, form: dict[str, str], now: datetime) -> TokenGrant:
        url = f"{self.settings.base_url.rstrip('/')}/2/oauth2/token"
        secret = self.settings.client_secret
        auth = (self.client_id, secret.get_secret_value()) if secret else None
        status, body = _json(
            self.transport,
            "POST",
            url,
            self.settings.timeout,
            data={**form, "client_id": self.client_id},
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=auth,
        )
        if status in (400, 401) or "access_token" not in body:
            # invalid_grant: a used, revoked or expired refresh token (or code): only a new grant helps.
            reason = str(body.get("error_description") or body.get("error") or f"HTTP {status}")
            raise RefreshRejected(redact(reason))
        expires_in = body.get("expires_in")
        return TokenGrant(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]) if body.get("refresh_token") else None,
            expires_at=now + timedelta(seconds=int(expires_in)) if expires_in else None,
            scopes=tuple(str(body.get("scope") or "").split()),
        )


def x_verify(
    spec: PlatformSpec,
    settings: XPlatform,
    transport: Any,
    account: Account,
    bearer: str | None,
    grant: TokenGrant | None,
    grant_problem: str,
    now: datetime,
) -> Verification:
    if not bearer:
        return _no_credential(spec, account, f"platforms.x.{spec.credential}")
    base = settings.base_url.rstrip("/")
    ref = (
        f"users/{account.native_id}"
        if account.native_id
        else f"users/by/username/{(account.handle or '').lstrip('@')}"
    )
    status, body = _json(
        transport, "GET", f"{base}/2/{ref}", settings.timeout, headers={"Authorization": f"Bearer {bearer}"}
    )
    if status in (401, 403):
        facts = CredentialFacts(False, kind="app-only bearer", problem=_x_problem(body, status))
        verification = Verification(account.id, "x", facts)
        verification.coverage = _all_missing(
            spec,
            f"the bearer token is refused: {facts.problem}",
            "issue a new bearer token in the X developer portal",
        )
        return verification
    data = body.get("data") if isinstance(body.get("data"), dict) else None
    scopes = grant.scopes if grant else ()
    # The user token's expiry is the one that matters when there is one; refreshed automatically.
    # An access token with a refresh token is renewed automatically: its two-hour expiry is no warning.
    expires_at = grant.expires_at if grant and not grant.refresh_token else None
    facts = CredentialFacts(True, expires_at, None, scopes, "oauth2-user" if grant else "app-only bearer")
    verification = Verification(account.id, "x", facts)
    coverage: dict[str, Coverage] = {}
    if data is None:
        reason = f"{ref} not found: {_x_problem(body, status)}"
        for feature in spec.permissions:
            coverage[feature] = Coverage(False, reason, "check the handle or native_id")
    else:
        if not account.native_id:
            verification.native_id = str(data.get("id") or "")
            verification.config_hint = f'native_id: "{verification.native_id}"'
        for feature in ("posts", "comments", "profile"):
            coverage[feature] = Coverage(True)
        coverage["direct_messages"] = _x_dm_coverage(spec, account, grant, grant_problem)
        if not coverage["direct_messages"].ok and grant is None and not grant_problem:
            # No stored user grant: the configured token may still be a user-context one. Ask.
            refused = _x_dm_probe(settings, transport, bearer)
            if refused is None:
                coverage["direct_messages"] = Coverage(True)
    coverage.update(_not_read(spec))
    verification.coverage = _ordered(coverage)
    return verification


def _x_dm_coverage(spec: PlatformSpec, account: Account, grant: TokenGrant | None, problem: str) -> Coverage:
    fix = f"run `socialmon accounts authorize --account {account.id}` (a user token with dm.read)"
    if problem:
        return Coverage(False, problem, fix)
    if grant is None:
        return Coverage(
            False, "direct messages need a user token; the app-only bearer token cannot read them", fix
        )
    missing = [s for s in spec.permissions["direct_messages"] if s not in grant.scopes]
    if missing:
        return Coverage(False, f"the user token lacks {', '.join(missing)}", fix)
    return Coverage(True)


def _x_dm_probe(settings: XPlatform, transport: Any, token: str) -> str | None:
    """None when `token` may read direct messages (GET /2/dm_events), else the reason."""
    url = f"{settings.base_url.rstrip('/')}/2/dm_events"
    status, body = _json(
        transport,
        "GET",
        url,
        settings.timeout,
        params={"max_results": 1},
        headers={"Authorization": f"Bearer {token}"},
    )
    return None if status == 200 else _x_problem(body, status)


def _x_problem(body: dict[str, Any], status: int) -> str:
    text = body.get("detail") or body.get("title")
    errors = body.get("errors")
    if not text and isinstance(errors, list) and errors and isinstance(errors[0], dict):
        text = errors[0].get("detail") or errors[0].get("message")
    return redact(str(text or f"HTTP {status}"))


# --- YouTube ---------------------------------------------------------------------------------


def youtube_verify(
    spec: PlatformSpec, settings: YouTubePlatform, account: Account, key: str | None, now: datetime
) -> Verification:
    if not key:
        return _no_credential(spec, account, f"platforms.youtube.{spec.credential}")
    params: dict[str, Any] = {"part": "id,snippet", "key": key}
    if account.native_id:
        params["id"] = account.native_id
    else:
        params["forHandle"] = "@" + (account.handle or "").lstrip("@")
    url = f"{settings.base_url.rstrip('/')}/youtube/v3/channels"
    status, body = _json(None, "GET", url, settings.timeout, params=params)
    if status in (400, 401, 403) and "error" in body:
        error = body["error"] if isinstance(body["error"], dict) else {}
        facts = CredentialFacts(
            False, kind="api-key", problem=redact(str(error.get("message") or f"HTTP {status}"))
        )
        verification = Verification(account.id, "youtube", facts)
        verification.coverage = _all_missing(
            spec,
            f"the API key is refused: {facts.problem}",
            "enable the YouTube Data API v3 for the key's project, or issue a new key",
        )
        return verification
    verification = Verification(account.id, "youtube", CredentialFacts(True, kind="api-key"))
    items = [i for i in body.get("items") or [] if isinstance(i, dict)]
    coverage: dict[str, Coverage] = {}
    if not items:
        for feature in spec.permissions:
            coverage[feature] = Coverage(False, "the channel was not found", "check the handle or native_id")
    else:
        if not account.native_id:
            verification.native_id = str(items[0].get("id") or "")
            verification.config_hint = f'native_id: "{verification.native_id}"'
        coverage.update({feature: Coverage(True) for feature in spec.permissions})
    coverage.update(_not_read(spec))
    verification.coverage = _ordered(coverage)
    return verification


# --- shared ----------------------------------------------------------------------------------


def _no_credential(spec: PlatformSpec, account: Account, where: str) -> Verification:
    facts = CredentialFacts(
        False, problem=f"no credential: set {where} or accounts[{account.id}].credentials.{spec.credential}"
    )
    verification = Verification(account.id, spec.name, facts)
    verification.coverage = _all_missing(spec, facts.problem, f"set {where}")
    return verification


def _all_missing(spec: PlatformSpec, reason: str, fix: str) -> dict[str, Coverage]:
    coverage = {feature: Coverage(False, reason, fix) for feature in spec.permissions}
    coverage.update(_not_read(spec))
    return _ordered(coverage)
