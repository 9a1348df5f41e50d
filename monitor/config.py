"""Configuration: safe YAML, `${ENV}` / `${file:...}` secrets, pydantic v2 models, located errors.

`load_config(path)` returns a validated `Config` or raises `ConfigError` whose lines each name
the file, the key path (e.g. `accounts[3].language.pair`) and, where the YAML has it, the line.
"""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    ValidationError,
    field_validator,
)

from monitor.durations import format_duration, parse_duration
from monitor.hours import WeeklyHours, parse_hours

DEFAULT_CONFIG_PATH = "config/socialmon.yaml"
MAX_ALIASES = 100
MAX_CONFIG_BYTES = 2 * 1024 * 1024
_SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_SECRET_REF = re.compile(r"\$\{([^}]*)\}")

# Every secret value resolved from the environment or a file; the log redactor masks them.
RESOLVED_SECRETS: set[str] = set()


class ConfigError(Exception):
    """A configuration problem; `lines` are ready to print, one problem each."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


# ---------------------------------------------------------------------------------------------
# Field types


def _duration(value: Any) -> timedelta:
    delta = parse_duration(value)
    if delta <= timedelta(0):
        raise ValueError("must be a positive duration")
    return delta


Duration = Annotated[timedelta, BeforeValidator(_duration), PlainSerializer(format_duration)]


def _email(value: Any) -> str:
    if not isinstance(value, str) or not _EMAIL.match(value.strip()):
        raise ValueError(f"{value!r} is not a valid email address")
    return value.strip()


Email = Annotated[str, BeforeValidator(_email)]


def _hhmm(value: Any) -> str:
    text = str(value)
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"{value!r} is not a time of day like 08:30")
    return f"{int(match[1]):02d}:{match[2]}"


TimeOfDay = Annotated[str, BeforeValidator(_hhmm)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _check_base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value.rstrip("/")


# ---------------------------------------------------------------------------------------------
# Platforms


class XPlatform(Strict):
    base_url: str = "https://api.twitter.com"
    bearer_token: SecretStr | None = None
    timeout: Duration = timedelta(seconds=20)

    _url = field_validator("base_url")(_check_base_url)


class GraphPlatform(Strict):
    base_url: str = "https://graph.facebook.com"
    graph_version: str = "v25.0"
    access_token: SecretStr | None = None
    timeout: Duration = timedelta(seconds=20)

    _url = field_validator("base_url")(_check_base_url)

    @field_validator("graph_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not re.fullmatch(r"v\d{1,2}\.\d", value):
            raise ValueError(f"{value!r} is not a Graph API version like v25.0")
        return value


class YouTubePlatform(Strict):
    base_url: str = "https://www.googleapis.com"
    api_key: SecretStr | None = None
    daily_quota: int = Field(10_000, gt=0)
    timeout: Duration = timedelta(seconds=20)

    _url = field_validator("base_url")(_check_base_url)


class Platforms(Strict):
    x: XPlatform = XPlatform()
    facebook: GraphPlatform = GraphPlatform()
    instagram: GraphPlatform = GraphPlatform()
    youtube: YouTubePlatform = YouTubePlatform()


# ---------------------------------------------------------------------------------------------
# Policy and calendar


class Cadence(Strict):
    default: Duration = timedelta(days=7)
    x: Duration | None = timedelta(hours=48)
    facebook: Duration | None = timedelta(hours=48)
    instagram: Duration | None = None
    youtube: Duration | None = None

    def for_platform(self, platform: str) -> timedelta:
        value: timedelta | None = getattr(self, platform, None)
        return value or self.default


class Policy(Strict):
    poll_interval: Duration = timedelta(minutes=15)
    emergency_poll_interval: Duration = timedelta(seconds=60)
    cadence: Cadence = Cadence()
    reply_sla: Duration = timedelta(hours=4)
    counterpart_window: Duration = timedelta(minutes=30)
    backfill: Duration = timedelta(days=7)
    failure_tolerance: Duration = timedelta(hours=1)
    redirect_max_chars: int = Field(280, gt=0)


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
        import holidays

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


LanguageSetting = Annotated[
    PairedLanguage | BilingualLanguage | ExemptLanguage, Field(discriminator="mode")
]


class AccountCredentials(Strict):
    """Per-account credentials overriding the platform's (e.g. a Page token per Page)."""

    bearer_token: SecretStr | None = None
    access_token: SecretStr | None = None
    api_key: SecretStr | None = None


