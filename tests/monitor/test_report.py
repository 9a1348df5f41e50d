"""The Welsh language parity report against a small scenario counted by hand (figures in comments)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.config import Config, parse_config
from monitor.db import FindingRow, MessageRow, PostRow, ProfileSnapshotRow, ReplyRow
from monitor.report import build_language_report
from monitor.report_output import render_report

# March 2025 is GMT (clocks change 30 March), so local time = UTC in March. Mon-Fri 09:00-17:00.
CONFIG = """
timezone: Europe/London
accounts:
  - id: central
    platform: x
    handle: prifysgol
    name: University
    unit: Communications
    role: central
    language: {mode: bilingual}
    monitoring_hours: Mon-Fri 09:00-17:00
  - id: physics-en
    platform: facebook
    native_id: "111"
    name: Physics
    unit: Physics
    language: {mode: paired, pair: physics-cy, lang: en}
    monitoring_hours: Mon-Fri 09:00-17:00
  - id: physics-cy
    platform: facebook
    native_id: "222"
    name: Ffiseg
    unit: Physics
    language: {mode: paired, pair: physics-en, lang: cy}
    monitoring_hours: Mon-Fri 09:00-17:00
  - id: recruit-intl
    platform: instagram
    native_id: "17841400000000077"
    handle: uni_international
    name: International recruitment
    unit: Recruitment
    language: {mode: exempt, reason: audience outside Wales}
