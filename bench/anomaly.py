"""Measure post-anomaly: false alarms on a normal year of posts, and recall on planted hijacks.

    python bench/anomaly.py                      # 200 accounts, seeded
    python bench/anomaly.py --accounts 50 --seed 3

The normal year (seeded, deterministic): each account has its own habits, drawn once:
- posting days (weekdays; some accounts also weekends) and 0-4 original posts a day, at hours drawn
  from the account's working pattern (09:00-17:00 local, some 08:00-19:00), with evening events
  (18:00-21:30) on a few days a month, results-day posts at 06:00-07:00 for some accounts, and a
  live-coverage day a term (graduation, clearing) with up to 6 posts spread over an hour or two;
- links on about 60 % of posts: mostly the university's domain and subdomains, often a handful of
  partner sites the account uses, and about 3 % to a site it has never linked (a news story, a new
  partner): honest new domains;
- ordinary wording, including the university's own giveaways ("Win a hoodie in our freshers'
  giveaway! Tell us your favourite society").
Two years are generated; the first is the baseline of the second. The second year is judged week by
week, as the daemon would: at the end of each week the check sees that week's posts with the
history of the year before the week (computed as `monitor.history` computes it). Every finding in
the normal year is a false alarm.

Planted hijacks (one per account, in a random week of the second year, added to the normal posts):
- scam:      a crypto / giveaway-claim post at a normal hour, no link;
- burst:     6-8 posts within 10 minutes with ordinary-looking text;
- odd-hour:  a post at 02:00-04:30 local with ordinary text;
- lookalike: a post at a normal hour linking to a domain imitating the university's;
- plain-new: a post at a normal hour linking to an honest-looking domain never linked before, with
             ordinary text (by design NOT caught: a new domain alone is not a clear break).
Recall is the share of planted hijacks for which the check raises a finding on a planted post.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from checks.base import CheckContext, PostingHistory
from checks.post_anomaly import PostAnomalyCheck
from monitor.config import Account, Policy
from monitor.history import link_domain
from monitor.models import Post
from monitor.worktime import WorkingTime

LONDON = ZoneInfo("Europe/London")
START = datetime(2024, 1, 1, tzinfo=UTC)
YEAR = timedelta(days=365)
WEEK = timedelta(days=7)
OFFICIAL = ["aberwen.ac.uk"]
SUBDOMAINS = ["www.aberwen.ac.uk", "undeb.aberwen.ac.uk", "library.aberwen.ac.uk", "aberwen.ac.uk"]
PARTNERS = [
    "eventbrite.co.uk", "bbc.co.uk", "ucas.com", "gov.wales", "theguardian.com", "jisc.ac.uk", "nhs.uk",
    "coleg.cymru", "s4c.cymru", "visitwales.com", "ukri.org", "wales.com", "urdd.cymru", "natur.cymru",
]  # fmt: skip
TEXTS = (
    "Open day this Saturday: book your place",
    "New research on coastal erosion from our scientists",
    "Congratulations to this year's graduates",
    "The library is open late during exams",
    "Win a hoodie in our freshers' giveaway! Tell us your favourite society",
    "Log in to the student portal to see your timetable",
    "Meet the team behind our new marine science centre",
)
SCAMS = (
    "We're giving away 5 ETH to our followers! Connect your wallet to claim",
    "GIVEAWAY: free iPads for every student. Claim yours, log in here",
    "Crypto airdrop for students: don't miss out",
)
HIJACK_TYPES = ("scam", "burst", "odd-hour", "lookalike", "plain-new")


def account(index: int) -> Account:
    return Account.model_validate(
        {"id": f"acct-{index}", "platform": "x", "handle": f"H{index}", "name": f"Account {index}",
         "language": {"mode": "exempt", "reason": "bench"}, "monitoring_hours": "Mon-Fri 09:00-17:00"}
    )  # fmt: skip


class Habits:
    def __init__(self, rng: random.Random):
        self.weekends = rng.random() < 0.3
        self.per_day = rng.choice([1, 1, 2, 2, 3, 4])
        self.first, self.last = rng.choice([(9, 17), (9, 17), (8, 19), (10, 16)])
        self.evenings = rng.random() < 0.5
        self.early = rng.random() < 0.2  # results day / clearing posts at 06:00-07:00
        self.partners = rng.sample(PARTNERS, rng.randint(2, 6))
        self.link_share = rng.uniform(0.4, 0.8)


def local(day: datetime, hour: float) -> datetime:
    moment = datetime(day.year, day.month, day.day, tzinfo=LONDON) + timedelta(hours=hour)
    return moment.astimezone(UTC)


class World:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.serial = 0
        self.novel = 0

    def post(self, acct: Account, at: datetime, text: str, links: tuple[str, ...] = ()) -> Post:
        self.serial += 1
        return Post("x", f"p{self.serial}", acct.id, at, text, language="en", links=links)

    def link(self, habits: Habits) -> tuple[str, ...]:
        rng = self.rng
        if rng.random() > habits.link_share:
            return ()
        roll = rng.random()
        if roll < 0.03:  # an honest site never linked before
            self.novel += 1
            return (f"https://www.news-site-{self.novel}.co.uk/story",)
        if roll < 0.7:
            return (f"https://{rng.choice(SUBDOMAINS)}/page/{rng.randrange(999)}",)
        return (f"https://www.{rng.choice(habits.partners)}/item/{rng.randrange(999)}",)

    def normal_year(self, acct: Account, habits: Habits, days: int) -> list[Post]:
        rng = self.rng
        posts = []
        for offset in range(days):
            day = START + timedelta(days=offset)
            weekday = day.weekday() < 5
            if not weekday and not (habits.weekends and rng.random() < 0.5):
                continue
            for _ in range(rng.randint(0, habits.per_day)):
                hour = rng.uniform(habits.first, habits.last)
                posts.append(self.post(acct, local(day, hour), rng.choice(TEXTS), self.link(habits)))
            if habits.evenings and rng.random() < 0.1:
                posts.append(
                    self.post(acct, local(day, rng.uniform(18, 21.5)), rng.choice(TEXTS), self.link(habits))
                )
            if habits.early and rng.random() < 0.02:
                posts.append(
                    self.post(acct, local(day, rng.uniform(6, 7)), rng.choice(TEXTS), self.link(habits))
                )
            if rng.random() < 3 / 120:  # a live-coverage day, about three a year
                start = rng.uniform(habits.first, habits.last - 2)
                for minute in sorted(rng.uniform(0, 120) for _ in range(rng.randint(3, 6))):
                    posts.append(self.post(acct, local(day, start + minute / 60), rng.choice(TEXTS)))
        return sorted(posts, key=lambda p: p.created_at)

    def hijack(self, acct: Account, habits: Habits, kind: str, week_start: datetime) -> list[Post]:
        rng = self.rng
        day = week_start + timedelta(days=rng.randrange(5))
        normal_hour = rng.uniform(habits.first, habits.last)
        at = local(day, normal_hour)
        if kind == "scam":
            return [self.post(acct, at, rng.choice(SCAMS))]
        if kind == "burst":
            return [self.post(acct, at + timedelta(seconds=rng.uniform(0, 590)), rng.choice(TEXTS))
                    for _ in range(rng.randint(6, 8))]  # fmt: skip
        if kind == "odd-hour":
            return [self.post(acct, local(day, rng.uniform(2, 4.5)), rng.choice(TEXTS))]
        if kind == "lookalike":
            host = rng.choice(
                ["aberwen-ac-uk.help", "aberwen.ac.uk.account-check.com", "aberwenuni-portal.net"]
            )
            return [self.post(acct, at, "Important update for students", (f"https://{host}/update",))]
        return [self.post(acct, at, rng.choice(TEXTS), (f"https://www.student-deals-{self.serial}.com/",))]


def history(posts: list[Post], start: datetime, end: datetime) -> PostingHistory:
    """What `monitor.history.load_history` computes, over in-memory posts."""
    window = [p for p in posts if start <= p.created_at < end]
    if not window:
        return PostingHistory(end=end)
    per_hour = Counter(p.created_at.replace(minute=0, second=0, microsecond=0) for p in window)
    per_slot = Counter(p.created_at.replace(minute=p.created_at.minute // 10 * 10, second=0, microsecond=0)
                       for p in window)  # fmt: skip
    return PostingHistory(
        start=window[0].created_at,
        end=end,
        posts=len(window),
        hours_utc=frozenset(p.created_at.hour for p in window),
        max_per_hour=max(per_hour.values()),
        max_per_10min=max(per_slot.values()),
        domains=frozenset(link_domain(link) for p in window for link in p.links),
    )


def judge(check: PostAnomalyCheck, acct: Account, posts: list[Post], week_end: datetime) -> list[str]:
    """Native ids of the posts the check flags in the week ending at week_end."""
    week_start = week_end - WEEK
    ctx = CheckContext(
        account=acct,
        policy=Policy(official_domains=OFFICIAL),
        now=week_end,
        worktime=WorkingTime(acct.hours, "Europe/London", None),
        lookback=WEEK,
        posts=tuple(p for p in posts if week_start <= p.created_at < week_end),
        history=history(posts, week_start - YEAR, week_start),
    )
    return [f.subject.split(":", 2)[2] for f in check.evaluate(ctx)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    world = World(args.seed)
    check = PostAnomalyCheck()
    judged_posts = false_alarms = accounts_alarmed = 0
    caught: Counter[str] = Counter()
    planted: Counter[str] = Counter()
    examples: list[str] = []
    for index in range(args.accounts):
        acct, habits = account(index), Habits(world.rng)
        posts = world.normal_year(acct, habits, 2 * 365)
        weeks = [START + YEAR + WEEK * (n + 1) for n in range(52)]
        alarmed = False
        for week_end in weeks:
            flagged = judge(check, acct, posts, week_end)
            judged_posts += sum(1 for p in posts if week_end - WEEK <= p.created_at < week_end)
            false_alarms += len(flagged)
            alarmed |= bool(flagged)
            if flagged and len(examples) < 5:
                post = next(p for p in posts if p.native_id == flagged[0])
                examples.append(f"{acct.id} {post.created_at:%Y-%m-%d %H:%M} {post.text[:50]!r} {post.links}")
        accounts_alarmed += alarmed
        kind = HIJACK_TYPES[index % len(HIJACK_TYPES)]
        week_end = world.rng.choice(weeks)
        bad = world.hijack(acct, habits, kind, week_end - WEEK)
        with_hijack = sorted([*posts, *bad], key=lambda p: p.created_at)
        planted[kind] += 1
        caught[kind] += bool(set(judge(check, acct, with_hijack, week_end)) & {p.native_id for p in bad})
    seconds = time.perf_counter() - started
    print(
        f"post-anomaly on a normal year: {args.accounts} accounts, {judged_posts} posts judged "
        "in 52 weekly runs"
    )
    print(f"  false alarms: {false_alarms} posts ({false_alarms / max(judged_posts, 1):.4%}), "
          f"{accounts_alarmed} of {args.accounts} accounts alarmed at least once")  # fmt: skip
    print(f"  honest new domains linked in the year: {world.novel}")
    for example in examples:
        print(f"  e.g. {example}")
    total = sum(planted.values())
    print(
        f"recall on planted hijacks: {sum(caught.values())} of {total} ({sum(caught.values()) / total:.0%})"
    )
    for kind in HIJACK_TYPES:
        print(f"  {kind:10} {caught[kind]:4} of {planted[kind]:4}")
    print(f"({seconds:.1f} s)")


if __name__ == "__main__":
    main()
