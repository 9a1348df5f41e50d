"""Sandbox scenarios: accounts, profiles, posts, inbound messages, replies, videos, scheduled posts.

A scenario is YAML. Times are relative to the moment it is loaded ("-2h", "-3d", "-1d2h", "+30m",
"now") or absolute ISO 8601. Objects refer to one another by a scenario-local `ref`; native ids
are generated in each platform's own form (X snowflakes that grow with time, so `since_id` works;
Graph `pageid_postid`; YouTube 11-character video ids) unless the scenario gives one.

    accounts:
      - key: cardiff-x            # the socialmon account id this account stands for
        platform: x               # x | facebook | instagram | youtube
        id: "1580000000000000001" # native id (optional: generated)
        handle: PrifCaerdydd
        name: Prifysgol Caerdydd
        bio: "..."                # X description / Page about / IG biography / channel description
        description: "..."        # Facebook only: the Page's "additional information"
        avatar: https://...       # profile image URL
        failure: {mode: auth_expired}
        posts:
          - {ref: welcome, at: -2h, text: "...", media: [m1], video: {captions: false}}
        inbox:                    # what people sent the account; `reply` is the account's answer
          - {ref: q1, channel: comment, post: welcome, at: -90m, author: Ann, text: "...",
             reply: {after: 20m, text: "..."}}
          - {channel: comment, post: welcome, text: "...", hidden: true}   # Facebook/Instagram only
        scheduled:
          - {at: +3h, text: "..."}

The loaded `World` is the sandbox's mutable state: the admin endpoints change it while the server
runs, under one lock.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from connectors.specs import PLATFORM_NAMES
from monitor.clock import as_utc, utcnow
from monitor.sandbox.oauth import META_SCOPES, OAuthState, SystemUser

PLATFORMS = PLATFORM_NAMES
CHANNELS = ("comment", "reply", "mention", "dm")
FAILURE_MODES = ("rate_limited", "auth_expired", "permission_missing", "server_error", "truncated")
LIVE_STATES = ("none", "live", "upcoming", "completed")
X_EPOCH_MS = 1288834974657  # Twitter snowflake epoch

_RELATIVE = re.compile(r"^(?P<sign>[+-])\s*(?P<body>(\d+\s*[smhdw]\s*)+)$")
_PART = re.compile(r"(\d+)\s*([smhdw])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class ScenarioError(ValueError):
    """A scenario problem, naming the file and the place in it."""


# ---------------------------------------------------------------------------------------------
# Times


def parse_offset(value: Any) -> timedelta:
    """'-2h' -> -2 hours; '+1d2h'; '30m' (after, for replies); 'now' -> 0."""
    text = str(value).strip().lower()
    if text == "now":
        return timedelta(0)
    if not text.startswith(("+", "-")):
        text = "+" + text
    match = _RELATIVE.match(text)
    if not match:
        raise ValueError(f"{value!r} is not a relative time like -2h, -3d, +30m or now")
    seconds = sum(int(n) * _UNIT[u] for n, u in _PART.findall(match["body"]))
    return timedelta(seconds=-seconds if match["sign"] == "-" else seconds)


def resolve_time(value: Any, now: datetime) -> datetime:
    """A scenario time: relative to `now`, or absolute ISO 8601 (naive means UTC)."""
    if isinstance(value, datetime):
        return as_utc(value)
    text = str(value).strip()
    if text.lower() == "now" or text[:1] in "+-":
        return now + parse_offset(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not a time (use -2h, -3d, +30m, now or ISO 8601)") from None
    return as_utc(parsed)


# ---------------------------------------------------------------------------------------------
# Records


@dataclass
class Video:
    captions: bool = True
    live: str = "none"  # none | live | upcoming | completed (a finished live stream)
    duration: str = "PT2M30S"


@dataclass
class SPost:
    id: str
    ref: str
    at: datetime
    text: str
    title: str = ""
    kind: str = "original"  # original | share | quote
    media: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    video: Video | None = None
    image: bool = False


@dataclass
class SReply:
    """The account's own answer to an inbound message."""

    id: str
    at: datetime
    text: str


