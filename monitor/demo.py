"""`socialmon demo`: the whole pipeline on a laptop, against the sandbox, with no credentials.

`run_demo(dir)` starts the sandbox (scenario `demo`), a loopback SMTP sink and a loopback Teams
receiver, writes a concrete copy of the demo configuration into `dir`, and runs the real
service cycle (`Service.run_once`: poll, check, route, send) on SQLite in `dir`:

1. a first cycle: every account is polled (profiles become the baseline snapshots), the checks
   run, immediate alerts go out;
2. between cycles, through the sandbox's admin endpoints, what happens in real life: someone
   takes over `international-x` and rewrites its name, bio and avatar; on-call declares an
   emergency drill (`monitor.emergency.start_emergency`, the function behind
   `socialmon emergency start`); the Business School Page posts an update (a breach) and the Music
   account posts a short redirect to the central account (allowed);
3. a second cycle sees all of it; the drill is then ended and a last cycle resolves its findings
   and sends the on-call summary;
4. the digest is built, written to `digest.html` / `digest.txt` (and in Welsh, `digest.cy.html` /
   `digest.cy.txt`, with the parity report `language-report[.cy].html`), and sent through its route.

`run_drill(dir)` rehearses an emergency end to end: the daemon runs (`Service.serve`, in a
thread), the emergency is declared through the real CLI (`socialmon emergency start` in a
subprocess), a departmental account posts and another posts a redirect, and the time from the
post to the on-call alert's arrival at the Teams receiver is measured.

Every connection is to 127.0.0.1. Each run starts clean: the directory is emptied first (only
if it is empty or was made by an earlier demo: it holds a `.socialmon-demo` marker).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from checks import REGISTRY
from monitor.clock import utcnow
from monitor.config import load_config
from monitor.db import AlertRow, EmergencyRow, FindingRow, PollRunRow
from monitor.digest import build_digest, queue_digest_now, render_digest
from monitor.emergency import start_emergency, stop_emergency
from monitor.leader import leadership_for
from monitor.logs import configure_logging
from monitor.outbox import send_due
from monitor.receivers import SmtpSink, TeamsReceiver
from monitor.sandbox import SandboxClient, SandboxServer, load_scenario
from monitor.service import Service
from monitor.store import Store

MARKER = ".socialmon-demo"
TEAMS_ENV = "SOCIALMON_DEMO_TEAMS_URL"
DRILL_REASON = "Demo drill: campus lockdown"
HIJACK = {
    "name": "Aberwen Intl <img src=x onerror=alert(1)> FREE CRYPTO",
    "bio": "Claim your free crypto airdrop now!!! https://claim-airdrop.invalid",
    "avatar": "https://sandbox.invalid/avatars/hijacked.png",
}
BREACH_ACCOUNT = "ysgol-busnes-facebook"
LEAVER_ACCOUNT = "ysgol-busnes-facebook"
LEAVER = "gareth.hughes@aberwen.ac.uk"  # in yesterday's registry of LEAVER_ACCOUNT, not in today's
BREACH_TEXT = "Business School open evening is still on tonight at 6pm, all welcome!"
REDIRECT_ACCOUNT = "cerddoriaeth-instagram"
REDIRECT_TEXT = "Follow @AberwenUni for updates / Dilynwch @PrifAberwen am y wybodaeth ddiweddaraf"
DRILL_BREACH_TEXT = "Business School update: tonight's open evening has moved to the Main Hall."


class DemoError(Exception):
    """A demo that cannot run (directory in use, a piece that failed); one line for the user."""


@dataclass
class DemoResult:
    dir: Path
    seconds: float = 0.0
    accounts_polled: dict[str, str] = field(default_factory=dict)
    findings_by_check: dict[str, int] = field(default_factory=dict)
    alerts_delivered: dict[str, int] = field(default_factory=dict)
    alerts_failed: dict[str, int] = field(default_factory=dict)
    digest_html: str = ""
    digest_text: str = ""
    digest_cy_html: str = ""  # the same digest in Welsh
    digest_cy_text: str = ""
    report_html: str = ""  # the Welsh language parity report, English and Welsh
    report_cy_html: str = ""
    email_dir: str = ""
    teams_dir: str = ""
    emails: int = 0
    teams_messages: int = 0
    config_path: str = ""
    emergency: dict[str, Any] = field(default_factory=dict)
    verify_table: str = ""  # `socialmon accounts verify` against the sandbox, before the first poll

    def to_json(self) -> dict[str, Any]:
        return {
            "dir": str(self.dir),
            "seconds": round(self.seconds, 2),
            "accounts_polled": self.accounts_polled,
            "findings_by_check": self.findings_by_check,
            "alerts_delivered": self.alerts_delivered,
            "alerts_failed": self.alerts_failed,
            "digest_html": self.digest_html,
            "digest_text": self.digest_text,
            "digest_cy_html": self.digest_cy_html,
            "digest_cy_text": self.digest_cy_text,
            "report_html": self.report_html,
            "report_cy_html": self.report_cy_html,
            "email_dir": self.email_dir,
            "teams_dir": self.teams_dir,
            "emails_received": self.emails,
            "teams_messages_received": self.teams_messages,
            "config": self.config_path,
            "emergency": self.emergency,
            "accounts_verify": self.verify_table,
        }


@dataclass
class DrillResult:
    dir: Path
    latency_s: float | None = None
    alerts: int = 0  # alerts about the drill post that reached on-call (Teams and e-mail)
    redirect_alerted: bool = False
    redirect_findings: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    webhooks: dict[str, Any] | None = None  # with --webhooks: deliveries accepted, hint polls

    def to_json(self) -> dict[str, Any]:
        return {
            "webhooks": self.webhooks,
            "latency_s": None if self.latency_s is None else round(self.latency_s, 2),
            "alerts": self.alerts,
            "redirect_alerted": self.redirect_alerted,
            "redirect_findings": self.redirect_findings,
            "seconds": round(self.seconds, 2),
            "dir": str(self.dir),
            "notes": self.notes,
        }


# ---------------------------------------------------------------------------------------------
# The directory and the environment


def prepare_dir(path: Path) -> Path:
    """An empty demo directory; refuses to empty one the demo did not make."""
    path = path.expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise DemoError(f"{path}: exists and is not a directory")
    if path.exists() and any(path.iterdir()):
        if not (path / MARKER).exists():
            raise DemoError(
                f"{path}: not empty and not made by `socialmon demo` (no {MARKER} file); choose another --dir"
            )
        for child in path.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text("made by `socialmon demo`; it empties this directory on each run\n")
    return path


def demo_config_text() -> str:
    """The demo configuration shipped in the package (identical to config/demo.yaml)."""
    return (resources.files("monitor.sandbox.scenarios") / "demo.config.yaml").read_text(encoding="utf-8")


def write_config(
    path: Path, sandbox_url: str, smtp_port: int, overrides: dict[str, str] | None = None
) -> Path:
    """The concrete demo config: the sandbox, the SMTP port and the directory filled in.

    The Teams webhook stays a ${SOCIALMON_DEMO_TEAMS_URL} reference: a webhook URL is a secret.
    """
    text = demo_config_text()
    for name, value in {
        "SOCIALMON_SANDBOX_URL": sandbox_url,
        "SOCIALMON_DEMO_SMTP_PORT": str(smtp_port),
        "SOCIALMON_DEMO_DIR": str(path),
        **(overrides or {}),
    }.items():
        text = text.replace("${" + name + "}", value)
    target = path / "config.yaml"
    target.write_text(text, encoding="utf-8")
    return target


@contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


@dataclass
class _Rig:
    """The sandbox, the receivers, the config and the store of one run."""

    dir: Path
    sandbox: Any
    client: Any
    smtp: Any
    teams: Any
    config: Any
    config_path: Path
    store: Any


# `--webhooks`: the receiver on a loopback port; these secrets are the demo's own, not real ones.
DEMO_HOOK_SECRETS = {
    "SOCIALMON_DEMO_META_APP_SECRET": "demo-meta-app-secret-0001",
    "SOCIALMON_DEMO_META_VERIFY_TOKEN": "demo-meta-verify-token-0001",
    "SOCIALMON_DEMO_WEBSUB_SECRET": "demo-websub-secret-0001",
}


def _webhooks_section() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return (
        f"\nwebhooks:\n  listen: 127.0.0.1:{port}\n  public_url: http://127.0.0.1:{port}\n"
        '  meta: {app_secret: "${SOCIALMON_DEMO_META_APP_SECRET}", '
        'verify_token: "${SOCIALMON_DEMO_META_VERIFY_TOKEN}"}\n'
        '  youtube: {secret: "${SOCIALMON_DEMO_WEBSUB_SECRET}"}\n'
    )


@contextmanager
def _rig(path: Path, log_name: str, webhooks: bool = False) -> Iterator[_Rig]:
    sandbox = SandboxServer(load_scenario("demo")).start()
    smtp = SmtpSink(path / "outbox" / "email").start()
    teams = TeamsReceiver(path / "outbox" / "teams").start()
    store = None
    log_file = (path / log_name).open("a", encoding="utf-8")
    try:
        with _env(TEAMS_ENV, teams.url):
            config_path = write_config(path, sandbox.url, smtp.port)
            if webhooks:
                with config_path.open("a", encoding="utf-8") as handle:
                    handle.write(_webhooks_section())
                os.environ.update(DEMO_HOOK_SECRETS)
            config = load_config(config_path)
            configure_logging(json=True, stream=log_file)
            store = Store(config.database_url())
            store.upgrade()
            yield _Rig(path, sandbox, SandboxClient(sandbox.url), smtp, teams, config, config_path, store)
    finally:
        if webhooks:
            for name in DEMO_HOOK_SECRETS:
                os.environ.pop(name, None)
        if store is not None:
            store.dispose()
        teams.stop()
        smtp.stop()
        sandbox.stop()
        _restore_logging()
        log_file.close()


def _restore_logging() -> None:
    configure_logging(stream=sys.stderr)


# ---------------------------------------------------------------------------------------------
# The demo


def run_demo(path: str | Path) -> DemoResult:
    started = time.perf_counter()
    directory = prepare_dir(Path(path))
    result = DemoResult(dir=directory)
    with _rig(directory, "socialmon.log") as rig:
        result.verify_table = _verify(rig)
        _demo_cycles(rig, result)
        _write_and_send_digest(rig, result)
        _summarise(rig, result)
    result.seconds = time.perf_counter() - started
    return result


def _verify(rig: _Rig) -> str:
    """What `socialmon accounts verify` prints for the demo's accounts (facts stored for the checks)."""
    from monitor.cli.accounts_cmd import verification_table
    from monitor.verifying import verify_accounts

    chosen = [a for a in rig.config.accounts if a.enabled]
    return verification_table(rig.config, verify_accounts(rig.config, rig.store, chosen, datetime.now(UTC)))


