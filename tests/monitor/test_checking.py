"""The finding lifecycle on a real store (SQLite and PostgreSQL): open once, stay open, resolve, re-open."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from monitor.checking import run_checks
from monitor.cli.main import cli
from monitor.config import Config, parse_config
from monitor.db import AccountStateRow, EmergencyRow, FindingRow
from monitor.models import Message, Post, ProfileSnapshot, Reply, fingerprint
from monitor.store import Store, store_messages, store_posts, store_profile, store_replies

NOW = datetime(2025, 6, 4, 12, 0, tzinfo=UTC)  # Wednesday, 13:00 BST
REGISTERED = (
    'monitoring_hours: "Mon-Fri 09:00-17:00", people: [a@example.ac.uk, b@example.ac.uk], '
    "manager: m@example.ac.uk"
)
CONFIG_YAML = """
database: {database}
accounts:
  - {{id: central-x, platform: x, handle: BangorUni, name: Bangor, role: central,
     language: {{mode: bilingual}}, {registered}}}
  - {{id: dept-x, platform: x, handle: DeptX, name: Dept, language: {{mode: bilingual}}, {registered}}}
  - {{id: dept-en, platform: facebook, handle: DeptEN, name: Dept EN,
     language: {{mode: paired, pair: dept-cy, lang: en}}, {registered}}}
  - {{id: dept-cy, platform: facebook, handle: AdranCY, name: Adran CY,
     language: {{mode: paired, pair: dept-en, lang: cy}}, {registered}}}
