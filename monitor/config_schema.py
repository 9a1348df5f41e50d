"""The configuration schema: pydantic v2 models and the rules that span fields.

`monitor.config_loader` reads YAML into these models and locates each problem in the file;
`monitor.config` re-exports both, so `from monitor.config import Config` keeps working.
"""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field, SecretStr, create_model, field_validator

from connectors.specs import (
    CREDENTIAL_FIELDS,
    PLATFORM_NAMES,
    SPECS,
)
from monitor.config_fields import (
    SLUG,
    Duration,
    Email,
    Strict,
    TimeOfDay,
    zone_info,
)
from monitor.hooks.settings import Webhooks
from monitor.hours import WeeklyHours, parse_hours
from monitor.notifiers.specs import CHANNELS, ChannelSettings, EmailChannel
from monitor.web_config import Web, web_problems

Problems = list[tuple[tuple[Any, ...], str]]

# ---------------------------------------------------------------------------------------------
# Platforms


class PlatformsBase(Strict):
    """`platforms:`: one settings model per platform, from the platform specs."""

    def settings_for(self, platform: str) -> Any:
        return getattr(self, platform)


class CadenceBase(Strict):
    """`policy.cadence`: a default and one optional interval per platform, from the platform specs."""

    default: Duration = timedelta(days=7)

    def for_platform(self, platform: str) -> timedelta:
        value: timedelta | None = getattr(self, platform, None)
        return value or self.default


if TYPE_CHECKING:
    Platforms = PlatformsBase
    Cadence = CadenceBase
    PlatformName = str
else:
    Platforms = create_model(
        "Platforms",
        __base__=PlatformsBase,
        **{name: (spec.settings, spec.settings()) for name, spec in SPECS.items()},
    )
    Cadence = create_model(
        "Cadence",
        __base__=CadenceBase,
        **{name: (Duration | None, spec.default_cadence) for name, spec in SPECS.items()},
    )
    PlatformName = Literal[PLATFORM_NAMES]


# ---------------------------------------------------------------------------------------------
# Policy and calendar


def _domain(value: Any) -> str:
    text = str(value).strip().lower().removeprefix("https://").removeprefix("http://").strip("/")
    text = text.removeprefix("www.")
    if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", text):
        raise ValueError(f"{value!r} is not a domain name (e.g. bangor.ac.uk)")
    return text


def _pattern(value: Any) -> str:
    text = str(value)
    try:
        re.compile(text)
    except re.error as exc:
        raise ValueError(f"{text!r} is not a regular expression: {exc}") from None
    return text


class Policy(Strict):
    poll_interval: Duration = timedelta(minutes=15)
    emergency_poll_interval: Duration = timedelta(seconds=60)
    cadence: Cadence = Cadence()
    reply_sla: Duration = timedelta(hours=4)
    counterpart_window: Duration = timedelta(minutes=30)
    backfill: Duration = timedelta(days=7)
    failure_tolerance: Duration = timedelta(hours=1)
    redirect_max_chars: int = Field(default=280, gt=0)
    language_report: Literal["monthly"] | None = None  # the parity report to the `reports` route
    # Second-wave checks (issue 12): post-anomaly, personal-data, clickable, counterpart, access-review.
    official_domains: list[Annotated[str, BeforeValidator(_domain)]] = []
    official_phone_numbers: list[str] = []
    personal_data_patterns: list[Annotated[str, BeforeValidator(_pattern)]] = []
    clickable_min_share: float = Field(default=0.5, ge=0, le=1)
    counterpart_min_share: float = Field(default=0.5, ge=0, le=1)
    access_review: Duration = timedelta(days=180)
    token_warning: Duration = timedelta(days=14)  # credential-expiry warns this long before expiry


def _closure(value: Any) -> str:
    text = str(value).strip()
    try:
        if ".." in text:
            first, last = (date.fromisoformat(p.strip()) for p in text.split("..", 1))
            if last < first:
                raise ValueError(f"{text!r}: the range ends before it starts")
        else:
            date.fromisoformat(text)
    except ValueError as exc:
        if "ends before" in str(exc):
            raise
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or a range (YYYY-MM-DD..YYYY-MM-DD)") from None
    return text


