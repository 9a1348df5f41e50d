"""Property-based tests of the 17 checks (Hypothesis): thread shapes and hostile text they were not
written against. Each example is a CheckContext for one account on one platform, built from random
but type-valid records the way `monitor.records` builds it (grouped by account, oldest first).

The generator follows what the store can hold (each constraint says why where it is made):
native ids are unique per record type and platform (the tables' unique constraints), record
times are whole seconds (platforms give seconds), and each platform has only its own channels.
"""

from __future__ import annotations

import os
import random
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks import all_checks
from checks.base import (
    AccessState,
    Check,
    CheckContext,
    Emergency,
    PollState,
    PostingHistory,
    RegistryChange,
    message_subject,
)
from monitor.config import Account, Config, Policy
from monitor.coverage import CoverageGap, CredentialState, DiscoveredAccount
from monitor.language import LABELS
from monitor.models import SEVERITIES, Finding, Message, Post, ProfileSnapshot, Reply, ScheduledPost
from monitor.records import Records

CHECKS = all_checks()
# Derandomized and without an example database: every run tries the same examples. The fast loop
# tries 12 per property; `.ci/run` sets SOCIALMON_FUZZ_EXAMPLES=60 for a deeper, still fixed, set.
FUZZ = settings(
    derandomize=True,
    database=None,
    max_examples=int(os.environ.get("SOCIALMON_FUZZ_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# --- accounts and configuration ---------------------------------------------------------------

PLATFORMS = ("x", "facebook", "instagram", "youtube")
# The channels each platform's connector produces (YouTube has no DMs; X has mentions, not comments).
CHANNELS: dict[str, tuple[str, ...]] = {
    "x": ("mention", "reply", "dm"),
    "facebook": ("comment", "reply", "dm"),
    "instagram": ("comment", "reply", "dm"),
    "youtube": ("comment", "reply"),
}
PEOPLE = ["a.jones@example.ac.uk", "b.williams@example.ac.uk"]


def _account(account_id: str, platform: str, handle: str, language: dict[str, str], **extra: Any) -> Account:
    data: dict[str, Any] = {
        "id": account_id,
        "platform": platform,
        "handle": handle,
        "native_id": f"{handle.lower()}-native",
        "name": handle,
        "language": language,
        "monitoring_hours": "Mon-Fri 09:00-17:00",
        "people": PEOPLE,
        "manager": "c.evans@example.ac.uk",
    }
    data.update(extra)
    return Account.model_validate(data)


POLICY = Policy(
    official_domains=["bangor.ac.uk"],
    official_phone_numbers=["01248 351151", "01248 38*"],
    personal_data_patterns=[r"\b5\d{8}\b"],
)
LANGUAGE_SETTINGS = (
    {"mode": "bilingual"},
    {"mode": "exempt", "reason": "international recruitment"},
    {"mode": "paired", "lang": "en", "pair": "pair-cy"},
)


def _config(platform: str, language: dict[str, str], role: str, hours: str | None) -> Config:
    extra: dict[str, Any] = {"role": role, "monitoring_hours": hours}
    accounts = [
        _account("dept", platform, "DeptA", language, **extra),
        _account("other", platform, "DeptB", {"mode": "bilingual"}),
        _account("pair-cy", platform, "AdranA", {"mode": "paired", "lang": "cy", "pair": "dept"}),
        _account("bangor", "x", "BangorUni", {"mode": "bilingual"}, role="central"),
    ]
    return Config(accounts=accounts, policy=POLICY)


CONFIGS = {
    (platform, i, role, hours): _config(platform, language, role, hours)
    for platform in PLATFORMS
    for i, language in enumerate(LANGUAGE_SETTINGS)
    for role in ("departmental", "central")
    for hours in ("Mon-Fri 09:00-17:00", "24/7", None)
}

# --- instants ---------------------------------------------------------------------------------

# Wednesday 4 June 2025 (term), and the two clock-change days of 2025 in Europe/London.
NOWS = (
    datetime(2025, 6, 4, 12, 0, tzinfo=UTC),
    datetime(2025, 3, 30, 1, 0, tzinfo=UTC),  # the instant BST starts
    datetime(2025, 3, 30, 9, 30, tzinfo=UTC),
    datetime(2025, 10, 26, 1, 0, tzinfo=UTC),  # the instant BST ends
    datetime(2025, 10, 26, 16, 59, 59, tzinfo=UTC),
    datetime(2025, 12, 25, 10, 0, tzinfo=UTC),  # a bank holiday
)
OFFSETS = (
    timedelta(0),  # exactly now
    timedelta(seconds=-1),
    timedelta(seconds=1),  # in the future (clock skew between poller and checker)
    timedelta(minutes=-29),
    timedelta(minutes=-31),
    timedelta(hours=-4),
    timedelta(hours=-5),
    timedelta(hours=-25),
    timedelta(days=-3),
    timedelta(days=-7, hours=-1),
    timedelta(days=-13),
    timedelta(days=-15),  # before the look-back
    timedelta(days=-400),  # very old
    timedelta(days=2),
)


_OFFSET = st.sampled_from(OFFSETS)
_NUDGE = st.sampled_from((0, 0, 1, 60))


# Aware datetimes in UTC mostly; a stored time read back may carry another offset (same instant).
_ZONES = st.sampled_from(
    (UTC, UTC, UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5, minutes=-30)))
)


def instants(now: datetime) -> st.SearchStrategy[datetime]:
    return st.tuples(_OFFSET, _NUDGE, _ZONES).map(
        lambda d: (now + d[0] + timedelta(minutes=d[1])).astimezone(d[2])
    )


_BURST = st.sampled_from((0, 0, 3, 9, 10))


def burst_times(now: datetime) -> st.SearchStrategy[datetime]:
    """An instant of a burst an hour ago (several posts in ten minutes, some in one second)."""
    return _BURST.map(lambda m: now - timedelta(hours=1) + timedelta(minutes=m))


# --- text -------------------------------------------------------------------------------------

HOSTILE = (
    "",
    " ",
    "\n\t  \r\n",
    "x" * 10_000,
    "Croeso i'r llyfrgell! " * 500,  # ~11k characters of Welsh
    "\x00\x01\x07\x1b[31mred\x1b[0m\x7f",
    "\u202egnp.exe\u202c \u200f\u200e\u200b\u2060\ufeff",  # RTL override, marks, zero-width
    "e\u0301\u0308\u0323" * 50,  # combining characters
    "👩\u200d👩\u200d👧\u200d👦 🏴\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f 👍🏽",
    "Привет مرحبا שלום 你好 Helo Shwmae",
    "https://bangor.ac.uk/cy/newyddion",
    "www.bangor.ac.uk",
    "bangor.ac.uk/open-day no scheme",
    "https://bücher.example/straße https://xn--bcher-kva.example",
    "javascript:alert(1)",
    "https://bangor-ac-uk.help/login verify your account",
    "@BangorUni",
    "@DeptA @DeptA @dept",
    "#OpenDay #DiwrnodAgored",
    "@BangorUni #argyfwng https://x.com/BangorUni",
    "Follow @BangorUni for updates",
    "Ffoniwch 07700 900123 neu e-bostiwch a.jones@gmail.com",
    "Student 512345678 at admissions@bangor.ac.uk, 01248 351151",
    "Open Mon-Fri 09:00-17:00. Ar agor Llun-Gwener 09:00-17:00. Library news and help.",
    "Monitored 24/7. We answer questions about the library. Rydym yn ateb cwestiynau.",
    "Gwen Jones",
    "@Gwen diolch!",
    "Claim your free iPhone giveaway: log in now",
)
_ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs",))


_PIECES = st.sampled_from(HOSTILE[:3] + HOSTILE[5:]) | st.text(_ALPHABET, max_size=20)
TEXTS = st.sampled_from(HOSTILE) | st.lists(_PIECES, max_size=3).map(" ".join)


LINKS = (
    "https://www.bangor.ac.uk/news",
    "https://www.bangor.ac.uk/cy/newyddion",
    "bangor.ac.uk/open-day",
    "https://bücher.example/",
    "javascript:alert(1)",
    "https://bit.ly/3xyz",
    "http://192.168.0.1/login",
    "https://x.com/BangorUni",
    "https://[::1]:80/",
    "",
    "https://",
    "mailto:a@b.c",
)
languages = st.sampled_from(LABELS)
kinds = st.sampled_from(("original", "original", "quote", "reply", "share"))
judged_kinds = st.sampled_from(("original", "quote"))  # a hijacker's burst is of posts, not replies
message_languages = st.sampled_from(("cy", "cy+en", *LABELS))  # Welsh messages are what most checks judge
confidences = st.sampled_from((0.0, 0.5, 1.0))

# --- records ----------------------------------------------------------------------------------

ID_POOL = (
    "1",
    "2",
    "3",
    "10",
    "a:b",
    "99",
)  # shared by posts, messages and replies: ids collide across types
MISSING = "gone"  # a parent that is not stored


@st.composite
def post_records(draw: st.DrawFn, platform: str, account_id: str, now: datetime) -> list[Post]:
    # unique: the posts table's uq_posts_platform_native
    burst = draw(st.booleans())
    ids = draw(st.lists(st.sampled_from(ID_POOL), unique=True, min_size=5 if burst else 0, max_size=7))
    times = burst_times(now) if burst else instants(now)
    posts = []
    for native_id in ids:
        has_video = draw(st.booleans())
        posts.append(
            Post(
                platform=platform,
                native_id=native_id,
                account_id=account_id,
                created_at=draw(times),
                text=draw(TEXTS),
                url=draw(st.sampled_from(("", f"https://example.com/{native_id}"))),
                kind=draw(judged_kinds if burst else kinds),
                language=draw(languages),
                language_confidence=draw(confidences),
                links=tuple(draw(st.lists(st.sampled_from(LINKS), max_size=3))),
                hashtags=tuple(
                    draw(st.lists(st.sampled_from(("OpenDay", "opendAY", "Ŵyl", "")), max_size=2))
                ),
                media=tuple(draw(st.lists(st.sampled_from(("m1", "m2")), max_size=2))),
                has_video=has_video,
                video_captions=draw(st.sampled_from(("yes", "no", "unknown"))),
                live=has_video and draw(st.booleans()),
                title=draw(st.sampled_from(("", "Graduation 2025", "\u202e"))),
            )
        )
    return posts


AUTHORS = (("u1", "Gwen"), ("u2", "Gwen Jones"), ("u3", ""), ("", ""), ("u1", "gwen"))


@st.composite
def message_records(
    draw: st.DrawFn, platform: str, account: Account, now: datetime, parents: tuple[str, ...]
) -> list[Message]:
    ids = draw(st.lists(st.sampled_from(ID_POOL), unique=True, max_size=5))  # uq_messages_platform_native
    own = (account.native_id or "", account.name)  # messages from the account itself
    messages = []
    for native_id in ids:
        author_id, author_name = draw(st.sampled_from((*AUTHORS, own)))
        messages.append(
            Message(
                platform=platform,
                native_id=native_id,
                account_id=account.id,
                channel=draw(st.sampled_from(CHANNELS[platform])),
                author_id=author_id,
                author_name=author_name,
                created_at=draw(instants(now)),
                text=draw(TEXTS),
                language=draw(message_languages),
                language_confidence=draw(confidences),
                is_enquiry=draw(st.booleans()),
                in_reply_to=draw(st.sampled_from(("", MISSING, native_id, *parents))),
                conversation_id=draw(st.sampled_from(("", "c1", "c2", native_id))),
                url=draw(st.sampled_from(("", "javascript:alert(1)", f"https://example.com/m/{native_id}"))),
            )
        )
    return messages


@st.composite
def reply_records(
    draw: st.DrawFn, platform: str, account_id: str, now: datetime, parents: tuple[str, ...]
) -> list[Reply]:
    ids = draw(st.lists(st.sampled_from(ID_POOL), unique=True, max_size=5))  # uq_replies_platform_native
    replies = []
    for native_id in ids:
        replies.append(
            Reply(
                platform=platform,
                native_id=native_id,
                account_id=account_id,
                created_at=draw(instants(now)),
                text=draw(TEXTS),
                # a missing parent, itself, another reply (a chain), a message or a post
                in_reply_to=draw(st.sampled_from(("", MISSING, native_id, *parents))),
                conversation_id=draw(st.sampled_from(("", "c1", "c2", native_id))),
                language=draw(languages),
                language_confidence=draw(confidences),
            )
        )
    return replies


@st.composite
def profile_records(draw: st.DrawFn, account_id: str, now: datetime) -> list[ProfileSnapshot]:
    count = draw(st.integers(0, 3))
    taken = sorted((draw(instants(now)) for _ in range(count)), reverse=True)  # newest first, as loaded
    return [
        ProfileSnapshot(
            account_id=account_id,
            taken_at=at,
            name=draw(st.sampled_from(("Dept A", "Adran A", "", "\u202eA tpeD"))),
            handle=draw(st.sampled_from(("DeptA", "DeptA_", ""))),
            text=draw(TEXTS),
            avatar_fingerprint=draw(st.sampled_from(("abc", "def", ""))),
            url=draw(st.sampled_from(("", "https://x.com/DeptA"))),
            language=draw(languages),
            language_confidence=draw(confidences),
            languages=tuple(draw(st.lists(languages, max_size=2))),
        )
        for at in taken
    ]


@st.composite
def scheduled_records(draw: st.DrawFn, platform: str, account_id: str, now: datetime) -> list[ScheduledPost]:
    ids = draw(st.lists(st.sampled_from(ID_POOL), unique=True, max_size=2))
    return [
        ScheduledPost(
            platform=platform,
            native_id=native_id,
            account_id=account_id,
            scheduled_for=draw(st.none() | instants(now)),
            text=draw(TEXTS),
        )
        for native_id in ids
    ]


def _oldest_first(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda r: (r.created_at, r.native_id))  # as monitor.records sorts them


@st.composite
def account_records(draw: st.DrawFn, config: Config, account: Account, now: datetime) -> dict[str, Any]:
    platform = account.platform
    posts = draw(post_records(platform, account.id, now))
    post_ids = tuple(p.native_id for p in posts)
    messages = draw(message_records(platform, account, now, post_ids))
    parents = (*post_ids, *(m.native_id for m in messages))
    replies = draw(reply_records(platform, account.id, now, parents))
    return {
        "posts": _oldest_first(posts),
        "messages": _oldest_first(messages),
        "replies": _oldest_first(replies),
        "profiles": draw(profile_records(account.id, now)),
        "scheduled": draw(scheduled_records(platform, account.id, now)) if platform == "facebook" else [],
    }


@st.composite
def extras(draw: st.DrawFn, account: Account, now: datetime) -> dict[str, Any]:
    """The non-record parts of an account's context: poll state, history, access, credentials."""
    at = instants(now)
    poll = draw(
        st.none()
        | st.builds(
            PollState,
            last_poll_at=st.none() | at,
            last_status=st.sampled_from((None, "ok", "auth_expired", "transient", "weird")),
            last_ok_at=st.none() | at,
            failing_since=st.none() | at,
            last_error=st.sampled_from((None, "HTTP 500 /v1/secret", "")),
        )
    )
    # A learnt baseline (a year, or exactly MIN_BASELINE_DAYS, of at least MIN_BASELINE_POSTS posts)
    # half the time: the history-based rules of post-anomaly apply only then.
    learnt = draw(st.booleans())
    history = draw(
        st.none()
        | st.builds(
            PostingHistory,
            start=st.sampled_from((now - timedelta(days=400), now - timedelta(days=104)))
            if learnt
            else st.sampled_from((now - timedelta(days=100), None)),
            end=st.just(now - timedelta(days=14))
            if learnt
            else st.sampled_from((now - timedelta(days=14), None)),
            posts=st.sampled_from((600, 50)) if learnt else st.sampled_from((49, 0)),
            hours_utc=st.frozensets(st.integers(0, 23), max_size=24),
            max_per_hour=st.integers(0, 3),
            max_per_10min=st.integers(0, 3),
            domains=st.frozensets(st.sampled_from(("bbc.co.uk", "bangor.ac.uk", "")), max_size=2),
            recent_originals=st.lists(
                st.tuples(at, st.lists(st.sampled_from(LINKS), max_size=2).map(tuple)), max_size=6
            ).map(tuple),
        )
    )
    access = draw(
        st.none()
        | st.builds(
            AccessState,
            first_seen_at=at,
            changes=st.lists(
                st.builds(
                    RegistryChange,
                    person=st.sampled_from(PEOPLE),
                    role=st.sampled_from(("person", "manager", "?")),
                    at=at,
                ),
                max_size=2,
            ).map(tuple),
            last_confirmed_at=st.none() | at,
            last_confirmed_by=st.sampled_from(("", "C. Evans", "\x1b[2J")),
        )
    )
    credential = draw(
        st.none()
        | st.builds(
            CredentialState,
            account_id=st.just(account.id),
            checked_at=at,
            valid=st.booleans(),
            expires_at=st.none() | at,
            data_access_expires_at=st.none() | at,
            refresh_failed=st.sampled_from(("", "invalid_grant: re-authorise the app")),
        )
    )
    gaps = draw(
        st.lists(
            st.builds(
                CoverageGap,
                account_id=st.just(account.id),
                feature=st.sampled_from(("dms", "scheduled", "captions", "unheard-of")),
                reason=st.sampled_from(("no permission", "")),
                fix=st.sampled_from(("grant pages_messaging", "")),
                since=at,
            ),
            max_size=2,
            unique_by=lambda g: g.feature,  # one gap per feature (the poll reports each once)
        )
    )
    return {"poll": poll, "history": history, "access": access, "credential": credential, "gaps": gaps}


@st.composite
def scenarios(draw: st.DrawFn, with_other: bool = False) -> tuple[Config, Records, Records, datetime]:
    """(config, records of the judged account and its pair, the same plus another account's, now)."""
    platform = draw(st.sampled_from(PLATFORMS))
    key = (
        platform,
        draw(st.integers(0, len(LANGUAGE_SETTINGS) - 1)),
        draw(st.sampled_from(("departmental", "departmental", "central"))),
        draw(st.sampled_from(("Mon-Fri 09:00-17:00", "24/7", None))),
    )
    config = CONFIGS[key]
    now = draw(st.sampled_from(NOWS))
    dept, other, pair = config.accounts[0], config.accounts[1], config.accounts[2]
    records = Records(lookback=timedelta(days=14))
    own = draw(account_records(config, dept, now))
    pair_posts = _oldest_first(draw(post_records(platform, pair.id, now)))
    more = draw(extras(dept, now))
    if draw(st.booleans()):
        started = (
            now + draw(st.sampled_from(OFFSETS)) + timedelta(microseconds=draw(st.sampled_from((0, 500_000))))
        )
        records.emergency = Emergency(started_at=started, reason=draw(TEXTS))
    _fill(records, dept.id, own, more)
    records.posts[pair.id] = pair_posts
    if draw(st.booleans()):
        records.unregistered = (
            DiscoveredAccount(platform, "42", "Stray \u202e", draw(st.sampled_from(("", "stray")))),
        )
    # Another account on the same platform: its conversations and ids overlap this account's.
    widened = Records(**{**records.__dict__})
    widened.posts = {k: list(v) for k, v in records.posts.items()}
    for name in ("messages", "replies", "profiles", "scheduled"):
        setattr(widened, name, {k: list(v) for k, v in getattr(records, name).items()})
    widened.gaps = {k: list(v) for k, v in records.gaps.items()}
    widened.poll, widened.history = dict(records.poll), dict(records.history)
    widened.access, widened.credentials = dict(records.access), dict(records.credentials)
    if with_other:
        _fill(widened, other.id, draw(account_records(config, other, now)), draw(extras(other, now)))
    return config, records, widened, now


def _fill(records: Records, account_id: str, own: dict[str, Any], more: dict[str, Any]) -> None:
    for name in ("posts", "messages", "replies", "profiles", "scheduled"):
        getattr(records, name)[account_id] = own[name]
    originals = [p for p in own["posts"] if p.kind in ("original", "quote")]
    if originals:
        records.latest_original[account_id] = max(originals, key=lambda p: (p.created_at, p.native_id))
    for name, target in (
        ("poll", "poll"),
        ("history", "history"),
        ("access", "access"),
        ("credential", "credentials"),
    ):
        if more[name] is not None:
            getattr(records, target)[account_id] = more[name]
    records.gaps[account_id] = more["gaps"]


def _context(scenario: tuple[Config, Records, Records, datetime], widened: bool = False) -> CheckContext:
    config, records, wide, now = scenario
    return (wide if widened else records).context(config, config.accounts[0], now)


def run(check: Check, ctx: CheckContext) -> list[Finding]:
    if not check.applies_to(ctx.account) or check.exemption(ctx) is not None:
        return []
    return check.evaluate(ctx)


def fingerprints(findings: list[Finding]) -> set[str]:
    return {f.fingerprint for f in findings}


# --- properties -------------------------------------------------------------------------------


@FUZZ
@given(scenarios())
def test_every_check_runs_and_every_finding_is_well_formed(scenario: Any) -> None:
    ctx = _context(scenario)
    for check in CHECKS:
        for finding in run(check, ctx):
            assert finding.check == check.id
            assert finding.account_id == ctx.account.id
            assert finding.severity in SEVERITIES
            assert finding.title.strip(), finding
            assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in finding.title), finding.title
            assert finding.subject and finding.subject == finding.subject.strip(), finding
            assert finding.since.tzinfo is not None, finding
            assert finding.fingerprint == Finding(**{**finding.__dict__}).fingerprint
            check.resolution_reason(ctx, finding.subject)  # never raises either
        # one finding per subject: the fingerprint is the finding's identity in the store
        findings = run(check, ctx)
        assert len(fingerprints(findings)) == len(findings), [f.subject for f in findings]


