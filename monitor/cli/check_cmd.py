"""`socialmon check`: run every policy check on the stored data now and list the open findings.

The run applies the finding lifecycle (opens, keeps, resolves findings in the store) exactly as
the daemon does after a poll, so running it by hand changes nothing the daemon would not.
Exit 0 whatever is found, unless `--fail-on SEVERITY` names a severity that an open finding
meets or exceeds (exit 1). Bad input: one line and exit 2.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from monitor.cli.common import EXIT_FINDINGS, config_option, fail, get_config, handle_errors, open_store
from monitor.models import SEVERITIES, severity_rank


@click.command("check")
@click.option("--account", "account_id", default=None, help="Only this account (and its language pair).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines, one finding per line.")
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES, case_sensitive=False),
    default=None,
    help="Exit 1 when an open finding is at least this severe.",
)
@config_option
@handle_errors
def check(account_id: str | None, as_json: bool, fail_on: str | None, config_path: str | None) -> None:
    """Run every policy check on the stored data now and print the open findings."""
    from monitor.checking import list_open_findings, run_checks

    config = get_config(config_path)
    if account_id is not None and account_id not in {a.id for a in config.accounts}:
        fail(f"{config.source}: no account {account_id!r} (see accounts[].id)")
    store = open_store(config)
    try:
        run = run_checks(config, store, account_ids=[account_id] if account_id else None)
        with store.session() as session:
            rows = list_open_findings(session, run.accounts if account_id else None)
    finally:
        store.dispose()
    findings = [_as_dict(row) for row in rows]
    exempt = [
        {
            "check": e.check,
            "account": e.account_id,
            "severity": "info",
            "subject": "account",
            "since": None,
            "status": "exempt",
            "policy_section": "",
            "detail": f"exempt: {e.reason}",
        }
        for e in run.exempt
    ]
    if as_json:
        for item in [*findings, *exempt]:
            click.echo(json.dumps(item, ensure_ascii=False))
    else:
        click.echo(render_table(findings))
        for item in exempt:
            reason = (item["detail"] or "").removeprefix("exempt: ")
            click.echo(f"exempt from {item['check']}: {item['account']} ({reason})")
        click.echo(
            f"{len(findings)} open finding{'s' if len(findings) != 1 else ''}; "
            f"{len(run.opened)} opened and {len(run.resolved)} resolved by this run."
        )
    for error in run.errors:
        click.echo(f"socialmon: check failed: {error}", err=True)
    if fail_on is not None:
        threshold = severity_rank(fail_on.lower())
        if any(severity_rank(f["severity"]) >= threshold for f in findings):
            raise SystemExit(EXIT_FINDINGS)


def _as_dict(row: Any) -> dict[str, Any]:
    return {
        "check": row.check,
        "account": row.account_id,
        "severity": row.severity,
        "subject": row.subject,
        "since": _iso(row.since),
        "status": row.status,
        "policy_section": row.policy_section,
        "detail": row.detail,
        "url": row.url,
        "title": row.title,
        "opened_at": _iso(row.opened_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


# (heading, key, widest cell)
_COLUMNS = (
    ("SEVERITY", "severity", 8),
    ("CHECK", "check", 20),
    ("ACCOUNT", "account", 24),
    ("SUBJECT", "subject", 36),
    ("SINCE (UTC)", "since", 17),  # stored UTC; say so, as `alerts list` does
    ("POLICY SECTION", "policy_section", 48),
)


def _cell(item: dict[str, Any], key: str, width: int) -> str:
    value = item.get(key) or ""
    if key == "since" and value:
        value = value[:16].replace("T", " ")
    if key == "policy_section":
        value = value.split(" - ")[0]
    value = " ".join(str(value).split())
    return value if len(value) <= width else value[: width - 1] + "…"


def render_table(findings: list[dict[str, Any]]) -> str:
    if not findings:
        return "No open findings."
    widths = [
        min(width, max(len(title), *(len(_cell(f, key, width)) for f in findings)))
        for title, key, width in _COLUMNS
    ]
    columns = list(zip(_COLUMNS, widths, strict=True))
    lines = ["  ".join(title.ljust(w) for (title, _, _), w in columns).rstrip()]
    for item in findings:
        lines.append("  ".join(_cell(item, key, width).ljust(w) for (_, key, width), w in columns).rstrip())
    return "\n".join(lines)
