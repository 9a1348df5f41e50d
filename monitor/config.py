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
from monitor.hooks.settings import Webhooks
from monitor.hours import WeeklyHours, parse_hours

DEFAULT_CONFIG_PATH = "config/socialmon.yaml"
MAX_ALIASES = 100
MAX_EXPANDED_NODES = 100_000  # values after expanding aliases; a real config has a few thousand
MAX_DEPTH = 30
# Problems printed (the rest are counted): a screenful, so that a new deployment's missing
# environment variables (often six or more) show in one run, not one `check-config` after another.
MAX_REPORTED = 20
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
    if isinstance(value, int | float) and not isinstance(value, bool):
        # `poll_interval: 15` is ambiguous (seconds? minutes?): make the unit explicit.
        raise ValueError(f"{value} has no unit: write e.g. {value}s, {value}m, {value}h or {value}d")
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
    daily_quota: int = Field(default=10_000, gt=0)
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
    redirect_max_chars: int = Field(default=280, gt=0)


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


LanguageSetting = Annotated[PairedLanguage | BilingualLanguage | ExemptLanguage, Field(discriminator="mode")]


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
        loopback = parts.hostname in {"localhost", "127.0.0.1", "::1"} or (parts.hostname or "").startswith(
            "127."
        )
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
    metrics_port: int = Field(default=9464, ge=0, lt=65536)
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
    webhooks: Webhooks | None = None  # platform webhooks as poll hints (monitor/hooks); off when absent
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


def _zone_info(value: str) -> ZoneInfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a time zone (e.g. Europe/London)") from None


# ---------------------------------------------------------------------------------------------
# Loading


# PyYAML's int and float patterns without their base-60 alternative.
_YAML_INT = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$")
_YAML_FLOAT = re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


def _without_sexagesimal(resolvers: dict[Any, Any]) -> dict[Any, Any]:
    """YAML 1.1 reads `8:30` as the base-60 number 510; a config means the time of day."""
    replace = {"tag:yaml.org,2002:int": _YAML_INT, "tag:yaml.org,2002:float": _YAML_FLOAT}
    return {
        first: [(tag, replace.get(tag, regexp)) for tag, regexp in entries]
        for first, entries in resolvers.items()
    }


class _LimitedLoader(yaml.SafeLoader):
    """SafeLoader (no Python tags) that refuses documents with too many aliases."""

    yaml_implicit_resolvers = _without_sexagesimal(yaml.SafeLoader.yaml_implicit_resolvers)

    def __init__(self, stream: Any):
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                event = self.peek_event()
                raise _Refused(
                    f"more than {MAX_ALIASES} aliases: refusing a possible alias bomb",
                    event.start_mark.line + 1,
                )
        return super().compose_node(parent, index)


