"""What every connector shares: the Connector protocol, typed errors, retries and normalisation helpers.

A connector turns one account's new platform data into records from `monitor.models`. It raises
one of the typed errors below (never a library's own exception), each saying whether retrying can
help; `monitor.poll` turns the error kind into the PollRun status the scheduler acts on.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Generic, Protocol, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_before_delay
from tenacity.wait import wait_exponential_jitter

from connectors.specs import PlatformSpec
from monitor.clock import as_utc
from monitor.config import Account, Config
from monitor.coverage import DiscoveredAccount, TokenGrant, Verification
from monitor.logs import redact
from monitor.models import FetchResult, RateLimit
from monitor.seams import ErrorKind
from monitor.storable import storable_result

T = TypeVar("T")
SettingsT = TypeVar("SettingsT")

# Retries inside one poll: a few quick attempts, never more than this share of the poll interval.
MAX_ATTEMPTS = 4
RETRY_SHARE_OF_INTERVAL = 0.5
RETRY_BUDGET_CAP = timedelta(minutes=2)


# --- errors ----------------------------------------------------------------------------------


class ConnectorError(Exception):
    """A poll failed. `kind` becomes the PollRun status; `permanent` says retrying cannot help."""

    kind: ErrorKind = "error"

    def __init__(self, message: str, kind: ErrorKind | None = None, permanent: bool = True):
        super().__init__(redact(message))
        self.message = redact(message)
        if kind is not None:
            self.kind = kind
        self.permanent = permanent
        # What the failed poll had already spent; poll_account records it in the PollRun.
        self.api_calls = 0
        self.quota_units = 0
        self.rate_limits: list[RateLimit] = []
        self.retry_after: datetime | None = None


class AuthExpired(ConnectorError):
    kind = "auth_expired"

    def __init__(self, message: str):
        super().__init__(message, permanent=True)


class PermissionMissing(ConnectorError):
    kind = "permission_missing"

    def __init__(self, message: str):
        super().__init__(message, permanent=True)


class RateLimited(ConnectorError):
    kind = "rate_limited"

    def __init__(self, message: str, until: datetime, bucket: str = ""):
        super().__init__(message, permanent=False)
        self.until = until
        self.retry_after = until
        self.bucket = bucket


class TransientError(ConnectorError):
    kind = "transient"

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message, permanent=False)
        self.retry_after_seconds = retry_after


class BadPayload(ConnectorError):
    kind = "bad_payload"

    def __init__(self, message: str, item: tuple[str, str] | None = None):
        super().__init__(message, permanent=False)
        # (record type, platform id) of the one item that failed, when it is known: an item that
        # keeps failing is set aside by monitor.poll so that the account's other items flow.
        self.item = item


class Rejected(ConnectorError):
    """The platform refused the request itself (400/404 that no retry fixes: a bad id, a gone account)."""

    kind = "rejected"

    def __init__(self, message: str):
        super().__init__(message, permanent=True)


# --- the protocol ----------------------------------------------------------------------------


class Connector(Protocol):
    platform: str

    def fetch(self, account: Account, cursor: dict[str, Any], now: datetime) -> FetchResult: ...


# --- per-poll bookkeeping and retries ---------------------------------------------------------


@dataclass
class PollContext:
    """What one fetch spends and learns: API calls, quota units, rate-limit state, warnings."""

    account: Account
    now: datetime
    retry_budget: timedelta
    sleep: Callable[[float], None] = time.sleep
    api_calls: int = 0
    http_requests: int = 0
    quota_units: int = 0
    rate_limits: dict[str, RateLimit] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    gaps: list[tuple[str, str, str]] = field(default_factory=list)  # (feature, reason, fix)

    def cannot_read(self, feature: str, reason: str, fix: str) -> None:
        """A feature this poll could not read: a warning now, a `coverage` finding later."""
        self.warnings.append(f"{self.account.platform} {feature}: {reason}")
        self.gaps.append((feature, reason, fix))

    set_aside: frozenset[tuple[str, str]] = frozenset()  # (record type, id) items to skip

    def normalise(self, record_type: str, raw: Any, make: Callable[[], T]) -> T | None:
        """Normalise one platform item with `make()`: None for an item set aside earlier; a failure
        becomes a BadPayload that names the item (so that one that keeps failing can be set aside)."""
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        ident = str(raw_id) if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else ""
        if ident and (record_type, ident) in self.set_aside:
            return None
        item = (record_type, ident) if ident else None
        try:
            return make()
        except BadPayload as error:
            error.item = error.item or item
            raise
        except (AttributeError, TypeError, KeyError, ValueError, IndexError) as exc:
            where = f"{self.account.platform} {record_type} {ident or '(no id)'}"
            raise BadPayload(
                f"{where}: a field has the wrong type ({type(exc).__name__}: {exc})", item=item
            ) from None

    def note_rate_limits(self, limits: list[RateLimit]) -> None:
        for limit in limits:
            self.rate_limits[limit.bucket] = limit

    def attach(self, error: ConnectorError) -> ConnectorError:
        """Copy what was spent onto an error so the failed PollRun still records it."""
        error.api_calls = self.api_calls
        error.quota_units = self.quota_units
        error.rate_limits = list(self.rate_limits.values())
        return error

    def result(self, **fields: Any) -> FetchResult:
        return FetchResult(
            account_id=self.account.id,
            api_calls=self.api_calls,
            quota_units=self.quota_units,
            rate_limits=list(self.rate_limits.values()),
            warnings=list(self.warnings),
            gaps=list(self.gaps),
            **fields,
        )


def retry_budget(config: Config, account: Account) -> timedelta:
    """Retries may use half the poll interval at most, so a retry never runs into the next poll."""
    interval = account.poll_interval or config.policy.poll_interval
    return min(interval * RETRY_SHARE_OF_INTERVAL, RETRY_BUDGET_CAP)


class BaseConnector(Generic[SettingsT]):
    """The shell every connector shares: its platform settings, transport and retry sleep, and a
    `fetch` that gives each poll its PollContext and puts what a failed poll spent on the error.

    A subclass declares its `spec` (its `connectors.specs.PlatformSpec`: platform name, settings
    model, credential, rate buckets, quota) and implements `_fetch`; `platform` is `spec.name`.
    """

    spec: ClassVar[PlatformSpec]
    platform: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "spec" in cls.__dict__:
            cls.platform = cls.spec.name

    def __init__(self, config: Config, *, session: Any = None, sleep: Callable[[float], None] | None = None):
        """`session`: the transport (a `requests.Session`, or an httplib2.Http-like object for YouTube)."""
        self.config = config
        self.settings: SettingsT = config.platforms.settings_for(self.platform)
        self.transport = session
        self.sleep = sleep

    def credential(self, account: Account) -> str | None:
        """The account's own credential (`spec.credential`) when it has one, else the platform's."""
        return token_for(account, self.spec.credential, getattr(self.settings, self.spec.credential))

    def verify(
        self, account: Account, now: datetime, *, grant: TokenGrant | None = None, grant_problem: str = ""
    ) -> Verification:
        """What the platform says about the account's credential and what each feature needs
        (`accounts verify`); `grant` is the account's stored OAuth user grant, if any."""
        raise NotImplementedError

    def discover(self) -> list[DiscoveredAccount]:
        """The accounts the configured credential can see (`accounts discover`)."""
        return []

    discovery_note: ClassVar[str] = ""  # why discovery lists nothing on this platform, if so

    def fetch(
        self,
        account: Account,
        cursor: dict[str, Any],
        now: datetime,
        *,
        set_aside: frozenset[tuple[str, str]] = frozenset(),
    ) -> FetchResult:
        """One poll; `set_aside`: (record type, id) of items to skip (they kept failing)."""
        sleep = self.sleep if self.sleep is not None else time.sleep
        ctx = PollContext(account, now, retry_budget(self.config, account), sleep=sleep, set_aside=set_aside)
        try:
            result = self._fetch(ctx, account, dict(cursor), now)
        except ConnectorError as error:
            raise ctx.attach(error) from None
        except (AttributeError, TypeError, KeyError, ValueError, IndexError) as exc:
            # A field of a type the normaliser did not expect: a bad payload, never a Python crash.
            where = _failing_frame(exc)
            bad = BadPayload(
                f"{self.platform} response for account {account.id}: a field has the wrong type "
                f"({type(exc).__name__}: {exc}; in {where})"
            )
            raise ctx.attach(bad) from None
        # The boundary: text every database can store, no items dated far in the future.
        return storable_result(result, now)

    def _fetch(
        self, ctx: PollContext, account: Account, cursor: dict[str, Any], now: datetime
    ) -> FetchResult:
        """One poll of `account`; `cursor` is the connector's own copy, returned updated in the result."""
        raise NotImplementedError


