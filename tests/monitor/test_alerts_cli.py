"""`socialmon alerts test` and `socialmon alerts list` against real local receivers."""

from __future__ import annotations

import json
from pathlib import Path

from alerts_support import ACCOUNTS, NOW, email_channel, teams_channel
from click.testing import CliRunner

from monitor.cli.main import cli
from monitor.receivers import SmtpSink, TeamsReceiver
from monitor.routing import enqueue_alert


def write_config(tmp_path: Path, channels: dict[str, str], routes: dict[str, str]) -> Path:
    path = tmp_path / "socialmon.yaml"
    text = ACCOUNTS + f"database: sqlite:///{tmp_path / 'test.db'}\nalerts:\n  channels:\n"
    text += "".join(f"    {k}: {v}\n" for k, v in channels.items()) + "  routes:\n"
    text += "".join(f"    {k}: {v}\n" for k, v in routes.items())
    path.write_text(text)
    return path


def test_alerts_test_reports_each_channel(store, tmp_path: Path) -> None:
    with SmtpSink(tmp_path / "mail") as sink, TeamsReceiver(tmp_path / "teams") as teams:
        teams.script(404)
        path = write_config(
            tmp_path,
            {"mail": email_channel(sink.port), "teams": teams_channel(teams.url)},
            {"security": "{channels: [mail, teams]}"},
        )
        result = CliRunner().invoke(cli, ["alerts", "test", "--route", "security", "--config", str(path)])
        teams_port = teams.port
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["mail", "email", "delivered"]
    assert lines[1].startswith(
        f"teams  teams  failed: Teams channel 'teams' (host 127.0.0.1:{teams_port}): HTTP 404"
    )
    assert teams.secret not in result.output
    assert "[TEST]" in sink.messages[0]["Subject"]


def test_alerts_test_unknown_route_is_one_line(store, tmp_path: Path) -> None:
    path = write_config(tmp_path, {"mail": email_channel(1)}, {"security": "{channels: [mail]}"})
    result = CliRunner().invoke(cli, ["alerts", "test", "--route", "nope", "--config", str(path)])
    assert result.exit_code == 2
    assert (
        result.output.strip()
        == "socialmon: route 'nope' is not configured (alerts.routes); configured: security"
    )


def test_alerts_list_filters_and_json(store, tmp_path: Path) -> None:
    path = write_config(tmp_path, {"mail": email_channel(1)}, {"security": "{channels: [mail]}"})
    from monitor.config import load_config

    config = load_config(path)
    with store.session() as session:
        [pending] = enqueue_alert(session, config, "security", "first", "high", "Profile changed", now=NOW)
        [failed] = enqueue_alert(session, config, "security", "first", "high", "Other", now=NOW)
        from monitor.db import AlertRow

        row = session.get(AlertRow, failed)
        row.status, row.last_error, row.attempts = "failed", "SMTP 127.0.0.1:1: Connection refused", 12
    runner = CliRunner()
    result = runner.invoke(cli, ["alerts", "list", "--failed", "--json", "--config", str(path)])
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.stdout)
    assert (entry["id"], entry["status"], entry["attempts"]) == (failed, "failed", 12)
    result = runner.invoke(cli, ["alerts", "list", "--pending", "--config", str(path)])
    assert result.exit_code == 0
    assert (
        "Profile changed" in result.stdout and "Other" not in result.stdout and str(pending) in result.stdout
    )
    result = runner.invoke(cli, ["alerts", "list", "--config", str(path)])
    assert "Connection refused" in result.stdout and "Profile changed" in result.stdout