@FUZZ
# A true (seeded) Random: Hypothesis's own makes the simplest choices, which rarely reorder anything.
@given(scenarios(), st.randoms(use_true_random=True))
def test_findings_are_deterministic_and_independent_of_record_order(
    scenario: Any, rng: random.Random
) -> None:
    ctx = _context(scenario)
    shuffled = CheckContext(
        **{
            **ctx.__dict__,
            # Contexts are oldest first (monitor.records sorts them); records of one instant may
            # come in any order.
            **{
                name: _shuffle_ties(getattr(ctx, name), rng)
                for name in ("posts", "messages", "replies", "pair_posts")
            },
            "scheduled": tuple(rng.sample(ctx.scheduled, len(ctx.scheduled))),
        }
    )
    for check in CHECKS:
        first = run(check, ctx)
        assert run(check, ctx) == first
        assert fingerprints(run(check, shuffled)) == fingerprints(first), check.id


def _shuffle_ties(items: tuple[Any, ...], rng: random.Random) -> tuple[Any, ...]:
    return tuple(sorted(rng.sample(items, len(items)), key=lambda r: r.created_at))


@FUZZ
@given(scenarios(with_other=True))
def test_another_accounts_records_change_nothing(scenario: Any) -> None:
    alone, widened = _context(scenario), _context(scenario, widened=True)
    for check in CHECKS:
        assert run(check, widened) == run(check, alone), check.id