@dataclass
class SMessage:
    """Something a member of the public sent the account."""

    id: str
    ref: str
    channel: str  # comment | reply | mention | dm
    at: datetime
    text: str
    author_id: str
    author_name: str
    on: str = ""  # native id of the account's post it is about (comment, mention in reply)
    parent: str = ""  # native id of the comment a `reply` answers
    reply: SReply | None = None
    hidden: bool = False  # a Facebook/Instagram comment the account's moderators hid


@dataclass
class SScheduled:
    id: str
    at: datetime
    text: str
    created: datetime


@dataclass
class Failure:
    mode: str
    times: int | None = None  # fail this many requests, then recover; None: until cleared
    retry_after: int = 900  # seconds, for rate_limited
    only: str = ""  # only requests whose path contains this (e.g. "dm_events", "conversations")
    status: int | None = None  # override the platform's own status code

    def matches(self, path: str) -> bool:
        return not self.only or self.only in path


@dataclass
class SAccount:
    key: str
    platform: str
    native_id: str
    handle: str
    name: str
    bio: str = ""
    description: str = ""
    avatar: str = ""
    website: str = ""
    token: str = ""
    linked_page: str = ""  # Instagram: key of the Facebook Page account it is linked to
    scopes: list[str] | None = None  # Meta: the token's permissions (None: all the connector needs)
    token_expires: datetime | None = None  # Meta: when the token expires (None: never)
    posts: list[SPost] = field(default_factory=list)
    inbox: list[SMessage] = field(default_factory=list)
    scheduled: list[SScheduled] = field(default_factory=list)
    failure: Failure | None = None

    @property
    def uploads_playlist(self) -> str:
        return "UU" + self.native_id[2:] if self.native_id.startswith("UC") else "UU" + self.native_id

    def post(self, native_id: str) -> SPost | None:
        return next((p for p in self.posts if p.id == native_id), None)

    def message(self, native_id: str) -> SMessage | None:
        return next((m for m in self.inbox if m.id == native_id), None)


# ---------------------------------------------------------------------------------------------
# Ids in each platform's form


class IdMaker:
    """Deterministic native ids: the same scenario loaded twice gets the same ids."""

    _ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

    def __init__(self, seed: str):
        self._seed = seed
        self._count = 0

    def _digest(self, salt: str) -> bytes:
        self._count += 1
        return hashlib.sha256(f"{self._seed}/{salt}/{self._count}".encode()).digest()

    def number(self, salt: str, digits: int) -> str:
        value = int.from_bytes(self._digest(salt)[:12], "big")
        return str(10 ** (digits - 1) + value % (9 * 10 ** (digits - 1)))

    def text(self, salt: str, length: int) -> str:
        raw = self._digest(salt)
        return "".join(self._ALPHABET[b % 64] for b in raw)[:length]

    def snowflake(self, at: datetime) -> str:
        """An X id: milliseconds since the X epoch in the high bits, so ids sort by time."""
        ms = max(int(at.timestamp() * 1000) - X_EPOCH_MS, 0)
        low = int.from_bytes(self._digest("sf")[:3], "big") & ((1 << 22) - 1)
        return str((ms << 22) | low)


def account_id(ids: IdMaker, platform: str, key: str) -> str:
    if platform == "x":
        return ids.number(key, 19)
    if platform == "facebook":
        return ids.number(key, 15)
    if platform == "instagram":
        return "1784" + ids.number(key, 13)
    return "UC" + ids.text(key, 22)


def post_id(ids: IdMaker, account: SAccount, at: datetime) -> str:
    if account.platform == "x":
        return ids.snowflake(at)
    if account.platform == "facebook":
        return f"{account.native_id}_{ids.number(account.key, 17)}"
    if account.platform == "instagram":
        return "179" + ids.number(account.key, 14)
    return ids.text(account.key, 11)


def message_id(ids: IdMaker, account: SAccount, channel: str, at: datetime, on: str, parent: str) -> str:
    if account.platform == "x":
        return ids.snowflake(at)
    if account.platform == "facebook":
        if channel == "dm":
            return "m_" + ids.text("dm", 22)
        post_number = on.split("_")[-1] if on else ids.number("p", 16)  # comment ids: <post>_<comment>
        return f"{post_number}_{ids.number('c', 16)}"
    if account.platform == "instagram":
        return ("aWdfZG1fbWlk" + ids.text("dm", 20)) if channel == "dm" else "178" + ids.number("c", 14)
    if channel == "reply" and parent:
        return f"{parent}.{ids.text('r', 22)}"
    return "Ugx" + ids.text("c", 23)


