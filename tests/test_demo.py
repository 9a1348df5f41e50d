"""End to end: `socialmon demo` and `socialmon demo --emergency-drill`, in-process, loopback only."""

from __future__ import annotations

import html
import ipaddress
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from checks import REGISTRY
from monitor.cli.main import cli

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.slow

# One audit hook per process (they cannot be removed); it records only while a test asks it to.
_RECORDING: list[list[tuple[str, Any]]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _RECORDING and event in {"socket.connect", "socket.getaddrinfo"}:
        _RECORDING[-1].append((event, args[1] if event == "socket.connect" else args[0]))


sys.addaudithook(_audit)


@pytest.fixture
def connections() -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []
    _RECORDING.append(seen)
    yield seen
    _RECORDING.remove(seen)


def _is_loopback(event: str, target: Any) -> bool:
    if event == "socket.getaddrinfo":
        host = target.decode() if isinstance(target, bytes) else str(target)
        return host in {"localhost", "127.0.0.1", "::1"} or host.startswith("127.")
    if isinstance(target, tuple):  # AF_INET / AF_INET6: (host, port, ...)
        return ipaddress.ip_address(target[0]).is_loopback
    return True  # AF_UNIX paths never leave the machine


def _scenario_texts() -> list[str]:
    """Every text in the scenario and the demo's own posts that carries HTML-special characters."""
    from monitor import demo as demo_module

    data = yaml.safe_load((ROOT / "monitor/sandbox/scenarios/demo.yaml").read_text(encoding="utf-8"))
    texts: list[str] = [v for v in demo_module.HIJACK.values()]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            texts.append(value)

    walk(data)
    return [t for t in texts if re.search(r"[<>&]", t)]


def test_demo_json_fires_every_check_and_delivers_to_both_channels(
    tmp_path: Path, connections: list[tuple[str, Any]]
) -> None:
    out = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "demo"), "--json"])
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output)
    assert set(summary["findings_by_check"]) == set(REGISTRY)
    assert {c: n for c, n in summary["findings_by_check"].items() if n < 1} == {}
    delivered = summary["alerts_delivered"]
    assert sum(n for c, n in delivered.items() if c.endswith("-email")) >= 1
    assert sum(n for c, n in delivered.items() if c.endswith("-teams")) >= 1
    assert summary["alerts_failed"] == {}
    assert list((tmp_path / "demo/outbox/email").glob("*.eml")) and list(
        (tmp_path / "demo/outbox/teams").glob("*.json")
    )
    assert summary["seconds"] < 30
    page = Path(summary["digest_html"]).read_text(encoding="utf-8")
    assert Path(summary["digest_text"]).read_text(encoding="utf-8").strip()
    dangerous = _scenario_texts()
    assert dangerous, "the scenario must carry HTML-special text for this test to mean anything"
    # Each tag with the scenario's own word after it ("<b>accommodation"): the template's own <b> differs.
    candidates = [f for text in dangerous for f in re.findall(r"[^\s<>]*<[^>]+>[^\s<>]*", text)]
    fragments = [f for f in candidates if not re.fullmatch(r"</?\w+>", f)]  # a bare <b> is the template's
    for fragment in fragments:
        assert fragment not in page, f"unescaped {fragment!r} in digest.html"
    shown = [f for f in fragments if html.escape(f, quote=False) in page or html.escape(f) in page]
    assert shown, "the digest should show at least one of these texts, escaped"
    welsh = Path(summary["digest_cy_html"]).read_text(encoding="utf-8")
    assert '<html lang="cy">' in welsh and "Crynodeb cydymffurfio" in welsh
    assert "CYFRIFON" in Path(summary["digest_cy_text"]).read_text(encoding="utf-8")
    report = Path(summary["report_html"]).read_text(encoding="utf-8")
    assert "Welsh language parity report" in report and "<svg" in report
    assert "Adroddiad cydraddoldeb y Gymraeg" in Path(summary["report_cy_html"]).read_text(encoding="utf-8")
    outside = [(e, t) for e, t in connections if not _is_loopback(e, t)]
    assert connections and outside == []


def test_demo_runs_again_from_clean_and_refuses_a_foreign_dir(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    runner = CliRunner()
    assert runner.invoke(cli, ["demo", "--dir", str(target), "--json"]).exit_code == 0
    again = runner.invoke(cli, ["demo", "--dir", str(target), "--json"])
    assert again.exit_code == 0, again.output
    assert len(list((target / "outbox/email").glob("*.eml"))) == json.loads(again.output)["emails_received"]
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    refused = runner.invoke(cli, ["demo", "--dir", str(foreign)])
    assert refused.exit_code == 2 and "not made by `socialmon demo`" in refused.output
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_emergency_drill_reports_latency_and_no_redirect_alert(
    tmp_path: Path, connections: list[tuple[str, Any]]
) -> None:
    out = CliRunner().invoke(cli, ["demo", "--emergency-drill", "--dir", str(tmp_path / "drill"), "--json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert isinstance(result["latency_s"], float) and 0 <= result["latency_s"] < 15
    assert result["alerts"] >= 1
    assert result["redirect_alerted"] is False and result["redirect_findings"] == 0
    outside = [(e, t) for e, t in connections if not _is_loopback(e, t)]
    assert connections and outside == []


def test_emergency_drill_with_webhooks_hears_the_post_through_a_signed_delivery(tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(
        cli, ["demo", "--emergency-drill", "--webhooks", "--dir", str(tmp_path / "d"), "--json"]
    )
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    hooks = result["webhooks"]
    assert hooks["meta_verified"] is True
    assert hooks["subscribed"]["ysgol-busnes-facebook"] == "active"
    assert hooks["deliveries_accepted"] >= 1 and hooks["hint_polls"] >= 1
    assert result["alerts"] >= 1 and result["redirect_alerted"] is False
    refused = runner.invoke(cli, ["demo", "--webhooks", "--dir", str(tmp_path / "e")])
    assert refused.exit_code == 2 and "--emergency-drill" in refused.output


def test_shipped_demo_config_is_config_demo_yaml() -> None:
    packaged = ROOT / "monitor/sandbox/scenarios/demo.config.yaml"
    assert packaged.read_text(encoding="utf-8") == (ROOT / "config/demo.yaml").read_text(encoding="utf-8")


def test_demo_config_matches_the_scenario() -> None:
    from monitor.sandbox import load_scenario

    config = yaml.safe_load((ROOT / "config/demo.yaml").read_text(encoding="utf-8"))
    world = load_scenario("demo")
    for account in config["accounts"]:
        sandboxed = world.account(account["id"])
        assert (sandboxed.platform, sandboxed.native_id, sandboxed.handle) == (
            account["platform"], account["native_id"], account["handle"]
        )  # fmt: skip
