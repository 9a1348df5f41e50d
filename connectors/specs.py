"""What each platform is, as data: the one place that lists platforms.

Each connector class carries its spec as class data (`XConnector.spec is X_SPEC`), the way a
cloud-custodian resource carries its `resource_type`. Config validation, `check-config`, the rate
budget and the poll read these specs; nothing else names a platform. This module imports no
platform SDK (tweepy, facebook-sdk, googleapiclient), so reading a spec costs no startup memory;
the connector itself (`PlatformSpec.connector`) is imported only when an account is polled.

Adding a platform: write `connectors/<platform>.py` (a `BaseConnector` subclass with `spec = ...`)
and add its settings model and `PlatformSpec` here, in `SPECS`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator

from monitor.config_fields import Duration, Strict, check_base_url

# How the rate budget (monitor/budget.py) reads a platform's limits:
# windows: per-endpoint request windows (e.g. X's 15 minutes); usage_percent: a share of a usage
# limit the platform reports (Graph's usage headers); daily_units: a unit quota per day.
BudgetKind = Literal["windows", "usage_percent", "daily_units", "none"]


@dataclass(frozen=True)
class RateBucket:
    """One rate-limited endpoint: its bucket name (as the connector records it) and its window."""

    name: str
    limit: int  # requests per window, used until the platform's own headers say otherwise
    window: timedelta


@dataclass(frozen=True)
class PlatformSpec:
    name: str  # also the key under `platforms:` and `policy.cadence`, and `accounts[].platform`
    connector: str  # "module:Class", imported on first poll
    settings: type[Strict]  # the model of `platforms.<name>`
    credential: str  # the secret field in `platforms.<name>` and `accounts[].credentials`
    required_ids: tuple[str, ...] = ()  # account fields the connector cannot poll without
    id_help: Mapping[str, str] = field(default_factory=dict)  # how to find each required id
    budget: BudgetKind = "none"
    rate_buckets: tuple[RateBucket, ...] = ()
    quota_units: Mapping[str, int] = field(default_factory=dict)  # units per call, by resource
    quota_units_per_poll: float = 0.0  # what a poll spends, until recent polls say otherwise
    quota_zone: str = "UTC"  # the time zone whose midnight starts a new quota day
    quota_zone_name: str = "UTC"  # how people call that zone ("Pacific")
    default_cadence: timedelta | None = None  # `policy.cadence.<name>` when not configured
    # feature (monitor.coverage.FEATURES) -> the permissions/scopes reading it needs; a feature the
    # connector does not read is in `not_read` with why (shown by `accounts verify`).
    permissions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    not_read: Mapping[str, str] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.quota_zone)

    def quota_day(self, now: datetime) -> str:
        """The day a quota unit spent at `now` counts against."""
        return now.astimezone(self.zone).date().isoformat()

    def next_quota_reset(self, now: datetime) -> datetime:
        local = now.astimezone(self.zone)
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), self.zone)
        return midnight.astimezone(now.tzinfo or UTC)

    def until_quota_reset(self, now: datetime) -> timedelta:
        return self.next_quota_reset(now) - now


# --- settings models (`platforms.<name>` in the config) -----------------------------------------


class XPlatform(Strict):
    base_url: str = "https://api.twitter.com"
    bearer_token: SecretStr | None = None
    timeout: Duration = timedelta(seconds=20)
    # OAuth 2.0 user tokens (direct messages), from `socialmon accounts authorize`
    client_id: str | None = None
    client_secret: SecretStr | None = None  # confidential clients only
    redirect_uri: str = "http://127.0.0.1:8976/callback"
    authorize_url: str = "https://x.com/i/oauth2/authorize"
    allow_insecure: bool = False  # plain http base_url to a non-loopback host (monitor.insecure)

    _url = field_validator("base_url")(check_base_url)


class GraphPlatform(Strict):
    base_url: str = "https://graph.facebook.com"
    graph_version: str = "v25.0"
    access_token: SecretStr | None = None
    timeout: Duration = timedelta(seconds=20)
    # The access token is a system-user (or user) token: each Page's own token is fetched with it
    # (`GET /{page-id}?fields=access_token`) and cached, so one token serves every Page.
    page_tokens: bool = False
    allow_insecure: bool = False  # plain http base_url to a non-loopback host (monitor.insecure)

    _url = field_validator("base_url")(check_base_url)

    @field_validator("graph_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not re.fullmatch(r"v\d{1,2}\.\d", value):
            raise ValueError(f"{value!r} is not a Graph API version like v25.0")
        return value


class YouTubePlatform(Strict):
    base_url: str = "https://www.googleapis.com"
    api_key: SecretStr | None = None
    daily_quota: int = Field(default=10_000, gt=0)
    timeout: Duration = timedelta(seconds=20)
    allow_insecure: bool = False  # plain http base_url to a non-loopback host (monitor.insecure)

    _url = field_validator("base_url")(check_base_url)


# --- the specs ----------------------------------------------------------------------------------

X_WINDOW = timedelta(minutes=15)

# Facts and their sources: docs/CONNECTORS.md ("Credentials and permissions", "Rate limits").
X_SPEC = PlatformSpec(
    name="x",
    connector="connectors.x:XConnector",
    settings=XPlatform,
    credential="bearer_token",
    budget="windows",
    # Per-app limits per 15 minutes of the endpoints polled every time, keyed by the connector's
    # bucket names.
    rate_buckets=(
        RateBucket("GET /2/users/:id/tweets", 10_000, X_WINDOW),
        RateBucket("GET /2/users/:id/mentions", 450, X_WINDOW),
    ),
    default_cadence=timedelta(hours=48),
    permissions=MappingProxyType(
        {
            "posts": (),  # the app-only bearer token
            "comments": (),  # mentions and replies, with the app-only bearer token
            "direct_messages": ("dm.read", "tweet.read", "users.read", "offline.access"),
            "profile": (),
        }
    ),
    not_read=MappingProxyType(
        {
            "scheduled_posts": "the X API v2 has no endpoint for scheduled posts",
            "captions": "X video captions are not in the X API v2",
        }
    ),
)

FACEBOOK_SPEC = PlatformSpec(
    name="facebook",
    connector="connectors.facebook:FacebookConnector",
    settings=GraphPlatform,
    credential="access_token",
    budget="usage_percent",
    default_cadence=timedelta(hours=48),
    permissions=MappingProxyType(
        {
            "posts": ("pages_read_engagement",),
            "comments": ("pages_read_engagement", "pages_read_user_content"),
            "direct_messages": ("pages_messaging", "pages_manage_metadata"),
            "scheduled_posts": ("pages_manage_posts",),  # and the CREATE_CONTENT task on the Page
            "profile": ("pages_read_engagement",),
        }
    ),
    not_read=MappingProxyType({"captions": "Facebook video captions are not read by the connector"}),
)

INSTAGRAM_SPEC = PlatformSpec(
    name="instagram",
    connector="connectors.instagram:InstagramConnector",
    settings=GraphPlatform,
    credential="access_token",
    required_ids=("native_id",),  # the IG professional account id; Graph cannot look up a handle
    id_help=MappingProxyType(
        {
            "native_id": "the Instagram professional account id (Graph cannot look up a handle); "
            "`socialmon accounts discover` lists it"
        }
    ),
    budget="usage_percent",
    permissions=MappingProxyType(
        {
            "posts": ("instagram_basic", "pages_read_engagement"),
            "comments": ("instagram_basic", "instagram_manage_comments"),
            "profile": ("instagram_basic",),
        }
    ),
    not_read=MappingProxyType(
        {
            "direct_messages": "Instagram DMs are not read by the connector",
            "scheduled_posts": "the Instagram Graph API does not list scheduled posts",
            "captions": "Instagram video captions are not in the Graph API",
        }
    ),
)

YOUTUBE_SPEC = PlatformSpec(
    name="youtube",
    connector="connectors.youtube:YouTubeConnector",
    settings=YouTubePlatform,
    credential="api_key",
    budget="daily_units",
    quota_units=MappingProxyType(
        {"channels": 1, "playlistItems": 1, "videos": 1, "commentThreads": 1, "comments": 1}
    ),
    quota_units_per_poll=4.0,  # channels + playlistItems + videos + commentThreads
    quota_zone="America/Los_Angeles",  # the quota resets at midnight Pacific time
    quota_zone_name="Pacific",
    permissions=MappingProxyType({"posts": (), "comments": (), "captions": (), "profile": ()}),  # an API key
    not_read=MappingProxyType(
        {
            "direct_messages": "YouTube has no direct messages",
            "scheduled_posts": "scheduled (private) uploads need an OAuth token of the channel; "
            "socialmon reads public data with an API key",
        }
    ),
)

# The registry: every platform, in the order they are listed to people.
SPECS: Mapping[str, PlatformSpec] = MappingProxyType(
    {spec.name: spec for spec in (X_SPEC, FACEBOOK_SPEC, INSTAGRAM_SPEC, YOUTUBE_SPEC)}
)
PLATFORM_NAMES: tuple[str, ...] = tuple(SPECS)
# Every credential field any platform uses (the fields of `accounts[].credentials`), in order.
CREDENTIAL_FIELDS: tuple[str, ...] = tuple(dict.fromkeys(spec.credential for spec in SPECS.values()))


def platform_spec(name: str) -> PlatformSpec:
    try:
        return SPECS[name]
    except KeyError:
        raise ValueError(f"no connector for platform {name!r} (known: {', '.join(SPECS)})") from None