def _failing_frame(exc: BaseException) -> str:
    """`module.function` where a normaliser met a field of the wrong type (for the error text)."""
    tb = exc.__traceback__
    last = None
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__", "").startswith("connectors."):
            last = tb
        tb = tb.tb_next
    if last is None:
        return "the connector"
    return f"{last.tb_frame.f_globals['__name__']}.{last.tb_frame.f_code.co_name}"


def _wait(retry_state: RetryCallState) -> float:
    """Honour the server's Retry-After when it gave one; else exponential backoff with jitter."""
    outcome = retry_state.outcome
    error = outcome.exception() if outcome is not None else None
    if isinstance(error, TransientError) and error.retry_after_seconds is not None:
        return max(0.0, error.retry_after_seconds)
    return float(wait_exponential_jitter(initial=1, max=30, jitter=1)(retry_state))


def _timed_out(error: BaseException) -> bool:
    """Whether a transient error came from a timeout (the library's exception is its context)."""
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, TimeoutError | _requests_timeout()):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _requests_timeout() -> type[BaseException]:
    from requests.exceptions import Timeout

    return Timeout


def _worth_retrying(error: BaseException) -> bool:
    """Transient errors, except timeouts: a call that used its whole deadline ends the poll, so a
    server that stalls holds a poll for the configured timeout at most (the next poll tries again)."""
    return isinstance(error, TransientError) and not _timed_out(error)