def _demo_cycles(rig: _Rig, result: DemoResult) -> None:
    service = Service(rig.config, rig.store, poll_workers=4)
    _seed_yesterdays_registry(rig)
    first_poll = time.time()
    first = service.run_once()
    result.accounts_polled = dict(first.polled)
    # Between polls, the things a real day brings (through the sandbox's admin endpoints).
    rig.client.change_profile("international-x", **HIJACK)
    emergency = start_emergency(rig.store, DRILL_REASON, by="socialmon demo")
    _next_second(emergency.started_at)
    rig.client.add_post(BREACH_ACCOUNT, BREACH_TEXT)
    rig.client.add_post(REDIRECT_ACCOUNT, REDIRECT_TEXT, image=True)
    second = service.run_once()
    for account_id, status in second.polled.items():
        if status != "ok":
            result.accounts_polled[account_id] = status
    stop_emergency(rig.store, by="socialmon demo")
    # The expired-token account must have failed for longer than its tolerance before the last
    # check, or connector-health would depend on how fast this machine ran the cycles above.
    tolerance = rig.config.policy.failure_tolerance.total_seconds()
    time.sleep(max(first_poll + tolerance + 0.1 - time.time(), 0.0))
    service.run_once()  # takes up the end: resolves the drill's findings, sends on-call the summary
    result.emergency = {
        "reason": DRILL_REASON,
        "started_at": emergency.started_at.isoformat(),
        "breach": {"account": BREACH_ACCOUNT, "text": BREACH_TEXT},
        "redirect": {"account": REDIRECT_ACCOUNT, "text": REDIRECT_TEXT},
    }