def reply_id(ids: IdMaker, account: SAccount, message: SMessage, at: datetime) -> str:
    if account.platform == "x":
        return ids.snowflake(at)
    if account.platform == "facebook":
        if message.channel == "dm":
            return "m_" + ids.text("dm", 22)
        return f"{message.id.split('_')[0]}_{ids.number('c', 16)}"
    if account.platform == "instagram":
        return (
            ("aWdfZG1fbWlk" + ids.text("dm", 20)) if message.channel == "dm" else "178" + ids.number("c", 14)
        )
    thread = message.parent or message.id
    return f"{thread}.{ids.text('r', 22)}"


def person_id(ids: IdMaker, platform: str, name: str) -> str:
    if platform == "x":
        return ids.number("person:" + name, 18)
    if platform == "youtube":
        return "UC" + ids.text("person:" + name, 22)
    return ids.number("person:" + name, 16)


# ---------------------------------------------------------------------------------------------
# The world


class World:
    """Mutable sandbox state loaded from a scenario; every access holds `lock`."""

    def __init__(self, name: str, now: datetime, page_size_cap: int | None = None):
        self.name = name
        self.loaded_at = now
        self.page_size_cap = page_size_cap
        self.accounts: dict[str, SAccount] = {}
        self.ids = IdMaker(name)
        self.lock = threading.RLock()
        self._people: dict[tuple[str, str], str] = {}
        self.system_users: list[SystemUser] = []
        self.oauth = OAuthState()

    # -- lookups --------------------------------------------------------------------------

    def by_native(self, platform: str | tuple[str, ...], native_id: str) -> SAccount | None:
        platforms = (platform,) if isinstance(platform, str) else platform
        return next(
            (a for a in self.accounts.values() if a.platform in platforms and a.native_id == native_id), None
        )

    def by_handle(self, platform: str, handle: str) -> SAccount | None:
        wanted = handle.lstrip("@").lower()
        return next(
            (a for a in self.accounts.values() if a.platform == platform and a.handle.lower() == wanted), None
        )

    def by_token(self, token: str) -> SAccount | None:
        grant = self.oauth.access.get(token)  # an X OAuth 2.0 user token
        if grant is not None:
            return self.accounts.get(grant.account)
        return next((a for a in self.accounts.values() if a.token and a.token == token), None)

    def system_user(self, token: str) -> SystemUser | None:
        return next((s for s in self.system_users if s.token == token), None)

    def account(self, key: str) -> SAccount:
        try:
            return self.accounts[key]
        except KeyError:
            raise ScenarioError(f"no account {key!r} in scenario {self.name!r}") from None

    def person(self, platform: str, name: str) -> str:
        key = (platform, name)
        if key not in self._people:
            self._people[key] = person_id(self.ids, platform, name)
        return self._people[key]

    def find_ref(self, account: SAccount, ref: str) -> str:
        """A post or message native id from its scenario ref (or the id itself)."""
        for post in account.posts:
            if ref in (post.ref, post.id):
                return post.id
        for message in account.inbox:
            if ref in (message.ref, message.id):
                return message.id
        raise ScenarioError(f"account {account.key!r}: nothing with ref or id {ref!r}")

    # -- changes (scenario loading and the admin endpoints) ----------------------------------

    def add_account(self, spec: dict[str, Any], where: str) -> SAccount:
        key = _text(spec, "key", where, required=True)
        platform = _text(spec, "platform", where, required=True)
        if platform not in PLATFORMS:
            raise ScenarioError(f"{where}.platform: {platform!r} is not one of {', '.join(PLATFORMS)}")
        if key in self.accounts:
            raise ScenarioError(f"{where}.key: duplicate account key {key!r}")
        native = str(spec.get("id") or account_id(self.ids, platform, key))
        account = SAccount(
            key=key,
            platform=platform,
            native_id=native,
            handle=_text(spec, "handle", where) or key,
            name=_text(spec, "name", where) or key,
            bio=_text(spec, "bio", where),
            description=_text(spec, "description", where),
            avatar=_text(spec, "avatar", where) or f"https://sandbox.invalid/avatars/{key}.png",
            website=_text(spec, "website", where),
            token=_text(spec, "token", where) or f"sandbox-{key}",
            linked_page=_text(spec, "linked_page", where),
            scopes=[str(s) for s in spec["scopes"]] if spec.get("scopes") is not None else None,
            token_expires=_time(spec["token_expires"], self.loaded_at, f"{where}.token_expires")
            if spec.get("token_expires")
            else None,
        )
        self.accounts[key] = account
        if spec.get("failure"):
            account.failure = parse_failure(spec["failure"], f"{where}.failure")
        for i, post in enumerate(spec.get("posts") or []):
            self.add_post(account, post, f"{where}.posts[{i}]")
        for i, message in enumerate(spec.get("inbox") or []):
            self.add_message(account, message, f"{where}.inbox[{i}]")
        for i, item in enumerate(spec.get("scheduled") or []):
            self.add_scheduled(account, item, f"{where}.scheduled[{i}]")
        return account

    def add_system_user(self, spec: dict[str, Any], where: str) -> SystemUser:
        _mapping(spec, where)
        pages = [str(p) for p in spec.get("pages") or []]
        for page in pages:
            self.account(page)
        user = SystemUser(
            token=_text(spec, "token", where, required=True),
            pages=pages,
            scopes=[str(s) for s in spec.get("scopes") or META_SCOPES["facebook"] + META_SCOPES["instagram"]],
            expires=_time(spec["expires"], self.loaded_at, f"{where}.expires")
            if spec.get("expires")
            else None,
            granular={str(k): [str(v) for v in vs] for k, vs in spec["granular"].items()}
            if isinstance(spec.get("granular"), dict)
            else None,
        )
        self.system_users.append(user)
        return user

    def add_post(
        self, account: SAccount, spec: dict[str, Any], where: str, now: datetime | None = None
    ) -> SPost:
        _mapping(spec, where)
        at = _time(spec.get("at", "now"), now or self.loaded_at, f"{where}.at")
        video = None
        if spec.get("video") is not None:
            video = _video(spec["video"], f"{where}.video")
        elif account.platform == "youtube":
            video = Video()
        native = str(spec.get("id") or post_id(self.ids, account, at))
        post = SPost(
            id=native,
            ref=_text(spec, "ref", where) or native,
            at=at,
            text=_text(spec, "text", where),
            title=_text(spec, "title", where),
            kind=_text(spec, "kind", where) or "original",
            media=[str(m) for m in spec.get("media") or []],
            links=[str(u) for u in spec.get("links") or []],
            video=video,
            image=bool(spec.get("image", False)),
        )
        if post.kind not in {"original", "share", "quote"}:
            raise ScenarioError(f"{where}.kind: {post.kind!r} is not original, share or quote")
        account.posts.append(post)
        account.posts.sort(key=lambda p: p.at, reverse=True)
        return post

    def add_message(
        self, account: SAccount, spec: dict[str, Any], where: str, now: datetime | None = None
    ) -> SMessage:
        _mapping(spec, where)
        channel = _text(spec, "channel", where, required=True)
        if channel not in CHANNELS:
            raise ScenarioError(f"{where}.channel: {channel!r} is not one of {', '.join(CHANNELS)}")
        at = _time(spec.get("at", "now"), now or self.loaded_at, f"{where}.at")
        on = self._ref(account, spec.get("post"), f"{where}.post")
        parent = self._ref(account, spec.get("parent"), f"{where}.parent")
        if channel == "comment" and not on and account.platform != "x":
            raise ScenarioError(f"{where}.post: a comment needs the ref of the post it is on")
        if channel == "reply" and not parent:
            raise ScenarioError(f"{where}.parent: a reply needs the ref of the comment it answers")
        if parent and not on:
            parent_message = account.message(parent)
            on = parent_message.on if parent_message else ""
        author = _text(spec, "author", where) or "A member of the public"
        native = str(spec.get("id") or message_id(self.ids, account, channel, at, on, parent))
        message = SMessage(
            id=native,
            ref=_text(spec, "ref", where) or native,
            channel=channel,
            at=at,
            text=_text(spec, "text", where),
            author_id=str(spec.get("author_id") or self.person(account.platform, author)),
            author_name=author,
            on=on,
            parent=parent,
            hidden=parse_hidden(account, channel, spec.get("hidden", False), f"{where}.hidden"),
        )
        account.inbox.append(message)
        account.inbox.sort(key=lambda m: m.at)
        if spec.get("reply") is not None:
            self.add_reply(account, message, spec["reply"], f"{where}.reply")
        return message

    def add_reply(
        self,
        account: SAccount,
        message: SMessage,
        spec: dict[str, Any],
        where: str,
        now: datetime | None = None,
    ) -> SReply:
        _mapping(spec, where)
        if "after" in spec:
            at = message.at + abs(_offset(spec["after"], f"{where}.after"))
        else:
            at = _time(spec.get("at", "now"), now or self.loaded_at, f"{where}.at")
        native = str(spec.get("id") or reply_id(self.ids, account, message, at))
        message.reply = SReply(id=native, at=at, text=_text(spec, "text", where))
        return message.reply

    def add_scheduled(
        self, account: SAccount, spec: dict[str, Any], where: str, now: datetime | None = None
    ) -> SScheduled:
        _mapping(spec, where)
        if account.platform != "facebook":
            raise ScenarioError(f"{where}: scheduled posts are a Facebook Page feature")
        base = now or self.loaded_at
        at = _time(spec.get("at", "+1h"), base, f"{where}.at")
        native = str(spec.get("id") or post_id(self.ids, account, at))
        item = SScheduled(id=native, at=at, text=_text(spec, "text", where), created=base)
        account.scheduled.append(item)
        return item

    def publish_due(self, now: datetime) -> None:
        """Scheduled posts whose time has come become posts (keeping their id, as on Facebook)."""
        for account in self.accounts.values():
            due = [s for s in account.scheduled if s.at <= now]
            for item in due:
                account.scheduled.remove(item)
                account.posts.append(SPost(id=item.id, ref=item.id, at=item.at, text=item.text))
            if due:
                account.posts.sort(key=lambda p: p.at, reverse=True)

    def change_profile(self, account: SAccount, spec: dict[str, Any], where: str) -> None:
        _mapping(spec, where)
        allowed = {"name", "handle", "bio", "description", "avatar", "website"}
        unknown = set(spec) - allowed - {"account"}
        if unknown:
            raise ScenarioError(f"{where}: unknown profile field(s) {', '.join(sorted(unknown))}")
        for name in allowed & set(spec):
            setattr(account, name, _text(spec, name, where))

    def _ref(self, account: SAccount, value: Any, where: str) -> str:
        if value in (None, ""):
            return ""
        try:
            return self.find_ref(account, str(value))
        except ScenarioError as exc:
            raise ScenarioError(f"{where}: {exc}") from None