class _Refused(Exception):
    """The YAML is well-formed but not something a config file may be (bomb, recursion)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def _scan(node: yaml.Node | None) -> tuple[dict[tuple[Any, ...], int], list[tuple[tuple[Any, ...], str]]]:
    """Map each key path to its 1-based source line and find duplicate keys.

    Walking the node graph with aliases expanded costs what constructing and validating it
    will cost, so this is also where an alias bomb (few aliases, exponential size) and a
    recursive alias are refused, before anything expands them.
    """
    lines: dict[tuple[Any, ...], int] = {}
    duplicates: list[tuple[tuple[Any, ...], str]] = []
    budget = [MAX_EXPANDED_NODES]
    ancestors: set[int] = set()

    def walk(current: yaml.Node, path: tuple[Any, ...]) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            raise _Refused(
                f"expands to more than {MAX_EXPANDED_NODES} values: refusing a possible alias bomb"
            )
        if id(current) in ancestors:
            raise _Refused(
                "an alias refers to a node that contains it (recursive)", current.start_mark.line + 1
            )
        if len(path) > MAX_DEPTH:
            raise _Refused(f"nested deeper than {MAX_DEPTH} levels", current.start_mark.line + 1)
        lines.setdefault(path, current.start_mark.line + 1)
        ancestors.add(id(current))
        if isinstance(current, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in current.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
                if key != "<<":
                    if key in seen:
                        duplicates.append(
                            ((*path, key), f"duplicate key (line {key_node.start_mark.line + 1})")
                        )
                    seen.add(key)
                    lines.setdefault((*path, key), key_node.start_mark.line + 1)
                walk(value_node, path if key == "<<" else (*path, key))
        elif isinstance(current, yaml.SequenceNode):
            for i, item in enumerate(current.value):
                walk(item, (*path, i))
        ancestors.discard(id(current))

    if node is not None:
        walk(node, ())
    return lines, duplicates


def format_path(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


class _Located:
    """Turns (key path, message) into `file:line: key.path: message`, secrets masked."""

    def __init__(self, source: str, lines: dict[tuple[Any, ...], int]):
        self.source = source
        self.lines = lines
        self.secrets: set[str] = set()

    def line_for(self, path: tuple[Any, ...]) -> int | None:
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.lines:
                return self.lines[path[:cut]]
        return None

    def message(self, path: tuple[Any, ...], text: str) -> str:
        line = self.line_for(path)
        where = f"{self.source}:{line}" if line else self.source
        return self._mask(f"{where}: {format_path(path)}: {text}")

    def error(self, problems: list[tuple[tuple[Any, ...], str]]) -> ConfigError:
        lines = [self.message(p, m) for p, m in problems[:MAX_REPORTED]]
        if len(problems) > MAX_REPORTED:
            lines.append(f"{self.source}: ... and {len(problems) - MAX_REPORTED} more problems")
        return ConfigError(lines)

    def _mask(self, text: str) -> str:
        # A secret referenced into a checked field (say an address) must not come back in its error.
        for secret in sorted(self.secrets, key=len, reverse=True):
            if len(secret) >= 4:  # shorter values would mask ordinary words (and are no secret)
                text = text.replace(secret, "[REDACTED]")
        return text


def _resolve_secrets(
    value: Any, path: tuple[Any, ...], env: dict[str, str], problems: list[tuple[Any, str]], found: set[str]
) -> Any:
    """Replace every `${NAME}` and `${file:/path}` in string values; collect what is wrong."""
    if isinstance(value, dict):
        return {k: _resolve_secrets(v, (*path, k), env, problems, found) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_secrets(v, (*path, i), env, problems, found) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def substitute(match: re.Match[str]) -> str:
        ref = match[1].strip()
        if ref.startswith("file:"):
            file_path = Path(ref[5:].strip()).expanduser()
            try:
                secret = file_path.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                reason = getattr(exc, "strerror", None) or "not UTF-8 text"
                problems.append((path, f"cannot read secret file {str(file_path)!r}: {reason}"))
                return ""
            if not secret:
                problems.append((path, f"secret file {str(file_path)!r} is empty"))
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", ref):
            if ref not in env:
                problems.append((path, f"environment variable {ref} is not set"))
                return ""
            secret = env[ref]
            if not secret.strip():
                problems.append((path, f"environment variable {ref} is empty"))
        else:
            problems.append(
                (path, "${...} must name an environment variable (${NAME}) or a file (${file:/path})")
            )
            return ""
        if secret:
            found.add(secret)
        return secret

    return _SECRET_REF.sub(substitute, value)


# Where a discriminated union sits, the key that picks its member.
_DISCRIMINATORS = ("mode", "type")


def _clean_loc(loc: tuple[Any, ...], data: Any) -> tuple[tuple[Any, ...], Any]:
    """Drop pydantic's union-member labels from a location, following the data.

    A discriminated union adds its tag (`paired`, `email`) to the path; a validator adds
    `function-after[...]`. Following the input tells such labels apart from real keys, so a
    channel named `email` keeps its name. Returns the path and the value found at it.
    """
    path: list[Any] = []
    current = data
    for part in loc:
        if (isinstance(current, dict) and part in current) or (
            isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        ):
            current = current[part]
            path.append(part)
        elif isinstance(current, dict) and any(current.get(k) == part for k in _DISCRIMINATORS):
            continue  # the union member's tag
        elif isinstance(part, str) and part.startswith(("function-", "lax-", "nullable[", "json-or-python")):
            continue
        else:
            path.append(part)
            current = None
    return tuple(path), current


def _allowed_keys(path: tuple[Any, ...], data: Any) -> list[str]:
    """The keys the model accepts at `path` (for "did you mean"); empty if unknown."""
    model: Any = Config
    current = data
    for part in path:
        current = _child(current, part)
        if isinstance(model, _Container):
            model = _model_of(model.annotation, current)
        else:
            field = _field_named(model, part)
            model = _model_of(field.annotation, current) if field is not None else None
        if model is None:
            return []
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    return [f.alias or name for name, f in model.model_fields.items() if name != "source"]


def _child(value: Any, part: Any) -> Any:
    if isinstance(value, dict):
        return value.get(part)
    if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
        return value[part]
    return None


def _field_named(model: Any, key: Any) -> Any:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field
    return None


def _model_of(annotation: Any, value: Any) -> Any:
    """The model (or container of models) an annotation such as `list[Account]` or `X | None` holds."""
    import typing

    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _model_of(typing.get_args(annotation)[0], value)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if origin in (list, dict):
        return _Container(typing.get_args(annotation)[-1])
    members = [m for m in typing.get_args(annotation) if m is not type(None)]
    models = [m for m in (_model_of(m, value) for m in members) if m is not None]
    if len(models) == 1:
        return models[0]
    for candidate in models:  # a discriminated union: pick the member by the value's tag
        for key in _DISCRIMINATORS:
            tag_field = (
                getattr(candidate, "model_fields", {}).get(key) if isinstance(candidate, type) else None
            )
            if (
                tag_field is not None
                and isinstance(value, dict)
                and value.get(key) in typing.get_args(tag_field.annotation)
            ):
                return candidate
    return None


class _Container:
    """Stands for `list[...]` / `dict[str, ...]` while walking a path: the next part is an index or a name."""

    def __init__(self, annotation: Any):
        self.annotation = annotation


def _pydantic_problems(exc: ValidationError, data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    problems: list[tuple[tuple[Any, ...], str]] = []
    seen: set[tuple[tuple[Any, ...], str]] = set()
    for err in exc.errors(include_input=False, include_url=False):
        loc, _value = _clean_loc(tuple(err["loc"]), data)
        kind, ctx = err["type"], err.get("ctx") or {}
        msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if kind == "extra_forbidden":
            msg = "unknown key" + _suggestion(str(loc[-1]), _allowed_keys(loc[:-1], data))
        elif kind == "missing":
            msg = "is required"
        elif kind in {"union_tag_invalid", "union_tag_not_found"}:
            key = str(ctx.get("discriminator", "")).strip("'")
            loc = (*loc, key)
            expected = _expected_tags(loc[:-1], data) or str(ctx.get("expected_tags", "")).replace("'", "")
            msg = (
                f"must be one of {expected}"
                if kind == "union_tag_invalid"
                else f"is required (one of {expected})"
            )
        elif kind == "literal_error":
            msg = "must be one of " + str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        elif kind == "string_pattern_mismatch" and loc[-1:] == ("id",):
            msg = "must be a slug: lower-case letters, digits and hyphens, starting with a letter or digit"
        elif kind in {"dict_type", "model_type", "model_attributes_type"}:
            msg = "must be a mapping of keys"
        elif kind == "list_type":
            msg = "must be a list"
        elif kind == "string_type":
            msg = "must be text"
        elif kind.startswith(("int_", "float_")) and "parsing" in kind:
            msg = "must be a number"
        elif kind == "bool_parsing" or kind == "bool_type":
            msg = "must be true or false"
        if (loc, msg) not in seen:
            seen.add((loc, msg))
            problems.append((loc, msg))
    return problems


def _expected_tags(path: tuple[Any, ...], data: Any) -> str:
    if path[:1] == ("accounts",):
        return "paired, bilingual, exempt"
    if path[:2] == ("alerts", "channels"):
        return "email, teams"
    return ""


def _suggestion(key: str, allowed: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]}?)"
    return f" (allowed: {', '.join(sorted(allowed))})" if 0 < len(allowed) <= 12 else ""


_CREDENTIAL_FOR_PLATFORM = {
    "x": "bearer_token",
    "facebook": "access_token",
    "instagram": "access_token",
    "youtube": "api_key",
}


def _cross_checks(config: Config) -> list[tuple[tuple[Any, ...], str]]:
    """Rules that span fields; each problem is (key path, message)."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    problems += _account_problems(config)
    problems += _route_problems(config)
    problems += _database_problems(config)
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
        if account.timezone:
            try:
                _zone_info(account.timezone)
            except ValueError as exc:
                problems.append((("accounts", i, "timezone"), str(exc)))
        if account.credentials is not None:
            wanted = _CREDENTIAL_FOR_PLATFORM[account.platform]
            for name in ("bearer_token", "access_token", "api_key"):
                if name != wanted and getattr(account.credentials, name) is not None:
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
    from sqlalchemy.engine import make_url

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