def _seed_yesterdays_registry(rig: _Rig) -> None:
    """access-review compares the registry with the last run's: the demo's database starts with
    yesterday's, when the Business School Page still listed a lecturer who has since left."""
    from monitor.db import AccountRegistryRow

    account = rig.config.account(LEAVER_ACCOUNT)
    now = datetime.now(UTC)
    with rig.store.session() as session:
        session.add(
            AccountRegistryRow(
                account_id=account.id,
                people=sorted({*(p.lower() for p in account.people), LEAVER}),
                manager=account.manager.lower() if account.manager else None,
                first_seen_at=now - timedelta(days=30),
                updated_at=now - timedelta(days=1),
            )
        )


def _next_second(moment: datetime) -> None:
    """Wait into the next whole second: platforms give post times in whole seconds, so a post in the
    same second as the declaration would read as made before it (a department posts later anyway)."""
    boundary = moment.replace(microsecond=0).timestamp() + 1.05
    time.sleep(max(boundary - time.time(), 0.0))


def _write_and_send_digest(rig: _Rig, result: DemoResult) -> None:
    digest = build_digest(rig.config, rig.store, utcnow())
    html_path, text_path = rig.dir / "digest.html", rig.dir / "digest.txt"
    html_path.write_text(render_digest(digest, "html"), encoding="utf-8")
    text_path.write_text(render_digest(digest, "text"), encoding="utf-8")
    result.digest_html, result.digest_text = str(html_path), str(text_path)
    _write_welsh_and_report(rig, result)
    ids = queue_digest_now(rig.config, rig.store, "digest")
    send_due(rig.config, rig.store, ids=ids, limit=max(len(ids), 1))


