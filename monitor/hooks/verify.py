"""Signatures, verify tokens and challenges: pure functions, constant-time comparisons.

- Meta signs each delivery's raw body with HMAC-SHA256 keyed by the app secret, in
  `X-Hub-Signature-256: sha256=<hex>` (developers.facebook.com/docs/graph-api/webhooks/getting-started).
- A WebSub hub signs with the subscription's `hub.secret`, in `X-Hub-Signature: <method>=<hex>`,
  method one of sha1, sha256, sha384, sha512 (W3C WebSub, "Authenticated Content Distribution");
  Google's hub uses sha1.
"""

from __future__ import annotations

import hashlib
import hmac
import re

WEBSUB_METHODS = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
MAX_CHALLENGE = 200  # a hub's challenge is a short token; anything longer is not one


def sign(secret: str, body: bytes, method: str = "sha256") -> str:
    """`method=hexdigest` for a body (what Meta and WebSub hubs send; the sandbox signs with it)."""
    return f"{method}={hmac.new(secret.encode('utf-8'), body, WEBSUB_METHODS[method]).hexdigest()}"


def check_signature(header: str | None, secret: str, body: bytes, allowed: tuple[str, ...]) -> str:
    """'' when `header` is a valid signature of `body`; else why not (missing, malformed, wrong)."""
    if not header:
        return "missing"
    method, sep, given = header.strip().partition("=")
    method = method.lower()
    if not sep or method not in allowed or not _HEX.match(given):
        return "malformed"
    expected = hmac.new(secret.encode("utf-8"), body, WEBSUB_METHODS[method]).hexdigest()
    return "" if hmac.compare_digest(expected, given.lower()) else "wrong"


def same_secret(given: str | None, expected: str) -> bool:
    """A verify token compared in constant time."""
    return given is not None and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def safe_challenge(value: str | None) -> str | None:
    """The challenge to echo, if it is a short token (we echo it as text/plain, never as HTML)."""
    if not value or len(value) > MAX_CHALLENGE or not value.isprintable():
        return None
    return value


def body_digest(body: bytes) -> str:
    """What identifies a delivery for replay refusal: the same signed body twice is one delivery."""
    return hashlib.sha256(body).hexdigest()