class Calendar(Strict):
    bank_holidays: str | None = "GB-WLS"
    closures: list[Annotated[str, BeforeValidator(_closure)]] = []

    @field_validator("bank_holidays")
    @classmethod
    def _known_calendar(cls, value: str | None) -> str | None:
        if value is None:
            return None
        import holidays  # heavy (every country's calendar): only when a config is validated

        country, _, subdiv = value.partition("-")
        try:
            holidays.country_holidays(country, subdiv=subdiv or None)
        except (NotImplementedError, KeyError):
            raise ValueError(f"{value!r} is not a known holiday calendar (e.g. GB-WLS)") from None
        return value

    def closure_days(self) -> set[date]:
        days: set[date] = set()
        for entry in self.closures:
            if ".." in entry:
                first, last = (date.fromisoformat(p.strip()) for p in entry.split("..", 1))
                days.update(first + timedelta(days=i) for i in range((last - first).days + 1))
            else:
                days.add(date.fromisoformat(entry))
        return days


# ---------------------------------------------------------------------------------------------
# Accounts


class PairedLanguage(Strict):
    mode: Literal["paired"]
    pair: str
    lang: Literal["cy", "en"]


class BilingualLanguage(Strict):
    mode: Literal["bilingual"]


class ExemptLanguage(Strict):
    mode: Literal["exempt"]
    reason: str = Field(min_length=3)


LanguageSetting = Annotated[PairedLanguage | BilingualLanguage | ExemptLanguage, Field(discriminator="mode")]


class CredentialsBase(Strict):
    """Per-account credentials overriding the platform's (e.g. a Page token per Page): one optional
    field per credential any platform uses (`PlatformSpec.credential`)."""

    def secret(self, name: str) -> SecretStr | None:
        value: SecretStr | None = getattr(self, name, None)
        return value


if TYPE_CHECKING:
    AccountCredentials = CredentialsBase
else:
    AccountCredentials = create_model(
        "AccountCredentials",
        __base__=CredentialsBase,
        **{name: (SecretStr | None, None) for name in CREDENTIAL_FIELDS},
    )


def _hours(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("monitoring_hours must be text like 'Mon-Fri 09:00-17:00' or '24/7'")
    parse_hours(value)
    return value


class Account(Strict):
    id: str = Field(pattern=SLUG)
    platform: PlatformName
    handle: str | None = None
    native_id: str | None = None
    name: str = Field(min_length=1)
    unit: str = ""
    role: Literal["central", "departmental"] = "departmental"
    language: LanguageSetting
    # Registry gaps (hours, people, manager) are findings of the `registry` check, not config errors.
    monitoring_hours: Annotated[str, BeforeValidator(_hours)] | None = None
    timezone: str | None = None
    people: list[Email] = []
    manager: Email | None = None
    poll_interval: Duration | None = None
    credentials: AccountCredentials | None = None
    cadence: Duration | None = None
    reply_sla: Duration | None = None
    enabled: bool = True

    @property
    def hours(self) -> WeeklyHours | None:
        return parse_hours(self.monitoring_hours) if self.monitoring_hours else None

    @property
    def is_central(self) -> bool:
        return self.role == "central"

    @property
    def pair(self) -> str | None:
        return self.language.pair if isinstance(self.language, PairedLanguage) else None

    @property
    def own_language(self) -> str | None:
        return self.language.lang if isinstance(self.language, PairedLanguage) else None

    def label(self) -> str:
        return f"{self.name} ({self.platform}:{self.handle or self.native_id or self.id})"


# ---------------------------------------------------------------------------------------------
# Alerts


# One settings model per channel type, from the channel registry (monitor/notifiers/specs.py).
if TYPE_CHECKING:
    Channel = ChannelSettings
else:
    Channel = Annotated[Union[tuple(CHANNELS.values())], Field(discriminator="type")]  # noqa: UP007


class Route(Strict):
    channels: list[str] = Field(min_length=1)
    at: TimeOfDay | None = None  # digest time, in the configured time zone
    repeat: Duration | None = None  # repeat an open finding at this interval
    min_severity: Literal["info", "low", "warning", "high", "critical"] | None = None
    checks: list[str] | None = None  # custom routes: which checks they take
    accounts: list[str] | None = None  # custom routes: which accounts they take


class Alerts(Strict):
    channels: dict[str, Channel] = {}
    routes: dict[str, Route] = {}
    manager_routing: bool = False  # also email an account's manager about its own findings
    manager_channel: str | None = None  # an email channel whose server sends manager mail


class Service(Strict):
    data_dir: str | None = None
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9464, ge=0, lt=65536)
    emergency_check_interval: Duration = timedelta(seconds=2)
    sender_interval: Duration = timedelta(seconds=5)
    # The heartbeat is also the database-writable probe behind /healthz; at most 20 s, so a live
    # instance never looks dead to `status` (a heartbeat older than 30 s is a dead instance).
    heartbeat_interval: Duration = Field(default=timedelta(seconds=10), le=timedelta(seconds=20))
    # How long the heartbeat's write waits for a locked SQLite database before /healthz says it is
    # not writable (SQLite's busy timeout on the heartbeat's own connection). At most 30 s: with the
    # longest heartbeat_interval the 503 still comes within a minute.
    heartbeat_timeout: Duration = Field(default=timedelta(seconds=15), le=timedelta(seconds=30))
    # SIGTERM: running jobs get this long to finish. At most 12 s, so the process is gone before the
    # shipped unit's TimeoutStopSec=15 (the default 8 s means an exit within 10 s).
    shutdown_grace: Duration = Field(default=timedelta(seconds=8), le=timedelta(seconds=12))
    # A standby's attempts to take the lead, and the leader's checks that it still holds it. At most
    # 10 s: with ~15 s for the database to drop a vanished leader, a standby leads within 30 s.
    leader_check_interval: Duration = Field(default=timedelta(seconds=2), le=timedelta(seconds=10))
    budget_interval: Duration = timedelta(minutes=1)  # re-plan polling from the platforms' rate limits
    housekeeping_interval: Duration = timedelta(hours=6)
    retention: Duration = timedelta(days=400)
    lock_id: int = 0x50C1A1