"""


def make_config(store: Store) -> Config:
    return parse_config(CONFIG_YAML.format(database=store.url, registered=REGISTERED), env={})


def welsh_question(native_id: str = "m1", at: datetime | None = None) -> Message:
    return Message(
        platform="x", native_id=native_id, account_id="dept-x", channel="mention", author_id="u1",
        author_name="Gwen", created_at=at or NOW - timedelta(hours=30), text="Pryd mae'r llyfrgell ar agor?",
        language="cy", is_enquiry=True, url=f"https://x.com/gwen/status/{native_id}",
    )  # fmt: skip


def fresh_posts(store: Store, now: datetime) -> None:
    """Keep cadence quiet: a recent original post on every account, with counterparts."""
    posts = [
        Post(
            "x",
            f"c-{now:%j%H%M}",
            "central-x",
            now - timedelta(hours=2),
            "Newyddion / News",
            language="cy+en",
        ),
        Post(
            "x", f"d-{now:%j%H%M}", "dept-x", now - timedelta(hours=2), "Newyddion / News", language="cy+en"
        ),
        Post("facebook", f"e-{now:%j%H%M}", "dept-en", now - timedelta(hours=2), "News", language="en"),
        Post("facebook", f"w-{now:%j%H%M}", "dept-cy", now - timedelta(hours=2), "Newyddion", language="cy"),
    ]
    with store.session() as session:
        store_posts(session, posts, now)


def open_rows(store: Store, check: str | None = None) -> list[FindingRow]:
    with store.session() as session:
        stmt = select(FindingRow).where(FindingRow.status == "open")
        if check:
            stmt = stmt.where(FindingRow.check == check)
        return list(session.scalars(stmt))


def all_rows(store: Store, check: str) -> list[FindingRow]:
    with store.session() as session:
        return list(
            session.scalars(select(FindingRow).where(FindingRow.check == check).order_by(FindingRow.id))
        )


def test_open_stay_open_resolve_and_reopen(any_store: Store) -> None:
    config = make_config(any_store)
    fresh_posts(any_store, NOW)
    question = welsh_question()
    with any_store.session() as session:
        store_messages(session, [question], NOW)

    first = run_checks(config, any_store, now=NOW)
    (row,) = open_rows(any_store, "welsh-unanswered")
    # Asked Tue 3 June 07:00 BST: the 4 h SLA runs Tue 09:00-13:00 BST (12:00 UTC).
    assert row.since == datetime(2025, 6, 3, 12, 0, tzinfo=UTC)
    assert row.opened_at == NOW and row.account_id == "dept-x"
    assert row.fingerprint == fingerprint("welsh-unanswered", "dept-x", "message:x:m1")
    assert any(f.check == "welsh-unanswered" for f in first.opened)

    # Running again changes nothing but last_seen_at.
    second = run_checks(config, any_store, now=NOW + timedelta(minutes=15))
    assert second.opened == [] and second.resolved == []
    (again,) = open_rows(any_store, "welsh-unanswered")
    assert (again.id, again.since, again.opened_at) == (row.id, row.since, row.opened_at)
    assert again.last_seen_at == NOW + timedelta(minutes=15)
    assert second.open_count == first.open_count

    # A Welsh reply resolves it, with the time and the reason.
    answer = Reply(
        "x", "r1", "dept-x", NOW + timedelta(minutes=20), "Tan 5yh", in_reply_to="m1", language="cy"
    )
    with any_store.session() as session:
        store_replies(session, [answer], NOW)
    third = run_checks(config, any_store, now=NOW + timedelta(minutes=30))
    resolved = {(r.check, r.subject): r for r in third.resolved}
    assert resolved[("welsh-unanswered", "message:x:m1")].reason.startswith("a reply in Welsh arrived")
    assert open_rows(any_store, "welsh-unanswered") == []
    (closed,) = all_rows(any_store, "welsh-unanswered")
    assert closed.status == "resolved" and closed.resolved_at == NOW + timedelta(minutes=30)
    assert closed.resolve_reason and "reply in Welsh" in closed.resolve_reason


def test_reopening_is_a_new_row(any_store: Store) -> None:
    config = make_config(any_store)
    fresh_posts(any_store, NOW)
    with any_store.session() as session:
        session.add(
            AccountStateRow(
                account_id="dept-x", last_status="auth_expired", failing_since=NOW - timedelta(hours=2)
            )
        )
    run_checks(config, any_store, now=NOW)
    (first,) = open_rows(any_store, "connector-health")
    assert first.since == NOW - timedelta(hours=1) and first.immediate

    with any_store.session() as session:
        state = session.get(AccountStateRow, "dept-x")
        state.failing_since, state.last_status = None, "ok"
    run = run_checks(config, any_store, now=NOW + timedelta(minutes=10))
    assert [(r.check, r.reason) for r in run.resolved if r.check == "connector-health"] == [
        ("connector-health", "polling works again")
    ]

    with any_store.session() as session:
        state = session.get(AccountStateRow, "dept-x")
        state.failing_since, state.last_status = NOW + timedelta(minutes=20), "transient"
    run_checks(config, any_store, now=NOW + timedelta(hours=2))
    rows = all_rows(any_store, "connector-health")
    assert [r.status for r in rows] == ["resolved", "open"]
    assert rows[0].fingerprint == rows[1].fingerprint and rows[0].id != rows[1].id
    assert rows[1].since == NOW + timedelta(minutes=80)


def test_incremental_run_touches_only_that_account_and_its_pair(any_store: Store) -> None:
    config = make_config(any_store)
    fresh_posts(any_store, NOW)
    english = Post(
        "facebook", "en-1", "dept-en", NOW - timedelta(hours=1), "Open day on Saturday", language="en"
    )
    with any_store.session() as session:
        store_posts(session, [english], NOW)
        store_messages(session, [welsh_question()], NOW)
    run_checks(config, any_store, now=NOW)
    assert {r.account_id for r in open_rows(any_store, "welsh-counterpart")} == {"dept-en"}
    assert {r.account_id for r in open_rows(any_store, "welsh-unanswered")} == {"dept-x"}

    # dept-cy posts the Welsh version (within 30 min): a run for dept-cy alone resolves dept-en's finding,
    # and leaves dept-x's findings alone even though dept-x's question is now answered in the store.
    welsh = Post(
        "facebook",
        "cy-1",
        "dept-cy",
        NOW - timedelta(minutes=45),
        "Diwrnod agored ddydd Sadwrn",
        language="cy",
    )
    answer = Reply("x", "r1", "dept-x", NOW, "Tan 5yh", in_reply_to="m1", language="cy")
    with any_store.session() as session:
        store_posts(session, [welsh], NOW)
        store_replies(session, [answer], NOW)
    run = run_checks(config, any_store, now=NOW + timedelta(minutes=5), account_ids=["dept-cy"])
    assert sorted(run.accounts) == ["dept-cy", "dept-en"]
    assert [(r.check, r.account_id, r.reason) for r in run.resolved] == [
        ("welsh-counterpart", "dept-en", "counterpart posted")
    ]
    assert {r.account_id for r in open_rows(any_store, "welsh-unanswered")} == {"dept-x"}


def test_old_open_subject_stays_open_beyond_the_lookback(any_store: Store) -> None:
    config = make_config(any_store)
    fresh_posts(any_store, NOW)
    with any_store.session() as session:
        store_messages(session, [welsh_question("old", at=NOW - timedelta(days=10))], NOW)
    run_checks(config, any_store, now=NOW)
    assert len(open_rows(any_store, "welsh-unanswered")) == 1
    later = NOW + timedelta(days=20)
    fresh_posts(any_store, later)
    run = run_checks(config, any_store, now=later)
    assert not [r for r in run.resolved if r.check == "welsh-unanswered"]
    assert len(open_rows(any_store, "welsh-unanswered")) == 1


def test_emergency_findings_open_and_resolve_when_it_ends(any_store: Store) -> None:
    config = make_config(any_store)
    fresh_posts(any_store, NOW)
    with any_store.session() as session:
        session.add(EmergencyRow(started_at=NOW - timedelta(minutes=30), reason="drill"))
        store_posts(session, [
            Post("x", "e1", "dept-x", NOW - timedelta(minutes=10), "Exams moved to Friday, see the website"),
            Post("x", "e2", "dept-x", NOW - timedelta(minutes=9), "Dilynwch @BangorUni am wybodaeth"),
            Post("x", "e3", "central-x", NOW - timedelta(minutes=8), "Campus closed. Stay indoors."),
        ], NOW)  # fmt: skip
    run_checks(config, any_store, now=NOW)
    (row,) = open_rows(any_store, "emergency-posting")
    assert row.subject == "post:x:e1" and row.severity == "critical" and row.immediate
    with any_store.session() as session:
        session.scalars(select(EmergencyRow)).one().ended_at = NOW + timedelta(minutes=5)
    run = run_checks(config, any_store, now=NOW + timedelta(minutes=6))
    assert [(r.subject, r.reason) for r in run.resolved if r.check == "emergency-posting"] == [
        ("post:x:e1", "the emergency ended")
    ]


def test_profile_change_lifecycle(any_store: Store) -> None:
    config = make_config(any_store)
    fresh_posts(any_store, NOW)
    base = ProfileSnapshot(
        "dept-x", NOW - timedelta(days=3), "Dept", "DeptX", "Monitored Mon-Fri 9am-5pm", "a1"
    )
    with any_store.session() as session:
        store_profile(session, base)
    run_checks(config, any_store, now=NOW)
    assert open_rows(any_store, "profile-changed") == []  # baseline
    with any_store.session() as session:
        store_profile(session, ProfileSnapshot("dept-x", NOW, "Giveaway!", "DeptX", base.text, "a2"))
    run_checks(config, any_store, now=NOW + timedelta(minutes=1))
    (row,) = open_rows(any_store, "profile-changed")
    assert "display name" in row.detail and "avatar" in row.detail


def test_removed_account_findings_resolve_on_a_full_run(any_store: Store) -> None:
    config = make_config(any_store)
    with any_store.session() as session:
        session.add(FindingRow(
            fingerprint=fingerprint("registry", "gone", "registry"), check="registry", account_id="gone",
            subject="registry", severity="warning", since=NOW, opened_at=NOW, last_seen_at=NOW,
        ))  # fmt: skip
    run_checks(config, any_store, now=NOW, account_ids=["dept-x"])
    assert len(open_rows(any_store, "registry")) == 1  # an incremental run cannot tell
    run = run_checks(config, any_store, now=NOW)
    assert [(r.account_id, r.reason) for r in run.resolved] == [
        ("gone", "the account is no longer monitored (removed or disabled)")
    ]


def test_unknown_account_is_refused() -> None:
    from monitor.checking import accounts_to_evaluate

    config = parse_config(CONFIG_YAML.format(database="sqlite:///x.db", registered=REGISTERED), env={})
    with pytest.raises(KeyError, match="nope"):
        accounts_to_evaluate(config, ["nope"])


# --- the command ------------------------------------------------------------------------------


@pytest.fixture
def cli_config(store: Store, tmp_path: Path) -> Path:
    path = tmp_path / "socialmon.yaml"
    path.write_text(CONFIG_YAML.format(database=store.url, registered=REGISTERED), encoding="utf-8")
    now = datetime.now(UTC)
    fresh_posts(store, now)
    with store.session() as session:
        store_messages(session, [welsh_question("m9", at=now - timedelta(days=6))], now)
        session.add(
            AccountStateRow(
                account_id="dept-en", last_status="auth_expired", failing_since=now - timedelta(days=1)
            )
        )
    return path


def test_check_command_prints_a_table(cli_config: Path) -> None:
    result = CliRunner().invoke(cli, ["check", "--config", str(cli_config)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["SEVERITY", "CHECK", "ACCOUNT", "SUBJECT"]
    assert "SINCE (UTC)" in lines[0]  # the times are UTC, not the accounts' local time
    assert any("welsh-unanswered" in line and "message:x:m9" in line for line in lines)
    assert any(line.startswith("high") and "connector-health" in line for line in lines)


def test_check_command_json_lines_and_fail_on(cli_config: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["check", "--config", str(cli_config), "--json", "--account", "dept-x"])
    assert result.exit_code == 0, result.output
    items = [json.loads(line) for line in result.stdout.splitlines()]
    assert {"check", "account", "severity", "subject", "since", "status", "policy_section", "detail"} <= set(
        items[0]
    )
    assert {i["account"] for i in items} == {"dept-x"}
    unanswered = next(i for i in items if i["check"] == "welsh-unanswered")
    assert unanswered["status"] == "open" and unanswered["since"].endswith("Z")
    assert unanswered["policy_section"].startswith("Language Policy")

    assert runner.invoke(cli, ["check", "--config", str(cli_config), "--fail-on", "high"]).exit_code == 1
    assert runner.invoke(cli, ["check", "--config", str(cli_config), "--fail-on", "critical"]).exit_code == 0


def test_check_command_bad_account_is_one_line(cli_config: Path) -> None:
    result = CliRunner().invoke(cli, ["check", "--config", str(cli_config), "--account", "nope"])
    assert result.exit_code == 2
    assert "no account 'nope'" in result.output and "Traceback" not in result.output


def test_a_failing_check_is_reported_and_leaves_its_findings_open(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from checks.registry import RegistryCheck

    config = parse_config(
        CONFIG_YAML.format(database=store.url, registered=REGISTERED).replace(
            ", manager: m@example.ac.uk", "", 1
        ),
        env={},
    )
    fresh_posts(store, NOW)
    run_checks(config, store, now=NOW)
    assert [r.account_id for r in open_rows(store, "registry")] == ["central-x"]

    def broken(self: RegistryCheck, ctx: object) -> list[object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(RegistryCheck, "evaluate", broken)
    run = run_checks(config, store, now=NOW + timedelta(minutes=5))
    assert run.errors and all("registry" in e and "boom" in e for e in run.errors)
    assert [r.account_id for r in open_rows(store, "registry")] == ["central-x"]  # not resolved
    assert run.resolved == []
