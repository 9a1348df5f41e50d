"""Configuration: the example loads; each bad config gives its own one-line error (file, line, key path)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli.main import cli
from monitor.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_PATH = ROOT / "config" / "example.yaml"
EXAMPLE = EXAMPLE_PATH.read_text()
ENV = {
    "X_BEARER_TOKEN": "x-bearer-secret-111",
    "META_TOKEN": "EAAmeta-secret-222",
    "META_PAGE_TOKEN_BANGOR": "EAApage-secret-333",
    "YOUTUBE_API_KEY": "AIza-youtube-secret-444",
    "SMTP_PASSWORD": "smtp-secret-555",
    "TEAMS_ONCALL_URL": "https://prod-01.westeurope.logic.azure.com/workflows/abc/invoke?sig=teams-secret-666",
}


def line_of(text: str, needle: str) -> int:
    """1-based line of the first occurrence of `needle` (the test's own idea of where the key is)."""
    index = text.index(needle)
    return text.count("\n", 0, index) + 1


def changed(old: str, new: str, count: int = 1) -> str:
    """The example with one thing changed (the change must apply)."""
    assert EXAMPLE.count(old) >= count, old
    return EXAMPLE.replace(old, new, count)


MINIMAL = """\
accounts:
  - id: bangor-x-en
    platform: x
    handle: BangorUni
    name: Bangor University
    role: central
    language: {mode: bilingual}
"""


# --- the example ----------------------------------------------------------------------------------


def test_the_example_loads_with_its_secrets_set() -> None:
    config = load_config(EXAMPLE_PATH, env=ENV)
    assert len(config.accounts) == 12
    assert {a.platform for a in config.accounts} == {"x", "facebook", "instagram", "youtube"}
    assert {a.role for a in config.accounts} == {"central", "departmental"}
    assert {a.language.mode for a in config.accounts} == {"paired", "bilingual", "exempt"}
    assert {type(c).__name__ for c in config.alerts.channels.values()} == {"EmailChannel", "TeamsChannel"}
    assert set(config.alerts.routes) == {"digest", "emergency", "security", "operations"}
    assert config.platforms.x.bearer_token is not None
    assert config.platforms.x.bearer_token.get_secret_value() == ENV["X_BEARER_TOKEN"]
    assert config.policy.reply_sla == timedelta(hours=4)
    assert config.alerts.routes["digest"].at == "08:30"
    # merged from the `x-defaults` anchor
    assert config.account("bangor-x-cy").people == ["a.jones@example.ac.uk", "b.williams@example.ac.uk"]
    assert config.account("bangor-x-en").pair == "bangor-x-cy"
    assert config.account("library-instagram-cy").own_language == "cy"
    assert config.calendar.closure_days() >= {__import__("datetime").date(2026, 12, 30)}


def test_the_example_references_every_secret_and_stores_none() -> None:
    for name in ENV:
        assert f"${{{name}}}" in EXAMPLE
    assert 'password: "${' in EXAMPLE and "sig=" not in EXAMPLE


def test_the_operators_config_is_not_committed() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "config/socialmon.yaml"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert tracked == ""


def test_minimal_config_takes_the_documented_defaults() -> None:
    config = parse_config(MINIMAL, env={})
    assert config.timezone == "Europe/London"
    assert config.policy.poll_interval == timedelta(minutes=15)
    assert config.policy.cadence.for_platform("x") == timedelta(hours=48)
    assert config.policy.cadence.for_platform("youtube") == timedelta(days=7)
    assert config.database_url().startswith("sqlite:///") and config.database_url().endswith("socialmon.db")


def test_secrets_from_files_and_mid_string(tmp_path: Path) -> None:
    secret_file = tmp_path / "smtp"
    secret_file.write_text("file-secret-777\n")
    text = MINIMAL + (
        'database: "postgresql+psycopg://socialmon:${DB_PW}@db.example.ac.uk/socialmon"\n'
        "alerts:\n  channels:\n"
        f'    e: {{type: email, host: smtp.example.ac.uk, password: "${{file:{secret_file}}}",'
        " from: a@example.ac.uk, to: [b@example.ac.uk]}\n"
    )
    config = parse_config(text, env={"DB_PW": "db-secret-888"})
    assert config.alerts.channels["e"].password.get_secret_value() == "file-secret-777"  # type: ignore[union-attr]
    assert config.database_url() == "postgresql+psycopg://socialmon:db-secret-888@db.example.ac.uk/socialmon"
    assert "file-secret-777" not in repr(config) and "file-secret-777" not in str(config.model_dump())


def test_times_of_day_written_without_quotes_stay_times() -> None:
    # YAML 1.1 would read 8:30 as the number 510.
    config = parse_config(changed('at: "08:30"', "at: 8:30"), env=ENV)
    assert config.alerts.routes["digest"].at == "08:30"


# --- bad configs: each with its own error --------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    name: str
    text: str
    path: str  # the key path the error must name
    fragment: str  # part of the message
    line: int | None  # where the YAML has it
    env: dict[str, str] | None = None


_PAIR_EN = "language: {mode: paired, pair: bangor-x-cy, lang: en}"
_HOURS_OCEANS = '"Mon-Thu 09:00-17:00; Fri 09:00-16:30"'

BAD: list[Bad] = [
    # single-key changes of the example
    Bad(
        "unknown language mode",
        changed(_PAIR_EN, "language: {mode: twin, pair: bangor-x-cy, lang: en}"),
        "accounts[0].language.mode",
        "must be one of paired, bilingual, exempt",
        line_of(EXAMPLE, _PAIR_EN),
    ),
    Bad(
        "language mode missing",
        changed(_PAIR_EN, "language: {pair: bangor-x-cy, lang: en}"),
        "accounts[0].language.mode",
        "is required (one of paired, bilingual, exempt)",
        line_of(EXAMPLE, _PAIR_EN),
    ),
    Bad(
        "pair names no account",
        changed("pair: bangor-x-cy", "pair: bangor-x-welsh"),
        "accounts[0].language.pair",
        "'bangor-x-welsh', which is not an account id",
        line_of(EXAMPLE, _PAIR_EN),
    ),
    Bad(
        "pair not mutual",
        changed("pair: library-instagram-en", "pair: bangor-x-en"),
        "accounts[10].language.pair",
        "pairs are mutual",
        line_of(EXAMPLE, "pair: library-instagram-en"),
    ),
    Bad(
        "pair of one language",
        changed("pair: bangor-x-en, lang: cy", "pair: bangor-x-en, lang: en"),
        "accounts[1].language.lang",
        "both accounts of the pair are 'en'",
        line_of(EXAMPLE, "pair: bangor-x-en, lang: cy"),
    ),
    Bad(
        "paired lang not cy/en",
        changed("pair: bangor-x-en, lang: cy", "pair: bangor-x-en, lang: fr"),
        "accounts[1].language.lang",
        "must be one of cy, en",
        line_of(EXAMPLE, "pair: bangor-x-en, lang: cy"),
    ),
    Bad(
        "exempt without reason",
        changed("{mode: exempt, reason: Recruitment audience outside Wales}", "{mode: exempt}"),
        "accounts[6].language.reason",
        "is required",
        line_of(EXAMPLE, "{mode: exempt, reason"),
    ),
    Bad(
        "duplicate id",
        changed("id: careers-facebook", "id: pontio-facebook"),
        "accounts[8].id",
        "duplicate account id 'pontio-facebook'",
        line_of(EXAMPLE, "id: pontio-facebook"),
    ),
    Bad(
        "id not a slug",
        changed("id: sport-youtube", "id: Sport YouTube"),
        "accounts[11].id",
        "must be a slug",
        line_of(EXAMPLE, "id: sport-youtube"),
    ),
    Bad(
        "unknown platform",
        changed(
            "platform: youtube\n    native_id: UC0000000000000000000002",
            "platform: tiktok\n    native_id: UC0000000000000000000002",
        ),
        "accounts[11].platform",
        "must be one of x, facebook, instagram, youtube",
        line_of(EXAMPLE, "platform: youtube\n    native_id: UC0000000000000000000002"),
    ),
    Bad(
        "misspelt key",
        changed("    handle: BangorOceans", "    handel: BangorOceans"),
        "accounts[5].handel",
        "unknown key (did you mean handle?)",
        line_of(EXAMPLE, "handle: BangorOceans"),
    ),
    Bad(
        "no central account",
        EXAMPLE.replace("role: central", "role: departmental"),
        "accounts",
        "at least one account must have role: central",
        line_of(EXAMPLE, "accounts:"),
    ),
    Bad(
        "bad role",
        changed("role: departmental", "role: dept"),
        "accounts[5].role",
        "must be one of central, departmental",
        line_of(EXAMPLE, "role: departmental"),
    ),
    Bad(
        "hours end before start",
        changed(_HOURS_OCEANS, '"Mon-Fri 17:00-09:00"'),
        "accounts[5].monitoring_hours",
        "hours must end after they start",
        line_of(EXAMPLE, _HOURS_OCEANS),
    ),
    Bad(
        "hours unknown day",
        changed(_HOURS_OCEANS, '"Mon-Fry 09:00-17:00"'),
        "accounts[5].monitoring_hours",
        "unknown day 'fry'",
        line_of(EXAMPLE, _HOURS_OCEANS),
    ),
    Bad(
        "bad person address",
        changed("e.roberts@example.ac.uk", "e.roberts(at)example.ac.uk"),
        "accounts[5].people[1]",
        "is not a valid email address",
        line_of(EXAMPLE, "e.roberts@example.ac.uk"),
    ),
    Bad(
        "bad manager address",
        changed("manager: f.davies@example.ac.uk", "manager: f.davies"),
        "accounts[5].manager",
        "is not a valid email address",
        line_of(EXAMPLE, "manager: f.davies"),
    ),
    Bad(
        "duration without unit",
        changed("reply_sla: 4h", "reply_sla: 4"),
        "policy.reply_sla",
        "4 has no unit",
        line_of(EXAMPLE, "reply_sla: 4h"),
    ),
    Bad(
        "zero duration",
        changed("poll_interval: 15m", "poll_interval: 0m"),
        "policy.poll_interval",
        "must be a positive duration",
        line_of(EXAMPLE, "poll_interval: 15m"),
    ),
    Bad(
        "not a duration",
        changed("counterpart_window: 30m", "counterpart_window: half an hour"),
        "policy.counterpart_window",
        "is not a duration",
        line_of(EXAMPLE, "counterpart_window: 30m"),
    ),
    Bad(
        "misspelt policy key",
        changed("  reply_sla: 4h", "  reply_slaa: 4h"),
        "policy.reply_slaa",
        "unknown key (did you mean reply_sla?)",
        line_of(EXAMPLE, "reply_sla: 4h"),
    ),
    Bad(
        "unknown time zone",
        changed("timezone: Europe/London", "timezone: Europe/Bangor"),
        "timezone",
        "'Europe/Bangor' is not a time zone",
        line_of(EXAMPLE, "timezone: Europe/London"),
    ),
    Bad(
        "unsupported database",
        changed("database: sqlite:///socialmon.db", "database: mysql://u@db/socialmon"),
        "database",
        "'mysql' is not a supported database",
        line_of(EXAMPLE, "database: sqlite"),
    ),
    Bad(
        "route names undefined channel",
        changed("operations: {channels: [ops-email]}", "operations: {channels: [ops-mail]}"),
        "alerts.routes.operations.channels[0]",
        "names channel 'ops-mail', which is not defined",
        line_of(EXAMPLE, "operations: {channels"),
    ),
    Bad(
        "route without channels",
        changed("security:   {channels: [oncall-teams, comms-email]}", "security: {channels: []}"),
        "alerts.routes.security.channels",
        "at least 1 item",
        line_of(EXAMPLE, "security:   {channels"),
    ),
    Bad(
        "digest without time",
        changed('digest:     {channels: [comms-email], at: "08:30"}', "digest: {channels: [comms-email]}"),
        "alerts.routes.digest",
        "needs a time",
        line_of(EXAMPLE, "digest:     {channels"),
    ),
    Bad(
        "digest at a non-time",
        changed('at: "08:30"', 'at: "25:30"'),
        "alerts.routes.digest.at",
        "is not a time of day",
        line_of(EXAMPLE, 'at: "08:30"'),
    ),
    Bad(
        "unknown channel type",
        changed("{type: teams, url:", "{type: slack, url:"),
        "alerts.channels.oncall-teams.type",
        "must be one of email, teams",
        line_of(EXAMPLE, "oncall-teams: {type"),
    ),
    Bad(
        "teams over plain http",
        EXAMPLE,
        "alerts.channels.oncall-teams.url",
        "must be https",
        line_of(EXAMPLE, "oncall-teams: {type"),
        env={**ENV, "TEAMS_ONCALL_URL": "http://hooks.example.com/x/secret-999"},
    ),
    Bad(
        "email channel bad recipient",
        changed("to: [comms@example.ac.uk]", "to: [comms]"),
        "alerts.channels.comms-email.to[0]",
        "'comms' is not a valid email address",
        line_of(EXAMPLE, "to: [comms@example.ac.uk]"),
    ),
    Bad(
        "email channel bad port",
        changed("port: 587", "port: 70000"),
        "alerts.channels.comms-email.port",
        "less than 65536",
        line_of(EXAMPLE, "port: 587"),
    ),
    Bad(
        "missing environment variable",
        EXAMPLE,
        "platforms.youtube.api_key",
        "environment variable YOUTUBE_API_KEY is not set",
        line_of(EXAMPLE, "youtube:   {base_url"),
        env={k: v for k, v in ENV.items() if k != "YOUTUBE_API_KEY"},
    ),
    Bad(
        "empty environment variable",
        EXAMPLE,
        "platforms.x.bearer_token",
        "environment variable X_BEARER_TOKEN is empty",
        line_of(EXAMPLE, "x:         {base_url"),
        env={**ENV, "X_BEARER_TOKEN": ""},
    ),
    Bad(
        "missing secret file",
        changed('"${SMTP_PASSWORD}"', '"${file:/nonexistent/smtp-password}"'),
        "alerts.channels.comms-email.password",
        "cannot read secret file '/nonexistent/smtp-password'",
        line_of(EXAMPLE, 'password: "${SMTP_PASSWORD}"'),
    ),
    Bad(
        "malformed reference",
        changed('"${SMTP_PASSWORD}"', '"${SMTP PASSWORD}"'),
        "alerts.channels.comms-email.password",
        "must name an environment variable",
        line_of(EXAMPLE, 'password: "${SMTP'),
    ),
    Bad(
        "graph version",
        changed("graph_version: v25.0", "graph_version: 25"),
        "platforms.facebook.graph_version",
        "must be text",
        line_of(EXAMPLE, "facebook:  {base_url"),
    ),
    Bad(
        "credential of another platform",
        changed(
            'credentials: {access_token: "${META_PAGE_TOKEN_BANGOR}"}',
            'credentials: {api_key: "${META_PAGE_TOKEN_BANGOR}"}',
        ),
        "accounts[2].credentials.api_key",
        "not used on facebook (it uses access_token)",
        line_of(EXAMPLE, "credentials:"),
    ),
    Bad(
        "same handle twice",
        changed("handle: BangorIntl", "handle: BangorOceans"),
        "accounts[6].handle",
        "'BangorOceans' is also account 'ocean-sciences-x'",
        line_of(EXAMPLE, "handle: BangorIntl"),
    ),
    Bad(
        "bad closure date",
        changed('"2026-12-29..2026-12-31"', '"2026-12-31..2026-12-29"'),
        "calendar.closures[1]",
        "the range ends before it starts",
        line_of(EXAMPLE, "closures:"),
    ),
    Bad(
        "duplicate key",
        changed("  reply_sla: 4h\n", "  reply_sla: 4h\n  reply_sla: 8h\n"),
        "policy.reply_sla",
        "duplicate key (line 27)",
        line_of(EXAMPLE, "reply_sla: 4h"),
    ),
    Bad("accounts not a list", "accounts: {bangor: 1}\n", "accounts", "must be a list", 1),
    Bad("no accounts", "timezone: UTC\n", "accounts", "is required", 1),
    Bad("unknown top-level key", MINIMAL + "polcy: {}\n", "polcy", "unknown key (did you mean policy?)", 8),
    Bad("top level is a list", "- a\n- b\n", "(top level)", "must be a mapping of keys (found a list)", 1),
    Bad("top level is text", "just words\n", "(top level)", "must be a mapping of keys (found text)", 1),
]


def _error_lines(bad: Bad) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(bad.text, "cfg.yaml", env=ENV if bad.env is None else bad.env)
    return caught.value.lines


def test_the_table_is_big_enough() -> None:
    assert len({b.name for b in BAD}) == len(BAD) >= 25


@pytest.mark.parametrize("bad", BAD, ids=[b.name for b in BAD])
def test_bad_config_gives_its_own_error(bad: Bad) -> None:
    lines = _error_lines(bad)
    where = f"cfg.yaml:{bad.line}: " if bad.line else "cfg.yaml"
    expected = [
        line for line in lines if line.startswith(where) and f" {bad.path}: " in f" {line.split(': ', 1)[1]}"
    ]
    assert expected, f"no line for {bad.path} at {bad.line}: {lines}"
    assert bad.fragment in expected[0], lines
    assert len(lines) <= 6
    for secret in (*ENV.values(), "secret-999"):
        assert all(secret not in line for line in lines)


# --- broken files: the same one-line treatment ---------------------------------------------------

BROKEN: list[tuple[str, bytes | str, str]] = [
    ("empty", "", "cfg.yaml: the file is empty"),
    (
        "only comments",
        "# nothing here\n",
        "cfg.yaml:1: (top level): must be a mapping of keys (found nothing)",
    ),
    ("broken YAML", "accounts: [1, 2\ntimezone: UTC\n", "cfg.yaml:2: invalid YAML: expected ',' or ']'"),
    (
        "tab indentation",
        "policy:\n\treply_sla: 4h\n",
        "cfg.yaml:2: invalid YAML: a tab character (column 1): use spaces, not tabs, to indent and separate"
        " YAML",
    ),
    (
        "binary garbage",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "cfg.yaml: not a YAML text file (binary data)",
    ),
    ("not UTF-8", b"name: Prifysgol \xff Bangor\n", "cfg.yaml: not UTF-8 text (byte 16)"),
    ("control character", "a: \x01\n", "cfg.yaml: invalid YAML: unacceptable character #x0001"),
    (
        "python tag",
        "accounts: !!python/object/apply:os.system ['touch /tmp/pwned']\n",
        "cfg.yaml:1: invalid YAML: the tag !!python/object/apply:os.system is not allowed",
    ),
    (
        "python name tag",
        "a: !!python/name:os.system\n",
        "cfg.yaml:1: invalid YAML: the tag !!python/name:os.system is not allowed",
    ),
    (
        "alias bomb",
        "a: &a [x,x,x,x,x,x,x,x,x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
        ),
        "cfg.yaml: refused: expands to more than 100000 values",
    ),
    (
        "many aliases",
        "a: &a x\nb: [" + ", ".join(["*a"] * 101) + "]\n",
        "cfg.yaml:2: refused: more than 100 aliases",
    ),
    ("recursive alias", "a: &a [*a]\n", "cfg.yaml:1: refused: an alias refers to a node that contains it"),
    (
        "two documents",
        MINIMAL + "---\n" + MINIMAL,
        "cfg.yaml:8: invalid YAML: expected a single document, but found another document",
    ),
    ("non-text key", "1: x\n", "cfg.yaml:1: (top level): key 1 is not text"),
]