class Discovery(Strict):
    """`discovery:`: accounts `accounts discover` finds that are not corporate (not registered on
    purpose), as "platform:native_id" or "platform:@handle"."""

    ignore: list[str] = []

    @field_validator("ignore")
    @classmethod
    def _entries(cls, values: list[str]) -> list[str]:
        for value in values:
            platform, _, ref = value.partition(":")
            if platform not in PLATFORM_NAMES or not ref:
                raise ValueError(f"{value!r} is not 'platform:native_id' or 'platform:@handle'")
        return values

    def ignores(self, platform: str, native_id: str, handle: str) -> bool:
        refs = (
            {f"{platform}:{native_id}", f"{platform}:@{handle.lower()}"}
            if handle
            else {f"{platform}:{native_id}"}
        )
        return any(entry.lower() in refs or entry in refs for entry in self.ignore)


class Config(Strict):
    timezone: str = "Europe/London"
    locale: Literal["cy", "en", "cy+en"] = "en"  # what people read: Welsh, English or both (Welsh first)
    database: str | None = None
    platforms: Platforms = Platforms()
    policy: Policy = Policy()
    calendar: Calendar = Calendar()
    accounts: list[Account] = Field(min_length=1)
    alerts: Alerts = Alerts()
    service: Service = Service()
    webhooks: Webhooks | None = None  # platform webhooks as poll hints (monitor/hooks); off when absent
    web: Web | None = None  # the dashboard (monitor/web_config.py); off when absent
    discovery: Discovery = Discovery()
    source: str = Field("", exclude=True)  # the file it came from (set by the loader)
    load_warnings: tuple[str, ...] = Field((), exclude=True)  # valid but risky (set by the loader)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        zone_info(value)
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def account(self, account_id: str) -> Account:
        for account in self.accounts:
            if account.id == account_id:
                return account
        raise KeyError(account_id)

    def account_tz(self, account: Account) -> ZoneInfo:
        return ZoneInfo(account.timezone or self.timezone)

    def data_dir(self) -> Path:
        configured = (
            self.service.data_dir or os.environ.get("SOCIALMON_DATA_DIR") or os.environ.get("STATE_DIRECTORY")
        )
        return Path(configured).expanduser() if configured else Path.home() / ".local/share/socialmon"

    def database_url(self) -> str:
        """The database URL; relative SQLite paths are relative to the data directory."""
        url = self.database or "sqlite:///socialmon.db"
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            relative = url.removeprefix("sqlite:///")
            if relative and relative != ":memory:" and not Path(relative).is_absolute():
                return f"sqlite:///{self.data_dir() / relative}"
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            return "postgresql+psycopg://" + url.split("://", 1)[1]
        return url