def _write_welsh_and_report(rig: _Rig, result: DemoResult) -> None:
    """The digest in Welsh beside the English one, and the parity report for the last 30 days."""
    from monitor.digest import build_digest, render_digest
    from monitor.report import build_language_report
    from monitor.report_output import render_report

    now = datetime.now(UTC)
    welsh = build_digest(rig.config, rig.store, now, locale="cy")
    html_path, text_path = rig.dir / "digest.cy.html", rig.dir / "digest.cy.txt"
    html_path.write_text(render_digest(welsh, "html"), encoding="utf-8")
    text_path.write_text(render_digest(welsh, "text"), encoding="utf-8")
    result.digest_cy_html, result.digest_cy_text = str(html_path), str(text_path)
    today = now.astimezone(rig.config.tz).date()
    report = build_language_report(rig.config, rig.store, today - timedelta(days=30), today, now=now)
    for language, name in (("en", "language-report.html"), ("cy", "language-report.cy.html")):
        (rig.dir / name).write_text(render_report(report, "html", language), encoding="utf-8")
    (rig.dir / "language-report.json").write_text(render_report(report, "json"), encoding="utf-8")
    result.report_html = str(rig.dir / "language-report.html")
    result.report_cy_html = str(rig.dir / "language-report.cy.html")


def _summarise(rig: _Rig, result: DemoResult) -> None:
    with rig.store.session() as session:
        counts = dict(
            session.execute(select(FindingRow.check, func.count()).group_by(FindingRow.check)).all()
        )
        delivered = session.execute(
            select(AlertRow.channel, AlertRow.status, func.count()).group_by(
                AlertRow.channel, AlertRow.status
            )
        ).all()
    result.findings_by_check = {check: int(counts.get(check, 0)) for check in REGISTRY}
    for channel, status, count in delivered:
        target = result.alerts_delivered if status == "delivered" else result.alerts_failed
        target[channel] = target.get(channel, 0) + int(count)
    for channel in rig.config.alerts.channels:
        result.alerts_delivered.setdefault(channel, 0)
    result.email_dir, result.teams_dir = str(rig.smtp.dir), str(rig.teams.dir)
    result.emails, result.teams_messages = len(rig.smtp.messages), len(rig.teams.messages)
    result.config_path = str(rig.config_path)


