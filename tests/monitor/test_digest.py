"""The digest: its figures from stored records, safe rendering, and a schedule that survives restarts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alerts_support import NOW, add_finding, email_channel, make_config, teams_channel
from click.testing import CliRunner
from sqlalchemy import select

from monitor.db import (
    AccountStateRow,
    AlertRow,
    EmergencyRow,
    MessageRow,
    PostRow,
    ReplyRow,
    ScheduleStateRow,
)
from monitor.digest import build_digest, next_occurrence, render_digest, send_digest_if_due, summary_payload
from monitor.outbox import send_due
from monitor.receivers import SmtpSink, TeamsReceiver

ROUTES = {"digest": '{channels: [mail], at: "08:30"}'}
HOSTILE = (
    '<script>alert("x")</script> <b>bold</b> **not bold** [link](https://evil.example) ' + "Aaaaaaaaaa" * 40
)


def config(port: int = 25):
    return make_config({"mail": email_channel(port)}, ROUTES)


def post(session, account_id: str, at: datetime, language: str, native: str, kind: str = "original") -> None:
    session.add(
        PostRow(
            platform="x",
            native_id=native,
            account_id=account_id,
            created_at=at,
            text="t",
            language=language,
            kind=kind,
            first_seen_at=at,
            updated_at=at,
        )
    )


def exchange(session, account_id: str, asked: datetime, answered: datetime, native: str) -> None:
    session.add(
        MessageRow(
            platform="x",
            native_id=native,
            account_id=account_id,
            channel="comment",
            author_id="u",
            author_name="U",
            created_at=asked,
            text="?",
            is_enquiry=True,
            first_seen_at=asked,
        )
    )
    session.add(
        ReplyRow(
            platform="x",
            native_id=f"r{native}",
            account_id=account_id,
            created_at=answered,
            text="!",
            in_reply_to=native,
            first_seen_at=answered,
        )
    )


def test_figures_per_account(store) -> None:
    cfg = config()
    tue = datetime(2025, 3, 4, tzinfo=UTC)  # the day before NOW; GMT == UTC in March
    with store.session() as s:
        # central (bilingual): en + cy counterpart 10 min later, and an English post with no Welsh: 2 of 3
        post(s, "central", tue + timedelta(hours=9), "en", "c1")
        post(s, "central", tue + timedelta(hours=9, minutes=10), "cy", "c2")
        post(s, "central", NOW - timedelta(days=3), "en", "c3")
        post(s, "central", NOW - timedelta(hours=1), "unknown", "c4")  # image only: not counted for parity
        post(s, "central", NOW - timedelta(minutes=5), "en", "c5", kind="reply")  # a reply is not a post
        # physics pair: en + cy within the window, and one en without: 2 of 3 across the pair
        post(s, "physics-en", tue + timedelta(hours=10), "en", "p1")
        post(s, "physics-cy", tue + timedelta(hours=10, minutes=5), "cy", "p2")
        post(s, "physics-en", tue + timedelta(hours=14), "en", "p3")
        # replies in working hours (Mon-Fri 09-17): 2 h (16:00 -> 10:00 next day), 30 min, 1 h
        exchange(
            s, "central", datetime(2025, 3, 3, 16, tzinfo=UTC), datetime(2025, 3, 4, 10, tzinfo=UTC), "m1"
        )
        exchange(
            s, "central", datetime(2025, 3, 5, 9, 30, tzinfo=UTC), datetime(2025, 3, 5, 10, tzinfo=UTC), "m2"
        )
        exchange(
            s, "central", datetime(2025, 3, 5, 10, tzinfo=UTC), datetime(2025, 3, 5, 11, tzinfo=UTC), "m3"
        )
        add_finding(s, "cadence", "recruit-intl", "account", "warning")
        # read successfully, no post: "never" posted (physics-cy etc. have posts; their state is irrelevant)
        s.add(AccountStateRow(account_id="recruit-intl", last_poll_at=NOW, last_status="ok", last_ok_at=NOW))
        add_finding(s, "welsh-unanswered", "central", "message:x:m9", "high")
        add_finding(
            s, "welsh-unanswered", "central", "message:x:m8", "high", opened_at=NOW - timedelta(days=3)
        )
        add_finding(
            s,
            "profile-hours",
            "central",
            "profile",
            "warning",
            status="resolved",
            opened_at=NOW - timedelta(days=5),
            resolved_at=NOW - timedelta(hours=2),
        )
    digest = build_digest(cfg, store, NOW)
    by_id = {a.account_id: a for a in digest.accounts}
    central, en, cy, intl = by_id["central"], by_id["physics-en"], by_id["physics-cy"], by_id["recruit-intl"]
    assert (central.days_since_post, en.days_since_post, cy.days_since_post) == (0, 0, 1)  # 22 h, 25 h 55
    assert intl.days_since_post is None and intl.last_post == "never"
    assert (round(central.parity, 3), central.parity_posts) == (0.667, 3)
    assert (round(en.parity, 3), en.parity_posts) == (0.667, 3) and cy.parity == en.parity
    assert en.parity_note == "counted across the pair with Ffiseg (facebook:222)"
    assert intl.parity is None and intl.parity_note == "exempt: audience outside Wales"
    assert central.median_reply == "1 h 00 min" and central.replies_counted == 3
    assert (en.median_reply, en.replies_counted) == ("no replies", 0)  # never "0 min"
    assert central.open_by_check == {"welsh-unanswered": 2} and intl.open_by_check == {"cadence": 1}
    assert digest.open_by_check == {"cadence": 1, "welsh-unanswered": 2}
    assert {f.check for f in digest.new} == {"cadence", "welsh-unanswered"} and digest.new_total == 2
    assert [f.check for f in digest.resolved] == ["profile-hours"]
    assert digest.emergencies == []


def test_text_reads_naturally_for_one_post_one_reply_and_a_post_hours_old(store) -> None:
    with store.session() as s:
        post(s, "central", NOW - timedelta(hours=20), "cy", "c1")  # yesterday, but not a day ago
        exchange(s, "central", NOW - timedelta(hours=3), NOW - timedelta(hours=2), "m1")
    digest = build_digest(config(), store, NOW)
    text, html = render_digest(digest, "text"), render_digest(digest, "html")
    block = text[text.index("University (x:prifysgol)") :]
    assert "Last post:     less than a day ago (" in block and "0 days ago" not in text
    assert " of 1 post (" in block and "(1 reply)" in block
    assert "1 posts" not in text and "1 replies" not in text
    assert "less than a day ago" in html and "(1 post)" in html
    teams_items = summary_payload(digest)["items"]
    assert any(i.startswith("University (x:prifysgol): last post under a day ago ·") for i in teams_items)


def test_an_account_never_read_is_not_said_never_to_have_posted(store) -> None:
    with store.session() as s:
        # expired token since day one: polls fail, nothing stored
        s.add(AccountStateRow(account_id="recruit-intl", last_poll_at=NOW, last_status="auth_expired"))
    digest = build_digest(config(), store, NOW)
    intl = next(a for a in digest.accounts if a.account_id == "recruit-intl")
    assert intl.last_post == "unknown (never polled successfully)" and intl.days_since_post is None
    assert "Last post:     unknown (never polled successfully)" in render_digest(digest, "text")


def test_emergency_summary_when_one_ran(store) -> None:
    with store.session() as s:
        s.add(
            EmergencyRow(
                started_at=NOW - timedelta(hours=5),
                started_by="duty officer",
                reason="Campus lockdown",
                ended_at=NOW - timedelta(hours=3),
            )
        )
        s.add(
            EmergencyRow(started_at=NOW - timedelta(days=9), reason="old", ended_at=NOW - timedelta(days=8))
        )
        add_finding(s, "emergency-posting", opened_at=NOW - timedelta(hours=4))
        # a scheduled post found queued is not a post by the account: not counted as one
        add_finding(
            s, "emergency-posting", subject="scheduled:facebook:9", opened_at=NOW - timedelta(hours=4)
        )
    digest = build_digest(config(), store, NOW)
    [emergency] = digest.emergencies
    assert emergency.reason == "Campus lockdown" and emergency.posting_findings == 1
    assert "EMERGENCY" in render_digest(digest, "text") and "Campus lockdown" in render_digest(digest, "html")


def test_platform_text_renders_safely_in_both_formats(store) -> None:
    with store.session() as s:
        add_finding(
            s,
            "welsh-counterpart",
            "central",
            "post:x:1",
            "high",
            title=HOSTILE,
            detail=HOSTILE + "\n\x07",
            url="javascript:alert(1)",
        )
    digest = build_digest(config(), store, NOW)
    html = render_digest(digest, "html")
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>bold</b>" not in html
    assert "javascript:" not in html and 'href="https://evil.example"' not in html
    assert "A" * 61 not in html.replace("a", "A").split("<body", 1)[1]  # long runs get break opportunities
    text = render_digest(digest, "text")
    assert "\x07" not in text and '<script>alert("x")</script>' in text  # plain text shows it, inertly
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "javascript:" not in text


def test_next_occurrence_in_local_time_across_the_clock_change() -> None:
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    assert next_occurrence("08:30", london, datetime(2025, 3, 29, 9, tzinfo=UTC)) == datetime(
        2025, 3, 30, 7, 30, tzinfo=UTC
    )  # BST began: 08:30 local is 07:30 UTC
    assert next_occurrence("08:30", london, datetime(2025, 3, 5, 8, 29, tzinfo=UTC)) == datetime(
        2025, 3, 5, 8, 30, tzinfo=UTC
    )


def digest_rows(store) -> list[AlertRow]:
    with store.session() as s:
        return list(s.scalars(select(AlertRow).where(AlertRow.reason == "digest")))


def test_schedule_first_start_then_due_once(any_store) -> None:
    cfg = config()
    assert send_digest_if_due(cfg, any_store, NOW) is False  # first start: schedule only
    with any_store.session() as s:
        assert s.get(ScheduleStateRow, "digest:digest").next_due_at == datetime(2025, 3, 6, 8, 30, tzinfo=UTC)
    assert send_digest_if_due(cfg, any_store, datetime(2025, 3, 6, 8, 29, tzinfo=UTC)) is False
    assert send_digest_if_due(cfg, any_store, datetime(2025, 3, 6, 8, 30, tzinfo=UTC)) is True
    assert send_digest_if_due(cfg, any_store, datetime(2025, 3, 6, 8, 31, tzinfo=UTC)) is False
    assert len(digest_rows(any_store)) == 1


def test_digest_missed_while_down_is_sent_once_on_start(any_store) -> None:
    cfg = config()
    send_digest_if_due(cfg, any_store, NOW)
    assert send_digest_if_due(cfg, any_store, datetime(2025, 3, 6, 8, 31, tzinfo=UTC)) is True
    restart = datetime(2025, 3, 9, 10, 0, tzinfo=UTC)  # down over three digest times
    results = [send_digest_if_due(cfg, any_store, restart), send_digest_if_due(cfg, any_store, restart)]
    assert results == [True, False]
    first, missed = digest_rows(any_store)
    assert first.payload["digest"]["since"] == "Wed 05 Mar 2025 08:30 GMT"  # a first digest covers a day
    assert missed.payload["digest"]["since"] == "Thu 06 Mar 2025 08:31 GMT"  # covers the whole gap
    with any_store.session() as s:
        state = s.get(ScheduleStateRow, "digest:digest")
        assert state.next_due_at == datetime(2025, 3, 10, 8, 30, tzinfo=UTC)
        assert state.last_done_at == restart


def test_digest_is_delivered_by_email_and_teams(store, tmp_path: Path) -> None:
    with SmtpSink(tmp_path / "mail") as sink, TeamsReceiver(tmp_path / "teams") as teams:
        cfg = make_config(
            {"mail": email_channel(sink.port), "teams": teams_channel(teams.url)},
            {"digest": '{channels: [mail, teams], at: "08:30"}'},
        )
        with store.session() as s:
            add_finding(s, "cadence", "central", "account", "warning", title=HOSTILE)
        send_digest_if_due(cfg, store, NOW)
        send_digest_if_due(cfg, store, NOW + timedelta(days=1))
        assert send_due(cfg, store, NOW + timedelta(days=1)).delivered == 2
    [mail] = sink.messages
    assert mail["Subject"] == "Social media compliance digest, Thursday 6 March 2025"
    assert "&lt;script&gt;" in mail.get_body(("html",)).get_content()
    card = teams.messages[0]["attachments"][0]["content"]
    body_text = " ".join(b.get("text", "") for b in card["body"])
    assert "University (x:prifysgol)" in body_text and "\\<script\\>" in body_text


def test_cli_preview_writes_html_or_text_without_sending(store, tmp_path: Path, monkeypatch) -> None:
    cfg_path = tmp_path / "socialmon.yaml"
    from alerts_support import ACCOUNTS

    cfg_path.write_text(
        ACCOUNTS + f"database: sqlite:///{tmp_path / 'test.db'}\nalerts:\n  channels:\n"
        f"    mail: {email_channel(1)}\n  routes:\n    digest: {ROUTES['digest']}\n"
    )
    with store.session() as s:  # the CLI runs on the real clock: a finding opened an hour ago is "new"
        add_finding(
            s,
            "cadence",
            "central",
            "account",
            "warning",
            title=HOSTILE,
            opened_at=datetime.now(UTC) - timedelta(hours=1),
        )
    from monitor.cli.main import cli

    runner = CliRunner()
    out = tmp_path / "digest.html"
    result = runner.invoke(cli, ["digest", "--preview", "--config", str(cfg_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("<!DOCTYPE html>") and "&lt;script&gt;" in out.read_text()
    result = runner.invoke(cli, ["digest", "--preview", "--format", "text", "--config", str(cfg_path)])
    assert result.exit_code == 0 and re.search(r"OPEN FINDINGS BY CHECK\n-+\n  cadence\s+1", result.output)
    assert digest_rows(store) == []
    result = runner.invoke(cli, ["digest", "--config", str(cfg_path)])
    assert result.exit_code == 2 and "choose one of --preview or --send" in result.output


def test_cli_send_reports_each_channel(store, tmp_path: Path) -> None:
    with SmtpSink(tmp_path / "mail") as sink:
        cfg_path = tmp_path / "socialmon.yaml"
        from alerts_support import ACCOUNTS

        cfg_path.write_text(
            ACCOUNTS + f"database: sqlite:///{tmp_path / 'test.db'}\nalerts:\n  channels:\n"
            f"    mail: {email_channel(sink.port)}\n  routes:\n    digest: {ROUTES['digest']}\n"
        )
        from monitor.cli.main import cli

        result = CliRunner().invoke(cli, ["digest", "--send", "--config", str(cfg_path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "mail: delivered"
    assert len(sink.messages) == 1
    with store.session() as s:
        assert s.get(ScheduleStateRow, "digest:digest").last_done_at is not None


@pytest.mark.parametrize("fmt", ["html", "text"])
def test_empty_store_renders(store, fmt: str) -> None:
    rendered = render_digest(build_digest(config(), store, NOW), fmt)  # type: ignore[arg-type]
    # nothing was ever read: the digest does not claim the accounts never posted
    assert "None." in rendered and "unknown (never polled successfully)" in rendered
    assert "never</td>" not in rendered and "Last post:     never" not in rendered


def test_reads_as_a_to_do_list_most_urgent_first_with_why_who_and_where(store) -> None:
    with store.session() as s:
        add_finding(s, "cadence", "physics-en", "account", "warning", opened_at=NOW - timedelta(hours=2))
        add_finding(
            s, "welsh-counterpart", "physics-en", "post:x:2", "high", opened_at=NOW - timedelta(hours=3)
        )
        # opened and resolved since the last digest: nothing to do, so listed as resolved only
        add_finding(
            s,
            "emergency-posting",
            opened_at=NOW - timedelta(hours=4),
            status="resolved",
            resolved_at=NOW - timedelta(hours=1),
        )
        # opened before the last digest and still open: listed, not only counted
        add_finding(s, "registry", "central", "registry", "warning", opened_at=NOW - timedelta(days=5))
    digest = build_digest(config(), store, NOW)
    assert [f.check for f in digest.new] == ["welsh-counterpart", "cadence"] and digest.new_total == 2
    assert [f.check for f in digest.resolved] == ["emergency-posting"]
    assert [f.check for f in digest.still_open] == ["registry"] and digest.still_open_total == 1
    assert digest.new[0].policy_section == "Policy: a section"
    assert digest.new[0].manager == "physics.manager@uni.ac.uk"
    text = render_digest(digest, "text")
    # the to-do list comes before the per-account figures, and old open findings are named
    assert (
        text.index("NEW SINCE THE LAST DIGEST")
        < text.index("STILL OPEN FROM EARLIER")
        < text.index("ACCOUNTS")
    )
    assert "  Why: Policy: a section" in text and "  Manager: physics.manager@uni.ac.uk" in text
    assert "  Link: https://facebook.com/1" in text
    html = render_digest(digest, "html")
    assert (
        html.index("New since the last digest")
        < html.index("Still open from earlier")
        < html.index(">Accounts<")
    )
    assert "<b>Why:</b> Policy: a section" in html and "manager physics.manager@uni.ac.uk" in html


def test_no_line_starts_with_from_which_mail_software_would_mangle(store) -> None:
    with store.session() as s:
        s.add(EmergencyRow(started_at=NOW - timedelta(hours=2), started_by="duty", reason="Lockdown"))
        add_finding(s, "emergency-posting", opened_at=NOW - timedelta(hours=1))
    text = render_digest(build_digest(config(), store, NOW), "text")
    assert not any(line.startswith("From ") for line in text.splitlines())
    assert "1 post by non-central accounts" in text and "post(s)" not in text


def test_welsh_text_is_shown_intact_in_both_formats(store) -> None:
    welsh = "Ble mae'r ŵyl? Mae'n dŷ â gardd — “Diolch”"
    with store.session() as s:
        add_finding(s, "welsh-unanswered", "central", "message:x:1", "high", title=welsh, detail=welsh)
    digest = build_digest(config(), store, NOW)
    assert welsh in render_digest(digest, "text")
    html = render_digest(digest, "html")
    assert (
        "ŵyl" in html and "dŷ â gardd" in html and "&#" not in html.split("<body", 1)[1].replace("&#39;", "")
    )
    assert any("ŵyl" in item for item in summary_payload(digest)["items"])


def test_clickable_share_is_a_column_of_the_account_table(store) -> None:
    cfg = config()
    cfg = cfg.model_copy(update={"policy": cfg.policy.model_copy(update={"official_domains": ["uni.ac.uk"]})})
    with store.session() as s:
        for i, links in enumerate((["https://www.uni.ac.uk/a"], ["https://news.example/b"], [], [])):
            s.add(
                PostRow(
                    platform="x", native_id=f"c{i}", account_id="central",
                    created_at=NOW - timedelta(days=i + 1),
                    text="t", language="en", kind="original", links=links, first_seen_at=NOW, updated_at=NOW,
                )
            )  # fmt: skip
    digest = build_digest(cfg, store, NOW)
    central = next(a for a in digest.accounts if a.account_id == "central")
    assert (central.clickable_share, central.clickable_posts) == (0.25, 4)
    assert "Links to our website: 25% of 4 posts in 30 days" in render_digest(digest, "text")
    assert "Links to our website</th>" in render_digest(digest, "html")
    assert build_digest(config(), store, NOW).accounts[0].clickable_share is None  # no official domains