def parse_config(text: str | bytes, source: str = "<config>", env: dict[str, str] | None = None) -> Config:
    """Parse and validate configuration text; raises ConfigError."""
    env = dict(os.environ) if env is None else env
    located = _Located(source, {})
    data = _read_yaml(text, source, located)
    problems: list[tuple[Any, str]] = []
    resolved = _resolve_secrets(data, (), env, problems, located.secrets)
    RESOLVED_SECRETS.update(located.secrets)
    if problems:
        raise located.error(problems)
    try:
        config = Config.model_validate({**resolved, "source": source})
    except ValidationError as exc:
        raise located.error(_pydantic_problems(exc, resolved)) from None
    cross = _cross_checks(config)
    if cross:
        raise located.error(cross)
    return config


def _read_yaml(text: str | bytes, source: str, located: _Located) -> dict[str, Any]:
    """Safe-load one YAML mapping, recording key lines on `located`; raises ConfigError."""
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
            located.lines, duplicates = _scan(node)
            if duplicates:
                raise located.error(duplicates)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except _Refused as exc:
        where = f"{source}:{exc.line}" if exc.line else source
        raise ConfigError([f"{where}: refused: {exc}"]) from None
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([_yaml_error_line(source, exc)]) from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError([f"{source}: invalid YAML: {first}"]) from None
    except RecursionError:
        raise ConfigError([f"{source}: invalid YAML: nested too deeply"]) from None
    if not isinstance(data, dict):
        kind = (
            "nothing"
            if data is None
            else {"list": "a list", "str": "text"}.get(type(data).__name__, type(data).__name__)
        )
        raise ConfigError([f"{source}:1: (top level): must be a mapping of keys (found {kind})"])
    bad_keys = [k for k in data if not isinstance(k, str)]
    if bad_keys:
        raise ConfigError([located.message((), f"key {bad_keys[0]!r} is not text")])
    # Top-level keys starting `x-` are the operator's own (anchors for `<<:` merges), as in Compose files.
    return {k: v for k, v in data.items() if not k.startswith("x-")}


def _yaml_error_line(source: str, exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"{source}:{mark.line + 1}" if mark else source
    problem = exc.problem or exc.context or "not valid YAML"
    if problem.startswith("but ") and exc.context:  # "expected a single document ..., but found another"
        problem = f"{exc.context.replace(' in the stream', '')}, {problem}"
    if "could not determine a constructor" in problem:
        tag = re.search(r"tag '([^']*)'", problem)
        name = tag[1].replace("tag:yaml.org,2002:", "!!") if tag else "this tag"
        problem = f"the tag {name} is not allowed (plain YAML only)"
    if "'\\t'" in problem:  # PyYAML says "found character '\t'": say what to do about it
        column = f" (column {mark.column + 1})" if mark else ""
        problem = f"a tab character{column}: use spaces, not tabs, to indent and separate YAML"
    return f"{where}: invalid YAML: {problem}"


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