def _hours(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("monitoring_hours must be text like 'Mon-Fri 09:00-17:00' or '24/7'")
    parse_hours(value)
    return value


class Account(Strict):
    id: str = Field(pattern=_SLUG)
    platform: Literal["x", "facebook", "instagram", "youtube"]
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


class EmailChannel(Strict):
    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(587, gt=0, lt=65536)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    from_: Email = Field(alias="from")
    to: list[Email] = Field(min_length=1)
    timeout: Duration = timedelta(seconds=30)
    verify_tls: bool = True
    ca_file: str | None = None


class TeamsChannel(Strict):
    type: Literal["teams"]
    url: SecretStr
    format: Literal["workflows", "legacy"] = "workflows"
    timeout: Duration = timedelta(seconds=15)

    @field_validator("url")
    @classmethod
    def _https(cls, value: SecretStr) -> SecretStr:
        parts = urlsplit(value.get_secret_value())
        loopback = parts.hostname in {"localhost", "127.0.0.1", "::1"} or (
            parts.hostname or ""
        ).startswith("127.")
        if parts.scheme == "https" and parts.hostname:
            return value
        if parts.scheme == "http" and loopback:
            return value
        raise ValueError("Teams webhook URL must be https (plain http only to a loopback host)")


Channel = Annotated[EmailChannel | TeamsChannel, Field(discriminator="type")]


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
    metrics_port: int = Field(9464, ge=0, lt=65536)
    emergency_check_interval: Duration = timedelta(seconds=2)
    sender_interval: Duration = timedelta(seconds=5)
    housekeeping_interval: Duration = timedelta(hours=6)
    retention: Duration = timedelta(days=400)
    lock_id: int = 0x50C1A1


class Config(Strict):
    timezone: str = "Europe/London"
    database: str | None = None
    platforms: Platforms = Platforms()
    policy: Policy = Policy()
    calendar: Calendar = Calendar()
    accounts: list[Account] = Field(min_length=1)
    alerts: Alerts = Alerts()
    service: Service = Service()
    source: str = Field("", exclude=True)  # the file it came from (set by the loader)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        _zone_info(value)
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
        configured = self.service.data_dir or os.environ.get("SOCIALMON_DATA_DIR") or os.environ.get(
            "STATE_DIRECTORY"
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


def _zone_info(value: str) -> ZoneInfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a time zone (e.g. Europe/London)") from None


# ---------------------------------------------------------------------------------------------
# Loading


class _LimitedLoader(yaml.SafeLoader):
    """SafeLoader (no Python tags) that refuses documents with too many aliases."""

    def __init__(self, stream: Any):
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                event = self.peek_event()
                raise yaml.YAMLError(
                    f"more than {MAX_ALIASES} aliases (line {event.start_mark.line + 1}): refusing a possible alias bomb"
                )
        return super().compose_node(parent, index)


def _line_map(node: yaml.Node | None) -> dict[tuple[Any, ...], int]:
    """Map each key path to its 1-based line in the YAML source."""
    lines: dict[tuple[Any, ...], int] = {}

    def walk(current: yaml.Node, path: tuple[Any, ...], depth: int) -> None:
        if depth > 50:
            return
        lines.setdefault(path, current.start_mark.line + 1)
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
                lines[(*path, key)] = key_node.start_mark.line + 1
                walk(value_node, (*path, key), depth + 1)
        elif isinstance(current, yaml.SequenceNode):
            for i, item in enumerate(current.value):
                walk(item, (*path, i), depth + 1)

    if node is not None:
        walk(node, (), 0)
    return lines


def format_path(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


class _Located:
    def __init__(self, source: str, lines: dict[tuple[Any, ...], int]):
        self.source = source
        self.lines = lines

    def line_for(self, path: tuple[Any, ...]) -> int | None:
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.lines:
                return self.lines[path[:cut]]
        return None

    def message(self, path: tuple[Any, ...], text: str) -> str:
        line = self.line_for(path)
        where = f"{self.source}:{line}" if line else self.source
        return f"{where}: {format_path(path)}: {text}"


def _resolve_secrets(value: Any, path: tuple[Any, ...], env: dict[str, str], problems: list[tuple[Any, str]]) -> Any:
    if isinstance(value, dict):
        return {k: _resolve_secrets(v, (*path, k), env, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_secrets(v, (*path, i), env, problems) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def substitute(match: re.Match[str]) -> str:
        ref = match[1].strip()
        if ref.startswith("file:"):
            file_path = Path(ref[5:]).expanduser()
            try:
                secret = file_path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                problems.append((path, f"cannot read secret file {str(file_path)!r}: {exc.strerror}"))
                return ""
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", ref):
            if ref not in env:
                problems.append((path, f"environment variable {ref} is not set"))
                return ""
            secret = env[ref]
        else:
            problems.append((path, f"${{{ref}}} is not a reference (use ${{ENV_VAR}} or ${{file:/path}})"))
            return ""
        if secret:
            RESOLVED_SECRETS.add(secret)
        return secret

    return _SECRET_REF.sub(substitute, value)


def _pydantic_problems(exc: ValidationError) -> list[tuple[tuple[Any, ...], str]]:
    problems = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in _UNION_TAGS))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "is required"
        elif err["type"] == "union_tag_invalid":
            msg = f"{msg}"
        problems.append((loc, msg))
    return problems


_UNION_TAGS = {"paired", "bilingual", "exempt", "email", "teams", "function-after[_https(), SecretStr]"}


def _cross_checks(config: Config) -> list[tuple[tuple[Any, ...], str]]:
    """Rules that span fields; each problem is (key path, message)."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    ids = [a.id for a in config.accounts]
    by_id = {a.id: a for a in config.accounts}
    seen: set[str] = set()
    for i, account in enumerate(config.accounts):
        if account.id in seen:
            problems.append((("accounts", i, "id"), f"duplicate account id {account.id!r}"))
        seen.add(account.id)
        if not account.handle and not account.native_id:
            problems.append((("accounts", i), "needs a handle or a native_id"))
        if account.timezone:
            try:
                _zone_info(account.timezone)
            except ValueError as exc:
                problems.append((("accounts", i, "timezone"), str(exc)))
        pair = account.pair
        if pair is not None:
            other = by_id.get(pair)
            if other is None:
                problems.append((("accounts", i, "language", "pair"), f"names {pair!r}, which is not an account id"))
            elif other.id == account.id:
                problems.append((("accounts", i, "language", "pair"), "an account cannot be its own pair"))
            elif other.pair != account.id:
                problems.append(
                    (("accounts", i, "language", "pair"), f"{pair!r} does not name {account.id!r} as its pair: pairs are mutual")
                )
            elif other.own_language == account.own_language:
                problems.append((("accounts", i, "language", "lang"), f"both accounts of the pair are {account.own_language!r}"))
    if not any(a.role == "central" for a in config.accounts):
        problems.append((("accounts",), "at least one account must have role: central"))
    for name, route in config.alerts.routes.items():
        for j, channel in enumerate(route.channels):
            if channel not in config.alerts.channels:
                problems.append((("alerts", "routes", name, "channels", j), f"names channel {channel!r}, which is not defined"))
        for j, account_id in enumerate(route.accounts or []):
            if account_id not in by_id:
                problems.append((("alerts", "routes", name, "accounts", j), f"names account {account_id!r}, which is not defined"))
    if "digest" in config.alerts.routes and config.alerts.routes["digest"].at is None:
        problems.append((("alerts", "routes", "digest", "at"), "the digest route needs a time (at: \"08:30\")"))
    mc = config.alerts.manager_channel
    if mc is not None and not isinstance(config.alerts.channels.get(mc), EmailChannel):
        problems.append((("alerts", "manager_channel"), f"{mc!r} is not an email channel"))
    try:
        url = config.database_url()
        if not (url.startswith("sqlite:") or url.startswith("postgresql+psycopg://")):
            raise ValueError
    except ValueError:
        problems.append((("database",), "unsupported database URL (use sqlite:///PATH or postgresql+psycopg://...)"))
    del ids
    return problems


def parse_config(text: str | bytes, source: str = "<config>", env: dict[str, str] | None = None) -> Config:
    """Parse and validate configuration text; raises ConfigError."""
    env = dict(os.environ) if env is None else env
    located = _Located(source, {})
    if isinstance(text, bytes):
        if b"\x00" in text:
            raise ConfigError([f"{source}: not a YAML text file (binary data)"])
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError([f"{source}: not UTF-8 text (byte {exc.start})"]) from None
    if not text.strip():
        raise ConfigError([f"{source}: the file is empty"])
    try:
        loader = _LimitedLoader(text)
        try:
            node = loader.get_single_node()
            located.lines = _line_map(node)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError([f"{source}{line}: invalid YAML: {exc.problem or exc.context}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{source}: invalid YAML: {exc}"]) from None
    except RecursionError:
        raise ConfigError([f"{source}: invalid YAML: nested too deeply"]) from None
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise ConfigError([f"{source}: the top level must be a mapping of keys (found {kind})"])
    bad_keys = [k for k in data if not isinstance(k, str)]
    if bad_keys:
        raise ConfigError([located.message((), f"key {bad_keys[0]!r} is not text")])

    problems: list[tuple[Any, str]] = []
    resolved = _resolve_secrets(data, (), env, problems)
    if problems:
        raise ConfigError([located.message(p, m) for p, m in problems[:5]])
    try:
        config = Config.model_validate({**resolved, "source": source})
    except ValidationError as exc:
        found = _pydantic_problems(exc)
        lines = [located.message(p, m) for p, m in found[:5]]
        if len(found) > 5:
            lines.append(f"{source}: ... and {len(found) - 5} more problems")
        raise ConfigError(lines) from None
    cross = _cross_checks(config)
    if cross:
        lines = [located.message(p, m) for p, m in cross[:5]]
        if len(cross) > 5:
            lines.append(f"{source}: ... and {len(cross) - 5} more problems")
        raise ConfigError(lines)
    return config


def default_config_path() -> Path:
    return Path(os.environ.get("SOCIALMON_CONFIG") or DEFAULT_CONFIG_PATH)


def load_config(path: str | Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Read, parse and validate a config file; raises ConfigError naming the file."""
    file_path = Path(path) if path else default_config_path()
    source = str(file_path)
    try:
        if file_path.is_dir():
            raise ConfigError([f"{source}: is a directory, not a config file"])
        with file_path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError([f"{source}: no such file (set SOCIALMON_CONFIG or pass a path)"]) from None
    except PermissionError:
        raise ConfigError([f"{source}: permission denied"]) from None
    except OSError as exc:
        raise ConfigError([f"{source}: cannot read: {exc.strerror}"]) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError([f"{source}: larger than {MAX_CONFIG_BYTES // 1024} KiB; not a config file"])
    return parse_config(raw, source, env)