"""


def utc(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


def make_config(extra: str = "") -> Config:
    return parse_config(CONFIG + extra, "test.yaml", env={})


class Scenario:
    def __init__(self, session) -> None:
        self.s = session
        self.n = 0

    def _id(self) -> str:
        self.n += 1
        return str(self.n)

    def post(self, account: str, at: datetime, language: str, length: int = 40) -> None:
        self.s.add(
            PostRow(
                platform="x",
                native_id=self._id(),
                account_id=account,
                created_at=at,
                text="x" * length,
                language=language,
                kind="original",
                first_seen_at=at,
                updated_at=at,
            )
        )

    def enquiry(
        self,
        account: str,
        at: datetime,
        language: str,
        reply_at: datetime | None = None,
        reply_lang: str = "cy",
    ) -> None:
        native = self._id()
        self.s.add(
            MessageRow(
                platform="x",
                native_id=native,
                account_id=account,
                channel="comment",
                created_at=at,
                text="?",
                language=language,
                is_enquiry=True,
                first_seen_at=at,
            )
        )
        if reply_at is not None:
            self.s.add(
                ReplyRow(
                    platform="x",
                    native_id=f"r{native}",
                    account_id=account,
                    created_at=reply_at,
                    text="!",
                    in_reply_to=native,
                    language=reply_lang,
                    first_seen_at=reply_at,
                )
            )

    def finding(self, account: str, check: str, at: datetime) -> None:
        self.s.add(
            FindingRow(
                fingerprint=self._id(),
                check=check,
                account_id=account,
                subject=f"s{self.n}",
                severity="high",
                status="open",
                since=at,
                opened_at=at,
                last_seen_at=at,
            )
        )

    def profile(self, account: str, at: datetime, text: str) -> None:
        self.s.add(ProfileSnapshotRow(account_id=account, taken_at=at, last_seen_at=at, text=text))


def build_scenario(store) -> None:
    with store.session() as session:
        sc = Scenario(session)
        # central, March: English posts 3, Welsh 3, bilingual 1
        sc.post("central", utc(3, 10), "en", 20)
        sc.post("central", utc(3, 10, 10), "cy", 27)  # counterpart, 10 min later
        sc.post("central", utc(4, 10), "en", 100)
        sc.post("central", utc(4, 9, 50), "cy", 50)  # counterpart, came first (0 min), thinner (50 < 70)
        sc.post("central", utc(5, 12), "cy+en")
        sc.post("central", utc(6, 12), "en")  # no Welsh within 30 min...
        sc.post("central", utc(6, 13), "cy")  # ...this one is an hour later
        sc.post("central", utc(1, 10, month=4), "en")  # April (BST): counterpart after 20 min
        sc.post("central", utc(1, 10, 20, month=4), "cy")
        sc.post("central", utc(28, 10, month=2), "en")  # before the period: not counted
        sc.post("central", utc(7, 10), "other")  # neither Welsh nor English: not counted
        # physics: the counterpart is on the paired Welsh account
        sc.post("physics-en", utc(10, 10), "en")
        sc.post("physics-cy", utc(10, 10, 5), "cy")  # 5 min
        sc.post("physics-en", utc(11, 10), "en")  # none
        sc.post("recruit-intl", utc(12, 10), "en")  # exempt: counted as a post, not held to parity
        # central enquiries (4 h reply time, working minutes)
        sc.enquiry("central", utc(3, 9), "cy", utc(3, 10), "cy")  # 60, in time, in Welsh
        sc.enquiry("central", utc(4, 16), "cy", utc(5, 11), "en")  # 60 + 120 = 180, in time, not Welsh
        sc.enquiry("central", utc(5, 9), "cy")  # unanswered
        sc.enquiry("central", utc(3, 9), "en", utc(3, 9, 30), "en")  # 30
        sc.enquiry("central", utc(6, 9), "en", utc(6, 15), "en")  # 360: late
        sc.enquiry("central", utc(6, 9), "other", utc(6, 9, 5), "en")  # neither: not counted
        # physics-en: Friday 16:30 -> Monday 09:30 is 60 working minutes
        sc.enquiry("physics-en", utc(7, 16, 30), "cy", utc(10, 9, 30), "cy+en")
        sc.enquiry("physics-en", utc(7, 10), "en", utc(7, 10, 20), "en")  # 20
        # findings opened
        sc.finding("central", "cadence", utc(3, 12))
        sc.finding("central", "welsh-counterpart", utc(6, 12, 31))
        sc.finding("central", "welsh-counterpart", utc(1, 11, month=4))
        sc.finding("physics-en", "welsh-counterpart", utc(11, 10, 31))
        sc.finding("central", "cadence", utc(20, 10, month=2))  # before the period
        # profiles: central's newest has no Welsh; physics-cy's has
        sc.profile(
            "central", utc(1, 9, month=2), "Cyfrif swyddogol y Brifysgol. Official university account."
        )
        sc.profile(
            "central", utc(1, 9), "The official account of the University. Monitored Monday to Friday."
        )
        sc.profile(
            "physics-cy", utc(1, 9), "Cyfrif swyddogol yr Adran Ffiseg. Rydym yn ateb negeseuon bob dydd."
        )


def test_figures_match_the_hand_count(store) -> None:
    build_scenario(store)
    report = build_language_report(make_config(), store, date(2025, 3, 1), date(2025, 4, 30))
    data = report.to_json()
    assert data["from"] == "2025-03-01" and data["to"] == "2025-04-30"
    overall = data["overall"]
    assert overall["account"] is None
    assert overall["posts"] == {"cy": 5, "en": 7, "cy+en": 1}
    assert overall["counterpart_rate"] == round(4 / 6, 4)  # central 3 of 4, physics 1 of 2
    assert overall["counterpart_median_minutes"] == 7.5  # [10, 0, 20, 5]
    assert overall["counterparts_thinner"] == 1
    assert overall["enquiries"] == {
        "cy": {"count": 4, "answered_in_sla": 3, "answered_in_welsh": 2, "median_reply_minutes": 60.0},
        "en": {"count": 3, "answered_in_sla": 2, "median_reply_minutes": 30.0},
    }
    assert overall["parity_ratio"] == 2.0
    accounts = {a["account"]: a for a in data["accounts"]}
    assert list(accounts) == ["central", "physics-en", "physics-cy", "recruit-intl"]
    central = accounts["central"]
    assert central["posts"] == {"cy": 4, "en": 4, "cy+en": 1}
    assert central["counterpart_rate"] == 0.75 and central["counterpart_median_minutes"] == 10.0
    assert central["enquiries"]["cy"] == {
        "count": 3,
        "answered_in_sla": 2,
        "answered_in_welsh": 1,
        "median_reply_minutes": 120.0,
    }
    assert central["enquiries"]["en"] == {"count": 2, "answered_in_sla": 1, "median_reply_minutes": 195.0}
    assert central["parity_ratio"] == round(120 / 195, 3)
    physics = accounts["physics-en"]
    assert physics["posts"] == {"cy": 0, "en": 2, "cy+en": 0} and physics["counterpart_rate"] == 0.5
    assert physics["parity_ratio"] == 3.0
    assert accounts["physics-cy"]["counterpart_rate"] is None  # no English posts
    assert (
        accounts["recruit-intl"]["posts"]["en"] == 1 and accounts["recruit-intl"]["counterpart_rate"] is None
    )
    assert data["findings"] == {"cadence": {"2025-03": 1}, "welsh-counterpart": {"2025-03": 2, "2025-04": 1}}
    assert data["profiles_without_welsh"] == ["central"]
    units = {u["unit"]: u for u in data["units"]}
    assert units["Physics"]["posts"] == {"cy": 1, "en": 2, "cy+en": 0}
    months = {m["month"]: m for m in data["months"]}
    assert months["2025-04"]["counterpart_rate"] == 1.0 and months["2025-04"]["parity_ratio"] is None
    assert months["2025-03"]["counterpart_rate"] == 0.6  # 3 of 5 in March


def test_one_account_and_the_json_shape(store) -> None:
    build_scenario(store)
    report = build_language_report(make_config(), store, date(2025, 3, 1), date(2025, 3, 31), "physics-en")
    data = json.loads(render_report(report, "json"))
    assert set(data) >= {"from", "to", "overall", "accounts"}
    assert [a["account"] for a in data["accounts"]] == ["physics-en"]
    keys = {"account", "posts", "counterpart_rate", "counterpart_median_minutes", "enquiries", "parity_ratio"}
    for scope in [data["overall"], *data["accounts"]]:
        assert keys <= set(scope)
        assert set(scope["enquiries"]["cy"]) == {
            "count",
            "answered_in_sla",
            "answered_in_welsh",
            "median_reply_minutes",
        }
        assert set(scope["enquiries"]["en"]) == {"count", "answered_in_sla", "median_reply_minutes"}
    assert data["overall"]["posts"] == data["accounts"][0]["posts"]


def test_csv_rows_and_welsh_headers(store) -> None:
    build_scenario(store)
    report = build_language_report(make_config(), store, date(2025, 3, 1), date(2025, 4, 30))
    rows = list(csv.reader(io.StringIO(render_report(report, "csv", "en"))))
    assert rows[0][:2] == ["Scope", "Account"] and rows[0][-1] == "Parity ratio"
    assert rows[1][0] == "overall" and rows[1][4:7] == ["5", "7", "1"] and rows[1][-1] == "2.0"
    assert [r[1] for r in rows if r[0] == "account"] == [
        "central",
        "physics-en",
        "physics-cy",
        "recruit-intl",
    ]
    welsh = list(csv.reader(io.StringIO(render_report(report, "csv", "cy"))))
    assert welsh[0][:2] == ["Cwmpas", "Cyfrif"] and welsh[1][0] == "cyffredinol"
    both = list(csv.reader(io.StringIO(render_report(report, "csv", "cy+en"))))
    assert both[0][-1] == "Cymhareb cydraddoldeb / Parity ratio"


def test_html_is_self_contained_printable_with_charts_and_welsh_first(store) -> None:
    build_scenario(store)
    report = build_language_report(make_config(), store, date(2025, 3, 1), date(2025, 4, 30))
    page = render_report(report, "html", "cy+en")
    assert page.count("<svg") == 4 and "@media print" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # no CDN, no external resource
    assert "<script" not in page
    welsh = page.index("Adroddiad cydraddoldeb y Gymraeg")
    english = page.index("Welsh language parity report, 1 March 2025 to 30 April 2025", welsh)
    assert welsh < english and '<html lang="cy">' in page
    assert "Mawrth 2025" in page and "University (x:prifysgol)" in page


def test_cli_writes_each_format_and_refuses_bad_input(store, tmp_path: Path) -> None:
    from monitor.cli.main import cli

    build_scenario(store)
    cfg_path = tmp_path / "socialmon.yaml"
    cfg_path.write_text(CONFIG + f"database: sqlite:///{tmp_path / 'test.db'}\n")
    runner = CliRunner()
    base = ["report", "language", "--config", str(cfg_path), "--from", "2025-03-01", "--to", "2025-04-30"]
    result = runner.invoke(cli, [*base, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["overall"]["parity_ratio"] == 2.0
    out = tmp_path / "report.html"
    result = runner.invoke(cli, [*base, "--out", str(out), "--locale", "cy"])
    assert result.exit_code == 0 and "Adroddiad cydraddoldeb y Gymraeg" in out.read_text()
    result = runner.invoke(cli, [*base, "--account", "nope"])
    assert result.exit_code == 2 and "--account 'nope'" in result.output
    result = runner.invoke(
        cli, ["report", "language", "--config", str(cfg_path), "--from", "2025-04-01", "--to", "2025-03-01"]
    )
    assert result.exit_code == 2 and "before --from" in result.output
    result = runner.invoke(
        cli, ["report", "language", "--config", str(cfg_path), "--from", "March", "--to", "2025-03-01"]
    )
    assert result.exit_code == 2 and "not a date" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("language", ["cy", "en"])
def test_empty_period_renders(store, language: str) -> None:
    report = build_language_report(make_config(), store, date(2025, 1, 1), date(2025, 1, 31))
    assert "–" in render_report(report, "html", language)
    assert report.to_json()["overall"]["parity_ratio"] is None


def test_monthly_report_goes_to_the_reports_route_once(store, tmp_path: Path) -> None:
    from alerts_support import email_channel, teams_channel

    from monitor.digest import send_digest_if_due
    from monitor.outbox import send_due
    from monitor.receivers import SmtpSink, TeamsReceiver

    build_scenario(store)
    with SmtpSink(tmp_path / "mail") as sink, TeamsReceiver(tmp_path / "teams") as teams:
        cfg = make_config(
            "policy: {language_report: monthly}\n"
            "alerts:\n  channels:\n"
            f"    mail: {email_channel(sink.port, extra='language: cy+en')}\n"
            f"    teams: {teams_channel(teams.url)}\n"
            "  routes:\n    reports: {channels: [mail, teams]}\n"
        )
        assert send_digest_if_due(cfg, store, utc(20, 12)) is False  # first start: scheduled only
        assert send_digest_if_due(cfg, store, utc(1, 6, 59, month=4)) is False  # 07:59 BST: not yet
        assert send_digest_if_due(cfg, store, utc(1, 7, 0, month=4)) is True  # 1 April, 08:00 BST
        assert send_digest_if_due(cfg, store, utc(1, 9, 0, month=4)) is False  # once
        assert send_due(cfg, store, utc(1, 9, month=4)).delivered == 2
    [mail] = sink.messages
    assert mail["Subject"].strip() == (
        "Adroddiad cydraddoldeb y Gymraeg, Mawrth 2025 / Welsh language parity report, March 2025"
    )
    page = mail.get_body(("html",)).get_content()
    assert page.index("Adroddiad cydraddoldeb y Gymraeg, 1 Mawrth 2025 i 31 Mawrth 2025") < page.index(
        "Welsh language parity report, 1 March 2025 to 31 March 2025"
    )
    assert page.count("<svg") == 4
    card = teams.messages[0]["attachments"][0]["content"]
    facts = {f["title"]: f["value"] for b in card["body"] for f in b.get("facts", [])}
    assert card["body"][0]["text"] == "Welsh language parity report, March 2025"
    assert facts["Welsh posts"] == "4" and facts["Parity ratio"] == "2.00"  # March only