def call_with_retries(ctx: PollContext, func: Callable[[], T]) -> T:
    """Run one API call, retrying only transient errors, within the poll's retry budget."""
    retrying = Retrying(
        retry=retry_if_exception(_worth_retrying),
        stop=stop_after_attempt(MAX_ATTEMPTS) | stop_before_delay(ctx.retry_budget.total_seconds()),
        wait=_wait,
        sleep=ctx.sleep,
        reraise=True,
    )
    return retrying(func)


# --- normalisation helpers --------------------------------------------------------------------


def parse_time(value: Any, where: str) -> datetime:
    """Parse the platforms' ISO 8601 timestamps ("...Z", "...+0000", "....000Z") to aware UTC."""
    if not isinstance(value, str) or not value:
        raise BadPayload(f"{where}: missing or non-text timestamp")
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    match = re.fullmatch(r"(.*[T ]\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d)(\d\d)", text)
    if match:
        text = f"{match[1]}{match[2]}:{match[3]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadPayload(f"{where}: {value!r} is not a timestamp") from None
    return as_utc(parsed).astimezone(UTC)


def whole_number_or_none(value: Any) -> int | None:
    """A non-negative whole number sent as a number or as decimal text (ids, counts), or None when it
    is neither (booleans, floats, other text): like `time_or_none`, for filters and sort keys."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def time_or_none(value: Any) -> datetime | None:
    """A timestamp for filtering, sorting or paging, or None when it is missing or malformed.

    Filters and sort keys run over a whole batch before each item is normalised: they must not
    fail on one bad item (that would fail the whole poll unnamed). An item whose time cannot be
    read goes on to `PollContext.normalise`, which names it so that it can be set aside.
    """
    try:
        return parse_time(value, "")
    except BadPayload:
        return None


def page_older_than(page: list[Any], field: str, since: datetime) -> bool:
    """Whether paging can stop: the page is empty, or its last item's `field` time is older than
    `since`. A last item whose time cannot be read does not stop it: the next page is bounded, a
    missed item is not (and the item itself is named when it is normalised)."""
    if not page:
        return True
    last = page[-1]
    when = time_or_none(last.get(field)) if isinstance(last, dict) else None
    return when is not None and when < since


def cursor_since(value: Any, window_start: datetime) -> datetime:
    """The cursor's time, or the backfill window's start on a first poll (never older than it)."""
    if not value:
        return window_start
    return max(parse_time(value, "cursor"), window_start)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_VOLATILE_QUERY = re.compile(
    r"^(_nc_[a-z]+|oh|oe|ccb|edm|stp|efg|tag|ig_cache_key|sig|expires|x-expires)$", re.I
)


def avatar_fingerprint(url: str | None) -> str:
    """A stable fingerprint of a profile picture URL: CDN signatures and cache keys removed.

    The image itself is never downloaded; a new upload gets a new path, a re-signed CDN URL
    of the same image does not change the fingerprint.
    """
    if not url:
        return ""
    parts = urlsplit(url)
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _VOLATILE_QUERY.match(k)
    ]
    host = re.sub(r"^scontent[-.a-z0-9]*\.(xx\.)?", "scontent.", parts.netloc.lower())
    stable = urlunsplit(("", host, parts.path, urlencode(sorted(query)), ""))
    return hashlib.sha256(stable.encode()).hexdigest()[:32]


_HASHTAG = re.compile(r"(?<![\w#&])#(\w+)")
_URL = re.compile(r"https?://[^\s<>\"')\]]+")


def hashtags_in(text: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for tag in _HASHTAG.findall(text or ""):
        if not tag.isdigit():
            seen[tag.lower()] = None
    return tuple(seen)


def links_in(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(url.rstrip(".,;:!?") for url in _URL.findall(text or "")))


def unique(values: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def require(mapping: Any, key: str, where: str) -> Any:
    """A required field of a platform object; a missing one makes the response a bad payload."""
    if not isinstance(mapping, dict):
        raise BadPayload(f"{where}: expected an object, got {type(mapping).__name__}")
    if key not in mapping or mapping[key] is None:
        raise BadPayload(f"{where}: missing field {key!r}")
    return mapping[key]


def native_id(value: Any, where: str) -> str:
    """A platform id: text or an integer (never an object, a list, a boolean or empty)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadPayload(f"{where}: id must be text or an integer, got {type(value).__name__}")
    text = str(value)
    if not text.strip():
        raise BadPayload(f"{where}: empty id")
    return text


def optional_text(value: Any, where: str) -> str:
    """A text field that may be absent (""); text of another type (an object, a list, a number)
    makes the item a bad payload rather than its Python repr."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadPayload(f"{where}: expected text, got {type(value).__name__}")
    return value


def as_list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadPayload(f"{where}: expected a list, got {type(value).__name__}")
    return value


def as_dict(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadPayload(f"{where}: expected an object, got {type(value).__name__}")
    return value


def token_for(account: Account, field_name: str, platform_token: Any) -> str | None:
    """The account's own credential when it has one, else the platform's (SecretStr unwrapped)."""
    own = getattr(account.credentials, field_name, None) if account.credentials else None
    secret = own or platform_token
    return secret.get_secret_value() if secret is not None else None