def parse_failure(spec: Any, where: str) -> Failure:
    if isinstance(spec, str):
        spec = {"mode": spec}
    _mapping(spec, where)
    unknown = set(spec) - {"mode", "times", "retry_after", "only", "status"}
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    mode = str(spec.get("mode", ""))
    if mode not in FAILURE_MODES:
        raise ScenarioError(f"{where}.mode: {mode!r} is not one of {', '.join(FAILURE_MODES)}")
    times = spec.get("times")
    if times is not None and (not isinstance(times, int) or times < 1):
        raise ScenarioError(f"{where}.times: must be a positive whole number")
    retry_after = spec.get("retry_after", 900)
    if not isinstance(retry_after, int) or retry_after < 0:
        raise ScenarioError(f"{where}.retry_after: must be whole seconds")
    status = spec.get("status")
    if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
        raise ScenarioError(f"{where}.status: must be an HTTP error status (400-599)")
    return Failure(
        mode=mode, times=times, retry_after=retry_after, only=str(spec.get("only") or ""), status=status
    )


# ---------------------------------------------------------------------------------------------
# Loading


def builtin_scenarios() -> list[str]:
    folder = resources.files("monitor.sandbox.scenarios")
    return sorted(
        p.name.removesuffix(".yaml")
        for p in folder.iterdir()
        if p.name.endswith(".yaml") and not p.name.endswith(".config.yaml")
    )