@pytest.mark.parametrize(("text", "expected"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_files_give_one_line(text: bytes | str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "cfg.yaml", env={})
    assert len(caught.value.lines) == 1
    assert caught.value.lines[0].startswith(expected), caught.value.lines


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no such file \(set SOCIALMON_CONFIG or pass a path\)"):
        load_config(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * (3 * 1024 * 1024))
    with pytest.raises(ConfigError, match="larger than"):
        load_config(big)
    if os.geteuid() != 0:  # root reads anything
        locked = tmp_path / "locked.yaml"
        locked.write_text(MINIMAL)
        locked.chmod(0)
        with pytest.raises(ConfigError, match="permission denied"):
            load_config(locked)


def test_many_problems_are_capped_and_counted() -> None:
    text = "accounts:\n" + "".join(
        f"  - {{id: a{i}, platform: x, handle: h{i}, name: N, role: central, language: {{mode: nope}}}}\n"
        for i in range(25)
    )
    lines = _error_lines(Bad("many", text, "", "", None, env={}))
    assert len(lines) == 21 and lines[-1] == "cfg.yaml: ... and 5 more problems"


def test_a_secret_in_a_checked_field_is_masked_in_its_error() -> None:
    text = changed("to: [comms@example.ac.uk]", 'to: ["${SMTP_PASSWORD}"]')
    lines = _error_lines(Bad("x", text, "", "", None))
    assert lines == [
        f"cfg.yaml:{line_of(EXAMPLE, 'to: [comms@')}: alerts.channels.comms-email.to[0]: "
        "'[REDACTED]' is not a valid email address"
    ]


def test_a_channel_may_be_named_like_a_channel_type() -> None:
    text = (
        changed("    comms-email:\n", "    email:\n")
        .replace("[comms-email", "[email")
        .replace("to: [comms@example.ac.uk]", "to: [nobody]")
    )
    lines = _error_lines(Bad("x", text, "", "", None))
    assert lines[0].endswith("alerts.channels.email.to[0]: 'nobody' is not a valid email address")


# --- the command ------------------------------------------------------------------------------------


def _invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["check-config", *args], env=ENV if env is None else env)
    return result.exit_code, result.stdout, result.stderr


def test_check_config_summarises_a_good_file_with_secrets_masked() -> None:
    code, out, err = _invoke(str(EXAMPLE_PATH))
    assert (code, err) == (0, "")
    assert out.startswith(f"{EXAMPLE_PATH}: OK")
    assert "x          2 central, 2 departmental" in out
    assert "language: 7 bilingual, 4 paired, 1 exempt" in out
    assert "oncall-teams     teams  https://prod-01.westeurope.logic.azure.com/**** (workflows)" in out
    assert "password ****" in out
    assert "emergency        -> oncall-teams, comms-email, repeat 10m" in out
    assert len(out.splitlines()) <= 25
    assert not any(secret in out for secret in ENV.values())


def test_check_config_json() -> None:
    import json

    code, out, _ = _invoke("--json", str(EXAMPLE_PATH))
    summary = json.loads(out)
    assert code == 0 and summary["valid"] is True
    assert summary["accounts"]["by_platform"]["instagram"] == {"central": 1, "departmental": 2}
    assert summary["channels"]["comms-email"]["password"] == "****"
    assert summary["routes"]["digest"] == {"channels": ["comms-email"], "at": "08:30"}
    assert not any(secret in out for secret in ENV.values())


def test_check_config_hides_the_database_password(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(MINIMAL + 'database: "postgresql+psycopg://sm:${DB_PW}@db.example.ac.uk/socialmon"\n')
    code, out, _ = _invoke(str(path), env={"DB_PW": "db-secret-888"})
    assert code == 0 and "postgresql+psycopg://sm:***@db.example.ac.uk/socialmon" in out
    assert "db-secret-888" not in out


def test_check_config_uses_socialmon_config(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(MINIMAL)
    code, out, _ = _invoke(env={"SOCIALMON_CONFIG": str(path)})
    assert code == 0 and out.startswith(f"{path}: OK")
    assert "note: no route for: digest, emergency, security, operations" in out
    assert "note: x: no bearer_token for 1 of 1 accounts" in out


@pytest.mark.parametrize(
    "bad",
    [
        b
        for b in BAD
        if b.name in {"unknown language mode", "teams over plain http", "missing environment variable"}
    ],
    ids=lambda b: b.name,
)
def test_check_config_bad_file_exits_2_without_traceback(bad: Bad, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(bad.text)
    code, out, err = _invoke(str(path), env=ENV if bad.env is None else bad.env)
    assert code == 2 and out == ""
    assert err.startswith(f"{path}:{bad.line}: {bad.path}: ")
    assert "Traceback" not in err and len(err.splitlines()) <= 6


@pytest.mark.parametrize(("name", "content"), [(b[0], b[1]) for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_check_config_broken_file_exits_2(name: str, content: bytes | str, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, out, err = _invoke(str(path))
    assert code == 2 and out == "" and err.startswith(str(path))
    assert "Traceback" not in err and len(err.splitlines()) == 1


@pytest.mark.slow  # runs `socialmon check-config` as a child process
def test_check_config_in_a_real_process(tmp_path: Path) -> None:
    """The installed console entry point: exit codes and stderr as an operator sees them."""
    env = {k: v for k, v in os.environ.items() if k not in ENV} | {"SOCIALMON_DEBUG": ""}
    good = subprocess.run(
        [sys.executable, "-m", "monitor.cli.main", "check-config", str(EXAMPLE_PATH)],
        capture_output=True,
        text=True,
        env=env | ENV,
        timeout=60,
    )
    assert good.returncode == 0, good.stderr
    assert "accounts: 12" in good.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "monitor.cli.main", "check-config", str(EXAMPLE_PATH)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert "Traceback" not in bad.stderr
    # every unset variable is named in the one run, each where it is used (META_TOKEN twice)
    unset = re.findall(r"environment variable (\w+) is not set", bad.stderr)
    assert sorted(set(unset)) == sorted(ENV) and len(unset) == len(bad.stderr.splitlines()) == 8


def test_second_wave_policy_keys_defaults_and_bad_values() -> None:
    policy = parse_config(MINIMAL, env={}).policy
    assert (policy.official_domains, policy.personal_data_patterns, policy.official_phone_numbers) == (
        [],
        [],
        [],
    )
    assert (policy.clickable_min_share, policy.counterpart_min_share) == (0.5, 0.5)
    assert policy.access_review == timedelta(days=180)
    good = parse_config(
        MINIMAL + "policy: {official_domains: [https://www.Bangor.ac.uk/], access_review: 90d}\n", env={}
    )
    assert good.policy.official_domains == ["bangor.ac.uk"] and good.policy.access_review == timedelta(
        days=90
    )
    keys = 'official_domains: [bangor ac uk], personal_data_patterns: ["(x"], clickable_min_share: 2'
    bad = MINIMAL + f"policy: {{{keys}}}\n"
    with pytest.raises(ConfigError) as error:
        parse_config(bad, "t.yaml", env={})
    text = str(error.value)
    assert "policy.official_domains[0]: 'bangor ac uk' is not a domain name" in text
    assert "policy.personal_data_patterns[0]: '(x' is not a regular expression" in text
    assert "policy.clickable_min_share" in text


def test_the_service_intervals_keep_what_the_docs_promise_and_may_be_tuned() -> None:
    service = parse_config(MINIMAL, env={}).service
    # docs/OPERATIONS.md: SIGTERM exits within 10 s (8 s grace), a standby tries every 2 s, the
    # heartbeat writes every 10 s and a locked SQLite database is reported after 15 s, the budget is
    # re-planned every minute.
    assert service.shutdown_grace == timedelta(seconds=8)
    assert service.leader_check_interval == timedelta(seconds=2)
    assert (service.heartbeat_interval, service.heartbeat_timeout) == (
        timedelta(seconds=10),
        timedelta(seconds=15),
    )
    assert service.budget_interval == timedelta(minutes=1)
    assert (service.emergency_check_interval, service.sender_interval) == (
        timedelta(seconds=2),
        timedelta(seconds=5),
    )
    # The README's table says the same.
    readme = (ROOT / "README.md").read_text()
    for key, default in (
        ("shutdown_grace", "8s"),
        ("leader_check_interval", "2s"),
        ("heartbeat_timeout", "15s"),
        ("budget_interval", "1m"),
    ):
        assert f"| `{key}` | `{default}` |" in readme, key

    keys = "shutdown_grace: 2s, leader_check_interval: 1s, heartbeat_timeout: 1s, budget_interval: 1s"
    tuned = parse_config(MINIMAL + f"service: {{{keys}}}\n", env={}).service
    assert (tuned.shutdown_grace, tuned.leader_check_interval) == (timedelta(seconds=2), timedelta(seconds=1))
    assert (tuned.heartbeat_timeout, tuned.budget_interval) == (timedelta(seconds=1), timedelta(seconds=1))


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("shutdown_grace: 20s", "service.shutdown_grace: Input should be less than or equal to 12 seconds"),
        (
            "leader_check_interval: 1m",
            "service.leader_check_interval: Input should be less than or equal to 10 seconds",
        ),
        (
            "heartbeat_timeout: 45s",
            "service.heartbeat_timeout: Input should be less than or equal to 30 seconds",
        ),
        ("budget_interval: 0s", "service.budget_interval: must be a positive duration"),
        ("shutdown_grace: 5", "service.shutdown_grace: 5 has no unit"),
    ],
)
def test_a_bad_service_interval_is_one_line_naming_the_key(setting: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(MINIMAL + f"service: {{{setting}}}\n", "t.yaml", env={})
    (line,) = error.value.lines
    assert line.startswith(f"t.yaml:8: {message}"), line