def format_summary(result: DemoResult) -> str:
    polled = Counter(result.accounts_polled.values())
    lines = [
        f"socialmon demo: Aberwen University (fictional) in the sandbox, {result.seconds:.1f} s",
        "",
        f"Accounts polled: {len(result.accounts_polled)} "
        f"({', '.join(f'{n} {status}' for status, n in sorted(polled.items()))})",
    ]
    for account_id, status in sorted(result.accounts_polled.items()):
        if status != "ok":
            lines.append(f"  {account_id}: {status}")
    if result.verify_table:
        lines += ["", "Credentials and coverage (`socialmon accounts verify`):"]
        lines += [f"  {line}" if line else "" for line in result.verify_table.splitlines()]
    lines += ["", "Findings by check:"]
    width = max(len(c) for c in result.findings_by_check) if result.findings_by_check else 10
    for check, count in result.findings_by_check.items():
        lines.append(f"  {check:<{width}}  {count}")
    lines += ["", "Alerts delivered, by channel:"]
    for channel, count in sorted(result.alerts_delivered.items()):
        failed = result.alerts_failed.get(channel)
        lines.append(f"  {channel:<{width}}  {count}" + (f"  ({failed} not delivered)" if failed else ""))
    emergency = result.emergency
    if emergency:
        lines += [
            "",
            f"Emergency drill: declared, {emergency['breach']['account']} posted (alerted at once), "
            f"{emergency['redirect']['account']} posted a redirect (allowed), then ended.",
        ]
    lines += [
        "",
        f"Digest:           {result.digest_html}",
        f"                  {result.digest_text}",
        f"Welsh digest:     {result.digest_cy_html}",
        f"Parity report:    {result.report_html} (Welsh: {result.report_cy_html})",
        f"E-mail received:  {result.emails} messages in {result.email_dir}/ (.eml)",
        f"Teams received:   {result.teams_messages} messages in {result.teams_dir}/ (JSON)",
        f"Config used:      {result.config_path}",
        "",
        "Look around the stored results (the Teams URL is a secret reference; any loopback URL will do):",
        f"  export {TEAMS_ENV}=http://127.0.0.1:9/",
        f"  socialmon check -c {result.config_path}",
        f"  socialmon status -c {result.config_path}",
        f"  socialmon digest --preview --format text -c {result.config_path}",
        "",
        "Next: `socialmon demo --emergency-drill`, or docs/DEMO.md for a real deployment.",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The emergency drill


def run_drill(path: str | Path, timeout: float = 20.0, webhooks: bool = False) -> DrillResult:
    started = time.perf_counter()
    directory = prepare_dir(Path(path))
    result = DrillResult(dir=directory)
    with _rig(directory, "socialmon.log", webhooks) as rig:
        _drill(rig, result, timeout)
    result.seconds = time.perf_counter() - started
    return result


def _drill(rig: _Rig, result: DrillResult, timeout: float) -> None:
    service = Service(rig.config, rig.store, poll_workers=4)
    leadership = leadership_for(rig.store, rig.config.service.lock_id)
    daemon = threading.Thread(target=service.serve, args=(leadership,), name="socialmon-daemon", daemon=True)
    daemon.start()
    try:
        if rig.config.webhooks is not None:
            _subscribe_to_sandbox(rig, service, result, timeout)
        _declare(rig)
        taken_up = _wait(lambda: _emergency_taken_up(rig), timeout)
        if not taken_up:
            result.notes.append("the daemon did not take the emergency up in time")
            return
        _wait(lambda: _polled_since(rig, taken_up), timeout)  # the fast emergency polls have begun
        _next_second(_emergency_started(rig) or taken_up)
        marker = DRILL_BREACH_TEXT
        before = len(rig.teams.requests)
        posted_at = time.time()
        rig.client.add_post(BREACH_ACCOUNT, marker)
        rig.client.add_post(REDIRECT_ACCOUNT, REDIRECT_TEXT, image=True)
        arrival = _wait(lambda: _arrival(rig, marker, before), timeout)
        if arrival is None:
            result.notes.append(f"no on-call alert about the drill post within {timeout:.0f} s")
        else:
            result.latency_s = max(arrival - posted_at, 0.0)
        # The redirect must have been polled and checked before we can say it raised nothing, and
        # what was queued sent, before the alerts are counted.
        since = datetime.fromtimestamp(posted_at, UTC)
        redirect_seen = _wait(lambda: _polled_and_checked(rig, service, since, REDIRECT_ACCOUNT), timeout)
        if not redirect_seen:
            result.notes.append("the redirect account was not polled after the redirect; nothing to judge")
        if not _wait(lambda: _outbox_settled(rig), timeout):
            result.notes.append(f"alerts were still being sent after {timeout:.0f} s")
        result.alerts = _count_alerts(rig, marker, before)
        result.redirect_findings, result.redirect_alerted = _redirect_outcome(rig, before)
        if result.webhooks is not None:
            result.webhooks["deliveries_accepted"] = _sample(
                service, "socialmon_webhook_requests_total", "accepted"
            )
            result.webhooks["hint_polls"] = _sample(service, "socialmon_webhook_hints_total", "polled")
    finally:
        stop_emergency(rig.store, by="socialmon demo drill")
        service.request_stop()
        daemon.join(timeout=15)


def _subscribe_to_sandbox(rig: _Rig, service: Any, result: DrillResult, timeout: float) -> None:
    """The sandbox plays Meta's App Dashboard and the WebSub hub; then every account is subscribed."""
    from monitor.hooks.subscriptions import subscribe

    hooks = rig.config.webhooks
    assert hooks is not None and hooks.meta is not None
    if not _wait(lambda: service.hooks is not None and service.hooks.port, timeout):
        result.notes.append("the webhook receiver did not start")
        return
    answer = rig.client._call(
        "POST",
        "webhooks",
        {
            "callback": hooks.meta_callback(),
            "app_secret": hooks.meta.app_secret.get_secret_value(),
            "verify_token": hooks.meta.verify_token.get_secret_value(),
        },
    )
    subscribed = subscribe(rig.config, rig.store, datetime.now(UTC))
    result.webhooks = {
        "meta_verified": bool(answer.get("verified")),
        "subscribed": {r.account_id: r.status for r in subscribed},
    }


def _sample(service: Any, name: str, outcome: str) -> int:
    registry = service.metrics.registry
    return int(
        sum(
            sample.value
            for metric in registry.collect()
            for sample in metric.samples
            if sample.name == name and sample.labels.get("outcome") == outcome
        )
    )


def _cli(rig: _Rig, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, TEAMS_ENV: rig.teams.url, "SOCIALMON_CONFIG": str(rig.config_path)}
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli.main", *args, "--config", str(rig.config_path)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip


def _declare(rig: _Rig) -> None:
    done = _cli(rig, "emergency", "start", "--reason", DRILL_REASON, "--by", "socialmon demo drill")
    if done.returncode != 0:
        raise DemoError(f"`socialmon emergency start` failed: {(done.stderr or done.stdout).strip()[:300]}")


def _wait(probe: Any, timeout: float, step: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(step)
    return None


def _emergency_taken_up(rig: _Rig) -> datetime | None:
    with rig.store.session() as session:
        return session.scalar(select(EmergencyRow.taken_up_at).where(EmergencyRow.ended_at.is_(None)))


def _emergency_started(rig: _Rig) -> datetime | None:
    with rig.store.session() as session:
        return session.scalar(select(EmergencyRow.started_at).where(EmergencyRow.ended_at.is_(None)))


def _polled_since(rig: _Rig, moment: datetime, account_id: str | None = None) -> bool:
    query = (
        select(func.count())
        .select_from(PollRunRow)
        .where(PollRunRow.started_at >= moment, PollRunRow.finished_at.is_not(None))
    )
    if account_id:
        query = query.where(PollRunRow.account_id == account_id)
    with rig.store.session() as session:
        return bool(session.scalar(query))


def _polled_and_checked(rig: _Rig, service: Service, moment: datetime, account_id: str) -> bool:
    """A poll of the account started after `moment` has finished, with its checks, routing and
    sending (they run in the same job: `poll:<account>`, or `hint:<account>` for a webhook's)."""
    if not _polled_since(rig, moment, account_id):
        return False
    return not any(job.endswith(f":{account_id}") for job in service.running_jobs())


def _outbox_settled(rig: _Rig) -> bool:
    """Nothing being sent, and nothing due that is not yet sent (a retry waiting its turn is not due)."""
    now = datetime.now(UTC)
    with rig.store.session() as session:
        busy = session.scalar(
            select(func.count())
            .select_from(AlertRow)
            .where(
                (AlertRow.status == "sending")
                | ((AlertRow.status == "pending") & (AlertRow.next_attempt_at <= now))
            )
        )
    return not busy


PROBE_CHARS = 40  # alerts quote an excerpt of the post: match on its opening words


def _flat(text: str) -> str:
    return " ".join(text.split())


def _mentions(body: Any, text: str) -> bool:
    return body is not None and _flat(text[:PROBE_CHARS]) in _flat(json.dumps(body, ensure_ascii=False))


def _email_mentions(message: Any, text: str) -> bool:
    part = message.get_body(("plain",))
    return part is not None and _flat(text[:PROBE_CHARS]) in _flat(part.get_content())


def _arrival(rig: _Rig, marker: str, before: int) -> float | None:
    for request in list(rig.teams.requests)[before:]:
        if 200 <= request.status < 300 and _mentions(request.body, marker):
            return request.at
    return None


def _count_alerts(rig: _Rig, marker: str, before: int) -> int:
    teams = sum(
        1 for r in list(rig.teams.requests)[before:] if 200 <= r.status < 300 and _mentions(r.body, marker)
    )
    email = sum(1 for m in list(rig.smtp.messages) if _email_mentions(m, marker))
    return teams + email


def _redirect_outcome(rig: _Rig, before: int) -> tuple[int, bool]:
    with rig.store.session() as session:
        findings = session.scalar(
            select(func.count())
            .select_from(FindingRow)
            .where(FindingRow.account_id == REDIRECT_ACCOUNT, FindingRow.check == "emergency-posting")
        )
    alerted = any(_mentions(r.body, REDIRECT_TEXT) for r in list(rig.teams.requests)[before:]) or any(
        _email_mentions(m, REDIRECT_TEXT) for m in list(rig.smtp.messages)
    )
    return int(findings or 0), alerted


def format_drill(result: DrillResult) -> str:
    lines = ["socialmon demo --emergency-drill", ""]
    if result.latency_s is None:
        lines.append("No on-call alert arrived for the drill post.")
    else:
        lines.append(
            f"A departmental post reached on-call {result.latency_s:.1f} s after it was published "
            f"({result.alerts} alert{'s' if result.alerts != 1 else ''}: Teams and e-mail)."
        )
    lines.append(
        "The redirect to the central account raised "
        + (
            "an alert: that is wrong."
            if result.redirect_alerted or result.redirect_findings
            else "nothing, as it should."
        )
    )
    if result.webhooks is not None:
        lines.append(
            f"Webhooks on: {result.webhooks.get('deliveries_accepted', 0)} signed deliveries accepted, "
            f"{result.webhooks.get('hint_polls', 0)} polls started by them."
        )
    lines += [f"note: {n}" for n in result.notes]
    lines += ["", f"Run took {result.seconds:.1f} s; everything it wrote is in {result.dir}/"]
    return "\n".join(lines)