def cross_checks(config: Config) -> list[tuple[tuple[Any, ...], str]]:
    """Rules that span fields; each problem is (key path, message)."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    problems += _account_problems(config)
    problems += _route_problems(config)
    problems += _database_problems(config)
    problems += web_problems(config.web)
    return problems


def _account_problems(config: Config) -> list[tuple[tuple[Any, ...], str]]:
    problems: list[tuple[tuple[Any, ...], str]] = []
    by_id = {a.id: a for a in config.accounts}
    seen_ids: set[str] = set()
    seen_handles: dict[tuple[str, str], str] = {}
    for i, account in enumerate(config.accounts):
        if account.id in seen_ids:
            problems.append((("accounts", i, "id"), f"duplicate account id {account.id!r}"))
        seen_ids.add(account.id)
        for kind, value in (("handle", account.handle), ("native_id", account.native_id)):
            if value:
                key = (account.platform, f"{kind}:{value.lower()}")
                if key in seen_handles:
                    problems.append(
                        ((("accounts", i, kind)), f"{value!r} is also account {seen_handles[key]!r}")
                    )
                seen_handles.setdefault(key, account.id)
        if not account.handle and not account.native_id:
            problems.append((("accounts", i), "needs a handle or a native_id"))
        problems += _required_id_problems(account, i)
        if account.timezone:
            try:
                zone_info(account.timezone)
            except ValueError as exc:
                problems.append((("accounts", i, "timezone"), str(exc)))
        if account.credentials is not None:
            wanted = SPECS[account.platform].credential
            for name in CREDENTIAL_FIELDS:
                if name != wanted and account.credentials.secret(name) is not None:
                    problems.append(
                        (
                            ("accounts", i, "credentials", name),
                            f"not used on {account.platform} (it uses {wanted})",
                        )
                    )
        problems += _pair_problems(account, i, by_id)
    if not any(a.role == "central" for a in config.accounts):
        problems.append((("accounts",), "at least one account must have role: central"))
    return problems


def _required_id_problems(account: Account, i: int) -> list[tuple[tuple[Any, ...], str]]:
    """The ids the platform's connector cannot poll without (`PlatformSpec.required_ids`)."""
    spec = SPECS[account.platform]
    return [
        (
            ("accounts", i, name),
            f"{account.platform} needs {name}: {spec.id_help.get(name, 'the platform id')}",
        )
        for name in spec.required_ids
        if not getattr(account, name)
    ]


def _pair_problems(account: Account, i: int, by_id: dict[str, Account]) -> list[tuple[tuple[Any, ...], str]]:
    pair = account.pair
    if pair is None:
        return []
    where = ("accounts", i, "language", "pair")
    other = by_id.get(pair)
    if other is None:
        return [(where, f"names {pair!r}, which is not an account id")]
    if other is account or other.id == account.id:
        return [(where, "an account cannot be its own pair")]
    if other.pair != account.id:
        return [(where, f"{pair!r} does not name {account.id!r} as its pair: pairs are mutual")]
    if other.own_language == account.own_language:
        return [
            (("accounts", i, "language", "lang"), f"both accounts of the pair are {account.own_language!r}")
        ]
    if other.platform != account.platform:
        return [
            (where, f"{pair!r} is on {other.platform}, not {account.platform}: a pair is on one platform")
        ]
    return []


def _route_problems(config: Config) -> list[tuple[tuple[Any, ...], str]]:
    problems: list[tuple[tuple[Any, ...], str]] = []
    by_id = {a.id for a in config.accounts}
    for name, route in config.alerts.routes.items():
        for j, channel in enumerate(route.channels):
            if channel not in config.alerts.channels:
                known = ", ".join(sorted(config.alerts.channels)) or "none defined"
                problems.append(
                    (
                        ("alerts", "routes", name, "channels", j),
                        f"names channel {channel!r}, which is not defined ({known})",
                    )
                )
        for j, account_id in enumerate(route.accounts or []):
            if account_id not in by_id:
                problems.append(
                    (
                        ("alerts", "routes", name, "accounts", j),
                        f"names account {account_id!r}, which is not defined",
                    )
                )
    if "digest" in config.alerts.routes and config.alerts.routes["digest"].at is None:
        problems.append((("alerts", "routes", "digest"), 'the digest route needs a time (at: "08:30")'))
    mc = config.alerts.manager_channel
    if mc is not None and not isinstance(config.alerts.channels.get(mc), EmailChannel):
        problems.append((("alerts", "manager_channel"), f"{mc!r} is not an email channel"))
    return problems


SUPPORTED_DATABASES = ("sqlite", "postgresql+psycopg")


def _database_problems(config: Config) -> list[tuple[tuple[Any, ...], str]]:
    from sqlalchemy.engine import make_url  # heavy: only once a config has parsed

    advice = "use sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/NAME"
    try:
        url = make_url(config.database_url())
    except Exception:  # sqlalchemy raises several kinds for text that is not a URL
        return [(("database",), f"not a database URL ({advice})")]
    driver = "sqlite" if url.drivername in {"sqlite", "sqlite+pysqlite"} else url.drivername
    if driver not in SUPPORTED_DATABASES:
        return [(("database",), f"{url.drivername!r} is not a supported database ({advice})")]
    if driver == "postgresql+psycopg" and not url.database:
        return [(("database",), f"names no database ({advice})")]
    return []
