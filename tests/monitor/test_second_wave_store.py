"""access-review, post-anomaly and clickable on a real store (SQLite and PostgreSQL), and the
`accounts confirm-access` command."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from monitor.checking import run_checks
from monitor.cli.main import cli
from monitor.config import Config, parse_config
from monitor.db import AccessConfirmationRow, FindingRow, RegistryChangeRow
from monitor.history import load_history
from monitor.models import Post
from monitor.store import Store, store_posts

NOW = datetime(2025, 6, 4, 12, 0, tzinfo=UTC)
CONFIG = """
database: {database}
policy: {{official_domains: [bangor.ac.uk], access_review: 180d}}
accounts:
  - {{id: central-x, platform: x, handle: BangorUni, name: Bangor, role: central,
     language: {{mode: exempt, reason: intl}}, monitoring_hours: "24/7",
     people: [c@example.ac.uk, d@example.ac.uk],
     manager: c@example.ac.uk}}
  - {{id: dept-x, platform: x, handle: DeptX, name: Dept, language: {{mode: exempt, reason: intl}},
     monitoring_hours: "Mon-Fri 09:00-17:00", people: [{people}], manager: {manager}}}
"""


def config(
    store: Store, people: str = "a@example.ac.uk, b@example.ac.uk", manager: str = "m@example.ac.uk"
) -> Config:
    return parse_config(CONFIG.format(database=store.url, people=people, manager=manager), env={})


def open_findings(store: Store, check: str) -> list[FindingRow]:
    with store.session() as session:
        query = select(FindingRow).where(
            FindingRow.check == check, FindingRow.status == "open", FindingRow.account_id == "dept-x"
        )
        return list(session.scalars(query))


def test_a_leaver_opens_access_review_until_confirmed(any_store: Store) -> None:
    run_checks(config(any_store), any_store, now=NOW)  # the baseline: nobody left
    assert open_findings(any_store, "access-review") == []

    later = NOW + timedelta(days=1)
    changed = config(any_store, people="a@example.ac.uk, c@example.ac.uk", manager="a@example.ac.uk")
    run = run_checks(changed, any_store, now=later)
    (finding,) = [f for f in run.opened if f.check == "access-review"]
    assert finding.subject == "access-left"
    assert "b@example.ac.uk left the named people" in finding.detail
    assert "m@example.ac.uk stopped being the manager" in finding.detail
    run_checks(changed, any_store, now=later + timedelta(hours=1))  # stays open, no new change rows
    with any_store.session() as session:
        assert len(list(session.scalars(select(RegistryChangeRow)))) == 2

    with any_store.session() as session:
        session.add(
            AccessConfirmationRow(
                account_id="dept-x", confirmed_by="Ceri", note="", confirmed_at=later + timedelta(hours=2)
            )
        )
    run = run_checks(changed, any_store, now=later + timedelta(hours=3))
    assert [(r.check, r.reason.split(" (")[0]) for r in run.resolved if r.account_id == "dept-x"] == [
        ("access-review", "access confirmed by Ceri")
    ]

    # 180 days after that confirmation the periodic review is due
    run = run_checks(changed, any_store, now=later + timedelta(days=181))
    assert [f.subject for f in run.opened if f.check == "access-review" and f.account_id == "dept-x"] == [
        "access-review"
    ]


def test_confirm_access_command(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "socialmon.yaml"
    path.write_text(
        CONFIG.format(
            database=store.url, people="a@example.ac.uk, b@example.ac.uk", manager="m@example.ac.uk"
        )
    )
    run_checks(config(store), store, now=datetime.now(UTC) - timedelta(days=200))
    assert [f.subject for f in open_findings(store, "access-review")] == []
    run_checks(config(store), store)
    assert [f.subject for f in open_findings(store, "access-review")] == ["access-review"]

    runner = CliRunner()
    args = ["accounts", "confirm-access", "--config", str(path), "--account", "dept-x", "--by", "Ceri Jones"]
    result = runner.invoke(cli, [*args, "--note", "password changed", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["account"] == "dept-x" and out["by"] == "Ceri Jones" and out["resolved"] == ["access-review"]
    with store.session() as session:
        (row,) = session.scalars(select(AccessConfirmationRow))
        assert (row.confirmed_by, row.note) == ("Ceri Jones", "password changed")
    assert open_findings(store, "access-review") == []

    bad = runner.invoke(
        cli, ["accounts", "confirm-access", "--config", str(path), "--account", "nope", "--by", "X"]
    )
    assert bad.exit_code == 2 and bad.output.count("\n") == 1 and "'nope'" in bad.output
    assert (
        runner.invoke(
            cli, ["accounts", "confirm-access", "--config", str(path), "--account", "dept-x"]
        ).exit_code
        == 2
    )


def _year_of_posts(now: datetime) -> list[Post]:
    posts = []
    for day in range(20, 380):
        at = (now - timedelta(days=day)).replace(hour=10 + day % 5, minute=0)
        links = ("https://www.bangor.ac.uk/news",) if day % 2 else ("https://www.eventbrite.co.uk/e/1",)
        posts.append(Post("x", f"n{day}", "dept-x", at, f"News of day {day}", language="en", links=links))
    return posts


def test_history_is_learnt_from_the_store(any_store: Store) -> None:
    with any_store.session() as session:
        store_posts(session, _year_of_posts(NOW), NOW)
        store_posts(
            session,
            [
                Post("x", f"b{i}", "dept-x", NOW - timedelta(days=100, minutes=-i), "x", language="en")
                for i in range(3)
            ],
            NOW,
        )
        history = load_history(session, ["dept-x"], NOW, NOW - timedelta(days=14))["dept-x"]
    assert history.hours_utc == frozenset({10, 11, 12, 13, 14})
    assert history.max_per_hour == 3 and history.max_per_10min == 3  # three posts a minute apart
    assert history.domains == frozenset({"bangor.ac.uk", "eventbrite.co.uk"})
    # clickable's 30 days: days 20..29, each with its link
    assert len(history.recent_originals) == 10
    assert all(len(links) == 1 for _, links in history.recent_originals)
    assert history.posts == 360 + 3  # days 20..379 (the year before the 14-day look-back), the 3 quick ones


def test_a_hijack_post_alerts_and_normal_posts_do_not(any_store: Store) -> None:
    cfg = config(any_store)
    with any_store.session() as session:
        store_posts(session, _year_of_posts(NOW), NOW)
        store_posts(
            session,
            [
                Post(
                    "x",
                    "ok",
                    "dept-x",
                    NOW - timedelta(hours=1),
                    "Open day",
                    language="en",
                    links=("https://bangor.ac.uk/open-day",),
                )
            ],
            NOW,
        )
    run = run_checks(cfg, any_store, now=NOW)
    assert [f for f in run.opened if f.check == "post-anomaly"] == []
    with any_store.session() as session:
        store_posts(
            session,
            [
                Post(
                    "x",
                    "bad",
                    "dept-x",
                    NOW - timedelta(minutes=5),
                    "Claim your prize",
                    language="en",
                    links=("https://bangor-prizes.example/login",),
                )
            ],
            NOW,
        )
    run = run_checks(cfg, any_store, now=NOW)
    (finding,) = [f for f in run.opened if f.check == "post-anomaly"]
    assert finding.subject == "post:x:bad" and finding.immediate
    assert "bangor-prizes.example" in finding.detail