def scenario_text(name_or_path: str) -> tuple[str, str]:
    """(source label, YAML text) for a built-in scenario name or a file path."""
    if name_or_path in builtin_scenarios():
        resource = resources.files("monitor.sandbox.scenarios") / f"{name_or_path}.yaml"
        return f"scenario {name_or_path}", resource.read_text(encoding="utf-8")
    path = Path(name_or_path)
    if not path.is_file():
        known = ", ".join(builtin_scenarios())
        raise ScenarioError(f"{name_or_path}: no such scenario file or built-in scenario (built in: {known})")
    try:
        return str(path), path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from None


def load_scenario(name_or_path: str, now: datetime | None = None) -> World:
    source, text = scenario_text(name_or_path)
    return parse_scenario(text, source, now)


def parse_scenario(text: str, source: str = "<scenario>", now: datetime | None = None) -> World:
    now = (now or utcnow()).astimezone(UTC)
    try:
        # libyaml when PyYAML has it: the demo scenario loads ~10x faster than in pure Python.
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: the top level must be a mapping")
    unknown = set(data) - {"scenario", "description", "page_size_cap", "accounts", "system_users"}
    if unknown:
        raise ScenarioError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}")
    cap = data.get("page_size_cap")
    if cap is not None and (not isinstance(cap, int) or cap < 1):
        raise ScenarioError(f"{source}: page_size_cap must be a positive whole number")
    world = World(str(data.get("scenario") or Path(source).stem), now, cap)
    accounts = data.get("accounts")
    if not isinstance(accounts, list) or not accounts:
        raise ScenarioError(f"{source}: accounts: needs a list of accounts")
    try:
        for i, spec in enumerate(accounts):
            _mapping(spec, f"accounts[{i}]")
            world.add_account(spec, f"accounts[{i}]")
        for i, spec in enumerate(data.get("system_users") or []):
            world.add_system_user(spec, f"system_users[{i}]")
        for account in world.accounts.values():
            if account.linked_page and account.linked_page not in world.accounts:
                raise ScenarioError(
                    f"account {account.key}: linked_page names no account {account.linked_page!r}"
                )
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: {exc}") from None
    return world