# --- monotonic properties of the enquiry checks -----------------------------------------------


def _with_reply(ctx: CheckContext, message: Message, at: datetime) -> CheckContext:
    """The context with one more reply from the account, answering `message` directly, in Welsh."""
    answer = Reply(
        platform=message.platform,
        native_id="fuzz-answer",  # no other reply has it (uq_replies_platform_native)
        account_id=ctx.account.id,
        created_at=at,
        text="Diolch am eich neges, mae'r llyfrgell ar agor tan 5yh.",
        in_reply_to=message.native_id,
        conversation_id=message.conversation_id,
        language="cy",
        language_confidence=1.0,
    )
    replies = tuple(sorted((*ctx.replies, answer), key=lambda r: (r.created_at, r.native_id)))
    return CheckContext(**{**ctx.__dict__, "replies": replies})


def _about(findings: list[Finding], message: Message) -> set[str]:
    return {f.fingerprint for f in findings if f.subject == message_subject(message)}


@FUZZ
@given(scenarios(), st.data())
def test_a_welsh_reply_in_time_clears_the_enquiry(scenario: Any, data: st.DataObject) -> None:
    """welsh-reply-language: "The rule is met by any reply to it detected as cy or cy+en";
    welsh-unanswered and response-time: an enquiry with a reply from the account is not unanswered.
    And no check gains a finding about a message because the account answered it."""
    ctx = _context(scenario)
    if not ctx.messages:
        return
    message = data.draw(st.sampled_from(ctx.messages))
    delay = data.draw(st.sampled_from((timedelta(0), timedelta(seconds=1), timedelta(hours=1))))
    answered = _with_reply(ctx, message, message.created_at + delay)
    for check in CHECKS:
        before, after = _about(run(check, ctx), message), _about(run(check, answered), message)
        assert after <= before, check.id
        if check.id in ("welsh-reply-language", "welsh-unanswered", "response-time"):
            assert not after, check.id


ENQUIRY_CHECKS = ("welsh-reply-language", "welsh-unanswered", "response-time")


@FUZZ
@given(scenarios())
def test_what_the_docstrings_promise_between_checks(scenario: Any) -> None:
    """Exact statements of the checks' docstrings, on any context:
    - welsh-unanswered and response-time share the SLA; response-time covers every enquiry, so a
      Welsh enquiry overdue is overdue for both;
    - the account's own messages (author id or handle the account's) are no one's enquiry;
    - emergency-posting says nothing with no emergency declared, nor about a central account."""
    ctx = _context(scenario)
    found = {check.id: run(check, ctx) for check in CHECKS}
    subjects = {check_id: {f.subject for f in findings} for check_id, findings in found.items()}
    assert subjects["welsh-unanswered"] <= subjects["response-time"]
    own = {message_subject(m) for m in ctx.messages if m.author_id == ctx.account.native_id}
    for check_id in ENQUIRY_CHECKS:
        assert not own & subjects[check_id], check_id
    if ctx.emergency is None or ctx.account.is_central:
        assert found["emergency-posting"] == []
