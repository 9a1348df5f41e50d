"""The `socialmon` console script.

Each command group lives in its own module under `monitor.cli` and is imported only when
it is invoked, so `socialmon --help` and `socialmon detect-language` start fast.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from monitor import __version__

# command name -> "module:attribute" (one explicit registry, lazily imported)
COMMANDS: dict[str, str] = {
    "check-config": "monitor.cli.config_cmd:check_config",
    "db": "monitor.cli.db_cmd:db",
    "detect-language": "monitor.cli.language_cmd:detect_language",
    "poll": "monitor.cli.poll_cmd:poll",
    "check": "monitor.cli.check_cmd:check",
    "digest": "monitor.cli.digest_cmd:digest",
    "alerts": "monitor.cli.alerts_cmd:alerts",
    "run": "monitor.cli.run_cmd:run",
    "emergency": "monitor.cli.emergency_cmd:emergency",
    "status": "monitor.cli.status_cmd:status",
    "sandbox": "monitor.cli.sandbox_cmd:sandbox",
    "demo": "monitor.cli.demo_cmd:demo",
    "report": "monitor.cli.report_cmd:report",
    "findings": "monitor.cli.findings_cmd:findings",
    "hooks": "monitor.cli.hooks_cmd:hooks",
    "accounts": "monitor.cli.accounts_cmd:accounts",
    "web": "monitor.cli.web_cmd:web",
}

HELP: dict[str, str] = {
    "check-config": "Validate a configuration file and summarise it.",
    "db": "Create or upgrade the database schema, or show its state.",
    "detect-language": "Label texts on stdin as cy, en, cy+en, other or unknown.",
    "poll": "Poll every account (or one) now and store what is new.",
    "check": "Run every policy check on the stored data now.",
    "digest": "Preview or send the daily compliance digest.",
    "alerts": "Test alert routes and list the outbox.",
    "run": "Run the monitoring service (or one cycle with --once).",
    "emergency": "Declare, end or show an emergency lockdown.",
    "status": "Show per-account poll state, outbox backlog and emergency state.",
    "sandbox": "Run the local platform sandbox.",
    "demo": "Run the whole pipeline against the bundled sandbox.",
    "report": "Reports: the Welsh language parity report (report language).",
    "findings": "List findings; acknowledge, snooze, dismiss or reopen one.",
    "hooks": "Subscribe accounts to platform webhooks and show whether pushes arrive.",
    "accounts": "Verify credentials, authorize X tokens, discover accounts, confirm access reviews.",
    "web": "Serve the web dashboard (or hash a password for local sign-in).",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, target in COMMANDS.items() if _module_exists(target))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None or not _module_exists(target):
            return None
        module_name, attr = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, HELP.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _module_exists(target: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(target.split(":")[0]) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="socialmon")
def cli(**_: Any) -> None:
    """socialmon: watches corporate social media accounts for Social Media Policy compliance."""


if __name__ == "__main__":  # pragma: no cover
    cli()