# ---------------------------------------------------------------------------------------------
# Small validators


def _mapping(value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise ScenarioError(f"{where}: expected a mapping")


def _text(spec: dict[str, Any], key: str, where: str, required: bool = False) -> str:
    value = spec.get(key)
    if value is None:
        if required:
            raise ScenarioError(f"{where}.{key}: is required")
        return ""
    if not isinstance(value, str | int | float):
        raise ScenarioError(f"{where}.{key}: expected text")
    return str(value)


def _time(value: Any, now: datetime, where: str) -> datetime:
    try:
        return resolve_time(value, now)
    except ValueError as exc:
        raise ScenarioError(f"{where}: {exc}") from None


def _offset(value: Any, where: str) -> timedelta:
    try:
        return parse_offset(value)
    except ValueError as exc:
        raise ScenarioError(f"{where}: {exc}") from None


def _video(spec: Any, where: str) -> Video:
    if spec is True:
        return Video()
    _mapping(spec, where)
    live = str(spec.get("live", "none"))
    if live not in LIVE_STATES:
        raise ScenarioError(f"{where}.live: {live!r} is not one of {', '.join(LIVE_STATES)}")
    return Video(
        captions=bool(spec.get("captions", True)), live=live, duration=str(spec.get("duration", "PT2M30S"))
    )


def parse_hidden(account: SAccount, channel: str, value: Any, where: str) -> bool:
    """A comment's `hidden` flag: true or false, and only where Meta lets a Page or IG account hide."""
    if not isinstance(value, bool):
        raise ScenarioError(f"{where}: {value!r} is not true or false")
    if value and (account.platform not in {"facebook", "instagram"} or channel not in {"comment", "reply"}):
        raise ScenarioError(f"{where}: only Facebook and Instagram comments and replies can be hidden")
    return value
