"""`socialmon findings ...` on SQLite and PostgreSQL: the JSON interface, the actions, one-line errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alerts_support import ACCOUNTS, add_finding
from click.testing import CliRunner, Result

from monitor.cli.main import cli

LIST_KEYS = [
    "id",
    "check",
    "account",
    "severity",
    "subject",
    "status",
    "state",
    "since",
    "by",
    "note",
    "until",
]


@pytest.fixture
def setup(any_store, tmp_path: Path) -> tuple[Path, list[int]]:
    path = tmp_path / "socialmon.yaml"
    web = (
        "web:\n  public_url: https://sm.example.ac.uk\n  auth: {mode: proxy}\n  roles: {a@uni.ac.uk: comms}\n"
    )
    path.write_text(ACCOUNTS + f"database: {any_store.url}\n" + web)
    with any_store.session() as session:
        ids = [
            add_finding(session, title="Posted in lockdown").id,
            add_finding(session, "cadence", "central", "account", "warning", title="No post for 9 days").id,
            add_finding(
                session, subject="post:facebook:7", status="resolved", resolved_at=datetime.now(UTC)
            ).id,
        ]
    return path, ids


def run(path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["findings", *args, "--config", str(path)])


def json_lines(result: Result) -> list[dict[str, object]]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_list_json_is_one_object_per_line_with_the_documented_keys(setup) -> None:
    path, (crit, low, gone) = setup
    rows = json_lines(run(path, "list", "--json"))
    assert [r["id"] for r in rows] == [crit, low]  # open by default, most severe first
    assert all(list(r) == LIST_KEYS for r in rows)
    assert rows[1] == {
        "id": low,
        "check": "cadence",
        "account": "central",
        "severity": "warning",
        "subject": "account",
        "status": "open",
        "state": "none",
        "since": rows[1]["since"],
        "by": None,
        "note": None,
        "until": None,
    }
    assert [r["id"] for r in json_lines(run(path, "list", "--status", "resolved", "--json"))] == [gone]
    assert len(json_lines(run(path, "list", "--status", "all", "--json"))) == 3
    assert [r["id"] for r in json_lines(run(path, "list", "--check", "cadence", "--json"))] == [low]
    assert [r["id"] for r in json_lines(run(path, "list", "--account", "physics-en", "--json"))] == [crit]


def test_the_actions_change_state_and_show_keeps_the_history(setup) -> None:
    path, (crit, low, _) = setup
    result = run(path, "ack", str(crit), "--by", "a@uni.ac.uk", "--note", "phoning Physics")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"Finding {crit} acknowledged by a@uni.ac.uk."
    assert run(path, "snooze", str(low), "--for", "2h", "--by", "b@uni.ac.uk").exit_code == 0
    [snoozed] = json_lines(run(path, "list", "--state", "snoozed", "--json"))
    until = datetime.fromisoformat(str(snoozed["until"]))
    assert timedelta(minutes=119) < until - datetime.now(UTC) <= timedelta(hours=2)
    assert run(path, "reopen", str(low), "--by", "b@uni.ac.uk").exit_code == 0
    result = run(
        path, "dismiss", str(low), "--reason", "accepted exception", "--by", "c", "--until", "2099-01-01"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"Finding {low} dismissed until 2099-01-01 00:00 by c."

    shown = json_lines(run(path, "show", str(low), "--json"))[0]
    assert list(shown) == [*LIST_KEYS, "events"]
    assert (shown["state"], shown["by"], shown["note"]) == ("dismissed", "c", "accepted exception")
    assert shown["until"] == "2099-01-01T00:00:00+00:00"  # Europe/London is on GMT in January
    assert [(e["action"], e["by"], e["note"]) for e in shown["events"]] == [
        ("snoozed", "b@uni.ac.uk", None),
        ("reopened", "b@uni.ac.uk", None),
        ("dismissed", "c", "accepted exception"),
    ]
    assert all(list(e) == ["at", "by", "action", "note"] for e in shown["events"])

    text = run(path, "show", f"#{crit}")
    assert text.exit_code == 0, text.output
    assert "State:     acknowledged by a@uni.ac.uk" in text.stdout
    assert f"Page:      https://sm.example.ac.uk/findings/{crit}" in text.stdout
    assert "acknowledged by a@uni.ac.uk: phoning Physics" in text.stdout
    table = run(path, "list").stdout.splitlines()
    assert table[0].split()[:5] == ["ID", "SEVERITY", "STATUS", "STATE", "CHECK"]
    assert any(
        line.startswith(f"{low} ") and "dismissed until 2099-01-01 00:00 by c" in line for line in table
    )


def test_snooze_until_a_local_time(setup) -> None:
    path, (crit, _, _) = setup
    assert run(path, "snooze", str(crit), "--until", "2099-07-01 09:00", "--by", "x").exit_code == 0
    [row] = json_lines(run(path, "list", "--state", "snoozed", "--json"))
    assert row["until"] == "2099-07-01T08:00:00+00:00"  # 09:00 BST


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ack", "abc", "--by", "x"], "socialmon: findings ack: 'abc' is not a finding id"),
        (["ack", "999", "--by", "x"], "socialmon: findings ack 999: no finding 999"),
        (["show", "999"], "socialmon: findings show 999: no finding 999"),
        (
            ["ack", "{resolved}", "--by", "x"],
            "socialmon: findings ack {resolved}: finding {resolved} is resolved",
        ),
        (
            ["reopen", "{open}", "--by", "x"],
            "socialmon: findings reopen {open}: finding {open} is not acknowledged",
        ),
        (
            ["snooze", "{open}", "--by", "x"],
            "socialmon: findings snooze {open}: give one of --until TIME or --for",
        ),
        (
            ["snooze", "{open}", "--by", "x", "--until", "soonish"],
            "socialmon: findings snooze {open}: --until: 'soonish' is not a time",
        ),
        (
            ["snooze", "{open}", "--by", "x", "--until", "2001-01-01"],
            "socialmon: findings snooze {open}: --until: a snooze or dismissal must end in the future",
        ),
        (
            ["snooze", "{open}", "--by", "x", "--for", "5x"],
            "socialmon: findings snooze {open}: --for '5x' is not",
        ),
        (
            ["dismiss", "{open}", "--by", "x", "--reason", " "],
            "socialmon: findings dismiss {open}: a dismissal needs",
        ),
        (["ack", "{open}", "--by", " "], "socialmon: findings ack {open}: say who you are"),
        (["list", "--status", "closed"], "socialmon: findings list: --status 'closed' is not one of open"),
        (["list", "--state", "asleep"], "socialmon: findings list: state 'asleep' is not one of none"),
        (["list", "--account", "nobody"], "socialmon: findings list: --account 'nobody' is not an account"),
        (["list", "--check", "nope"], "socialmon: findings list: --check 'nope' is not a check"),
    ],
)
def test_bad_ids_states_and_times_are_one_line_and_exit_2(setup, args: list[str], message: str) -> None:
    path, (crit, _, gone) = setup
    args = [a.format(open=crit, resolved=gone) for a in args]
    result = run(path, *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(message.format(open=crit, resolved=gone)), line
    assert "Traceback" not in result.output


def test_findings_is_in_the_command_list() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert "findings" in result.output and "acknowledge, snooze, dismiss" in result.output
