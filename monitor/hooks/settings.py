"""The `webhooks:` section of the configuration (off when absent).

    webhooks:
      listen: 127.0.0.1:8081
      public_url: https://hooks.socialmon.example.ac.uk
      meta: {app_secret: "${META_APP_SECRET}", verify_token: "${META_VERIFY_TOKEN}"}
      youtube: {secret: "${WEBSUB_SECRET}"}

Secrets are `SecretStr` (masked in `check-config`, logs and errors like every other secret).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

# WebSub: hub.secret "MUST be less than 200 bytes in length" (W3C WebSub 5.1).
WEBSUB_SECRET_MAX_BYTES = 199
MIN_SECRET_CHARS = 16


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _long_enough(value: SecretStr, what: str) -> SecretStr:
    if len(value.get_secret_value()) < MIN_SECRET_CHARS:
        raise ValueError(f"{what} must be at least {MIN_SECRET_CHARS} characters")
    return value


class MetaHooks(_Strict):
    app_secret: SecretStr
    verify_token: SecretStr

    @field_validator("app_secret")
    @classmethod
    def _secret(cls, value: SecretStr) -> SecretStr:
        return _long_enough(value, "the app secret")

    @field_validator("verify_token")
    @classmethod
    def _token(cls, value: SecretStr) -> SecretStr:
        return _long_enough(value, "the verify token")


class YouTubeHooks(_Strict):
    secret: SecretStr

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: SecretStr) -> SecretStr:
        _long_enough(value, "the WebSub secret")
        if len(value.get_secret_value().encode("utf-8")) > WEBSUB_SECRET_MAX_BYTES:
            raise ValueError("the WebSub secret must be less than 200 bytes (WebSub hub.secret)")
        return value


class Webhooks(_Strict):
    listen: str = "127.0.0.1:8081"
    public_url: str
    meta: MetaHooks | None = None
    youtube: YouTubeHooks | None = None

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError(f"{value!r} is not HOST:PORT (e.g. 127.0.0.1:8081)")
        return value

    @field_validator("public_url")
    @classmethod
    def _public(cls, value: str) -> str:
        parts = urlsplit(value)
        loopback = (parts.hostname or "") in {"localhost", "::1"} or (parts.hostname or "").startswith("127.")
        if parts.scheme == "https" and parts.hostname:
            return value.rstrip("/")
        if parts.scheme == "http" and loopback:  # the sandbox and tests
            return value.rstrip("/")
        raise ValueError("must be an https URL (the platforms call it; plain http only to a loopback host)")

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    def meta_callback(self) -> str:
        return f"{self.public_url}/hooks/meta"

    def youtube_callback(self, account_id: str) -> str:
        # WebSub: the subscriber must not identify a delivery by its Link headers, so the callback
        # URL names the account (hubs keep its query string).
        return f"{self.public_url}/hooks/youtube?account={account_id}"
