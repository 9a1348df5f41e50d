"""Welsh, English and bilingual output: the catalogue is complete, dates follow Babel's locales, and a
Welsh digest, e-mail and Teams card carry no English sentence outside the posts they quote."""

from __future__ import annotations

import gettext
import html as html_lib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alerts_support import ACCOUNTS, NOW, add_finding, email_channel, teams_channel
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from checks import REGISTRY, all_checks
from monitor.config import Config, parse_config
from monitor.digest import send_digest_if_due
from monitor.i18n import LOCALE_DIR, locales, long_time, translator
from monitor.language import classify
from monitor.outbox import send_due
from monitor.receivers import SmtpSink, TeamsReceiver
from monitor.routing import route_findings
from monitor.texts import CHECK_ADVICE

ROOT = Path(__file__).resolve().parents[2]
PO = LOCALE_DIR / "cy" / "LC_MESSAGES" / "socialmon.po"
MO = PO.with_suffix(".mo")
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")

COUNTERPART = "Language Policy - “messages must be posted in both languages simultaneously and to a similar standard in both content and style”"  # noqa: E501
# What welsh-counterpart writes: generated English around a quoted post.
COUNTERPART_DETAIL = (
    "Post of Tue 4 Mar 14:05 “Open day this Saturday: book your place now” has no Welsh version on "
    "Ffiseg (facebook:222) within 30 min. Publish the Welsh version alongside it."
)


def _catalogue():
    with PO.open("rb") as handle:
        return read_po(handle, locale="cy")


def _ids(message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


# --- the catalogue -------------------------------------------------------------------------------


def test_every_message_has_welsh_and_none_is_fuzzy() -> None:
    catalogue = _catalogue()
    assert len(catalogue) > 100
    for message in catalogue:
        if not message.id:
            continue
        assert not message.fuzzy, f"fuzzy: {message.id!r}"
        placeholders = set(_PLACEHOLDER.findall(" ".join(_ids(message))))
        for text in _strings(message):
            assert text.strip(), f"no Welsh for {message.id!r}"
            # every %(name)s used in Welsh exists in English (a typo would raise KeyError at run time)
            assert set(_PLACEHOLDER.findall(text)) <= placeholders | {"num"}, message.id


def test_catalogue_holds_every_message_in_the_code_and_templates() -> None:
    """What extraction finds now (babel.cfg) is in the Welsh catalogue: a new English text without
    Welsh fails here. `scripts/catalogue.sh` updates the catalogue."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = {
        (msgid if isinstance(msgid, str) else msgid[0])
        for _, _, msgid, _, _ in extract_from_dir(
            str(ROOT),
            method_map,
            options_map,
            keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
        )
    }
    known = {_ids(m)[0] for m in _catalogue() if m.id}
    assert found, "extraction found nothing: babel.cfg paths?"
    assert sorted(found - known) == []


def test_compiled_catalogue_matches_the_po_file() -> None:
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for message in _catalogue():
        if not message.id:
            continue
        ids, strings = _ids(message), _strings(message)
        if len(ids) == 1:
            assert compiled.gettext(ids[0]) == strings[0], f"stale .mo: run scripts/catalogue.sh ({ids[0]!r})"
        else:
            assert compiled.ngettext(ids[0], ids[1], 5) == strings[5]


def test_every_check_title_policy_quote_and_advice_has_welsh() -> None:
    t = translator("cy")
    for check in all_checks():
        assert t.known(check.title) != check.title, check.id
        assert t.known(check.policy_section) != check.policy_section, check.id
    assert set(CHECK_ADVICE) == set(REGISTRY)
    for advice in CHECK_ADVICE.values():
        assert t.known(advice) != advice


# --- dates and languages -------------------------------------------------------------------------


def test_dates_through_babel_locales() -> None:
    london = ZoneInfo("Europe/London")
    at = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
    assert long_time(at, london, "cy") == "dydd Llun 30 Tachwedd 2026, 09:30"
    assert long_time(at, london, "en") == "Monday 30 November 2026, 09:30"
    summer = datetime(2026, 6, 2, 12, 5, tzinfo=UTC)
    assert translator("cy").local_time(summer, london) == "13:05 BST, Maw 2 Meh 2026"
    assert translator("en").local_time(summer, london) == "Tue 02 Jun 2026 13:05 BST"


def test_language_settings() -> None:
    assert locales("cy+en") == ["cy", "en"] and locales("cy") == ["cy"] and locales("en") == ["en"]
    with pytest.raises(ValueError):
        locales("fr")


DIGEST = {"digest": '{channels: [mail], at: "08:30"}'}
ALERTS = "{channels: [mail, teams], min_severity: high}"


def _config(channels: dict[str, str], routes: dict[str, str], top: str = "") -> Config:
    lines = [top, ACCOUNTS, "alerts:", "  channels:"]
    lines += [f"    {name}: {spec}" for name, spec in channels.items()]
    lines.append("  routes:")
    lines += [f"    {name}: {spec}" for name, spec in routes.items()]
    return parse_config("\n".join(lines), "test.yaml", env={})


def test_channel_language_and_global_locale_are_checked_config() -> None:
    from monitor.config import ConfigError

    cfg = _config({"mail": email_channel(25)}, {"digest": '{channels: [mail], at: "08:30"}'}, "locale: cy+en")
    assert cfg.locale == "cy+en" and cfg.alerts.channels["mail"].language is None
    assert _config({"mail": email_channel(25)}, {"digest": '{channels: [mail], at: "08:30"}'}).locale == "en"
    with pytest.raises(ConfigError) as err:
        _config(
            {"mail": email_channel(25, extra="language: fr")}, {"digest": '{channels: [mail], at: "08:30"}'}
        )
    assert "language" in str(err.value)


# --- rendered Welsh output -----------------------------------------------------------------------


def _add_findings(store) -> None:
    with store.session() as s:
        add_finding(
            s,
            "welsh-counterpart",
            "physics-en",
            "post:facebook:9",
            "high",
            title="Post without a version in the other language",
            detail=COUNTERPART_DETAIL,
        ).policy_section = COUNTERPART
        cadence = next(c for c in all_checks() if c.id == "cadence")
        add_finding(
            s,
            "cadence",
            "central",
            "account",
            "warning",
            opened_at=NOW - timedelta(days=3),
            title=cadence.title,
            detail="No original post has been seen on this account; the policy expects one every 2 days.",
        ).policy_section = cadence.policy_section


def _labels(cfg: Config) -> list[str]:
    """What the operator wrote in the configuration (names, exemption reasons) is shown as written."""
    written = [a.label() for a in cfg.accounts]
    written += [getattr(a.language, "reason", "") for a in cfg.accounts if a.language.mode == "exempt"]
    return sorted(written, key=len, reverse=True)


def english_sentences(text: str, cfg: Config) -> list[str]:
    """Pieces of `text` the project's detector calls English, after removing what is quoted or named:
    posts in “...”, times, what the configuration says (account labels, exemption reasons), check ids,
    URLs, e-mail addresses and the `socialmon` command."""
    text = re.sub(r"<style\b.*?</style>", " ", text, flags=re.S)  # CSS is not read by anyone
    text = re.sub(r"</?(b|span|a)\b[^>]*>", " ", text)  # inline markup joins, blocks separate
    text = html_lib.unescape(re.sub(r"<[^>]+>", "\n", text))
    text = re.sub(r"“[^”]*”", " ", text)
    text = re.sub(r"https?://\S+|\S+@\S+|`[^`]*`", " ", text)
    for label in _labels(cfg):
        text = text.replace(label, " ")
    for check in REGISTRY:
        text = text.replace(check, " ")
    text = text.replace("socialmon", " ").replace("Europe/London", " ")
    text = re.sub(r"\b\w{3,5} \d\d \w{3,5} \d{4} \d\d:\d\d (GMT|BST)", " ", text)  # times, as formatted
    text = re.sub(r"\b\d\d:\d\d (GMT|BST), \w{3,5} \d{1,2} \w{3,5} \d{4}", " ", text)  # (in Welsh)
    pieces = re.split(r"\n|(?<=[.;])\s+| · ", text)
    return [p.strip() for p in pieces if p.strip() and classify(p).label == "en"]


def _card_texts(card: dict) -> str:
    out = []
    for block in card["body"]:
        out.append(block.get("text", ""))
        for fact in block.get("facts", []):
            out += [fact["title"], fact["value"]]
    return "\n".join(out + [a["title"] for a in card.get("actions", [])])


def test_welsh_digest_email_and_card_have_no_english_outside_quotes(store, tmp_path: Path) -> None:
    with SmtpSink(tmp_path / "mail") as sink, TeamsReceiver(tmp_path / "teams") as teams:
        cfg = _config(
            {"mail": email_channel(sink.port), "teams": teams_channel(teams.url)},
            {
                "digest": '{channels: [mail, teams], at: "08:30"}',
                "alerts": "{channels: [mail, teams], min_severity: high}",
            },
            "locale: cy",
        )
        _add_findings(store)
        send_digest_if_due(cfg, store, NOW)
        send_digest_if_due(cfg, store, NOW + timedelta(days=1))
        route_findings(cfg, store, NOW)
        assert send_due(cfg, store, NOW + timedelta(days=1)).delivered == 4
    digest_mail = next(m for m in sink.messages if "Crynodeb" in m["Subject"])
    alert_mail = next(m for m in sink.messages if m is not digest_mail)
    # (a subject over 78 characters is folded onto a continuation line: unfolded, it starts with a space)
    assert (
        digest_mail["Subject"].strip()
        == "Crynodeb cydymffurfio ar y cyfryngau cymdeithasol, dydd Iau 6 Mawrth 2025"
    )
    assert alert_mail["Subject"].strip().startswith("[UCHEL] Postiad heb fersiwn yn yr iaith arall - Physics")
    for mail in (digest_mail, alert_mail):
        for part in ("plain", "html"):
            body = mail.get_body((part,)).get_content()
            assert english_sentences(body, cfg) == [], (mail["Subject"], part)
        assert 'lang="cy"' in mail.get_body(("html",)).get_content()
    html = alert_mail.get_body(("html",)).get_content()
    assert "“Open day this Saturday: book your place now”" in html  # the quoted post is kept as posted
    assert "Polisi Iaith" in html and "Cyhoeddwch y fersiwn yn yr iaith arall" in html
    for message in teams.messages:
        card = message["attachments"][0]["content"]
        assert english_sentences(_card_texts(card), cfg) == []
    digest_text = digest_mail.get_body(("plain",)).get_content()
    assert "Postiad diwethaf:" in digest_text and "NEWYDD ERS Y CRYNODEB DIWETHAF" in digest_text


WEB = """web:
  public_url: https://socialmon.example.ac.uk/
  auth: {mode: proxy}
  roles: {a.person@uni.ac.uk: comms}"""


def _add_second_wave_findings(store) -> None:
    """Findings of the second-wave checks, in every triage state, and resolutions with figures."""
    checks = {c.id: c for c in all_checks()}
    with store.session() as s:
        rows = []
        for check, account, subject, title, detail in [
            (
                "post-anomaly",
                "central",
                "post:x:5",
                None,
                "Post of Tue 4 Mar 03:10 “WIN crypto now” is unlike "
                "the account's normal posting: crypto, giveaway or log-in wording.",
            ),
            (
                "personal-data",
                "physics-en",
                "post:facebook:7",
                None,
                "Post of Tue 4 Mar 10:00 carries a UK phone number (07•••••••89). Remove it or edit it out.",
            ),
            (
                "clickable",
                "physics-cy",
                "account",
                None,
                "1 of the 10 posts of the last 30 days (10 %) link "
                "to the university's web pages (uni.ac.uk); the policy setting asks for at least 50 %.",
            ),
            (
                "access-review",
                "central",
                "access:left",
                "Someone left the account: remove their access and change the password",
                "Jane Jones left the named people (seen Mon 3 Mar 09:00).",
            ),
            (
                "welsh-counterpart",
                "physics-cy",
                "post:facebook:8",
                "Welsh version not of a similar standard",
                "Post of Tue 4 Mar 11:00 “Diwrnod agored” has a Welsh version that is not of a similar "
                "standard: it is much shorter. Give the Welsh version the same content.",
            ),
        ]:
            row = add_finding(
                s, check, account, subject, "high", title=title or checks[check].title, detail=detail
            )
            row.policy_section = checks[check].policy_section
            rows.append(row)
        rows[0].state, rows[0].state_by, rows[0].state_note = "acknowledged", "a.person@uni.ac.uk", "on it"
        rows[1].state, rows[1].state_by = "snoozed", "a.person@uni.ac.uk"
        rows[1].state_until = NOW + timedelta(days=3)
        rows[2].state, rows[2].state_by, rows[2].state_note = "dismissed", "a.person@uni.ac.uk", "known"
        rows[3].state, rows[3].state_by, rows[3].state_note = "dismissed", "a.person@uni.ac.uk", "known"
        rows[3].state_until = NOW + timedelta(days=30)
        for subject, reason in [
            ("post:facebook:20", "older than the 7 days look-back: no longer tracked"),
            ("post:facebook:21", "a reply in Welsh arrived (Tue 4 Mar 12:00)"),
            ("post:facebook:22", "3 of 10 posts now link to the university's web pages"),
        ]:
            resolved = add_finding(
                s,
                "welsh-counterpart",
                "physics-en",
                subject,
                "warning",
                status="resolved",
                resolved_at=NOW + timedelta(hours=12),
                title=checks["welsh-counterpart"].title,
            )
            resolved.resolve_reason = reason
            resolved.policy_section = checks["welsh-counterpart"].policy_section


def _add_blind_spots(store) -> None:
    """What socialmon cannot see (issue 15): a feature it could not read, and a credential not valid."""
    from monitor.db import CoverageGapRow, CredentialFactRow

    with store.session() as s:
        s.add(
            CoverageGapRow(
                account_id="physics-en",
                feature="scheduled_posts",
                reason="the token lacks a permission",
                fix="grant it",
                since=NOW - timedelta(days=1),
                seen_at=NOW,
            )
        )
        s.add(CredentialFactRow(account_id="central", checked_at=NOW, valid=False, scopes=[]))


def test_second_wave_texts_in_welsh_have_no_english(store, tmp_path: Path) -> None:
    """Triage lines and the quiet section, finding links, the clickable column, "no replies", the new
    checks' titles, quotes and advice, and resolution reasons with figures: all Welsh."""
    with SmtpSink(tmp_path / "mail") as sink, TeamsReceiver(tmp_path / "teams") as teams:
        cfg = _config(
            {"mail": email_channel(sink.port), "teams": teams_channel(teams.url)},
            {
                "digest": '{channels: [mail, teams], at: "08:30"}',
                "alerts": "{channels: [mail, teams], min_severity: high}",
            },
            "locale: cy\n" + WEB,
        )
        _add_second_wave_findings(store)
        _add_blind_spots(store)
        send_digest_if_due(cfg, store, NOW)
        send_digest_if_due(cfg, store, NOW + timedelta(days=1))
        route_findings(cfg, store, NOW)
        send_due(cfg, store, NOW + timedelta(days=1))
    digest_mail = next(m for m in sink.messages if "Crynodeb" in m["Subject"])
    text = digest_mail.get_body(("plain",)).get_content()
    html = digest_mail.get_body(("html",)).get_content()
    assert "WEDI'U DIYSTYRU A'U GOHIRIO" in text and "Gohiriwyd tan" in text and "Diystyrwyd gan" in text
    assert "Cydnabuwyd gan a.person@uni.ac.uk" in text and "Dolenni i'n gwefan" in html
    assert "dim atebion" in text and "yn hŷn na'r cyfnod edrych yn ôl o 7 diwrnod" in text
    assert "daeth ateb yn Gymraeg" in text and "mae 3 o'r 10 postiad bellach" in text
    assert (
        "YR HYN NA ALL SOCIALMON EI WELD" in text
        and "postiadau yn y ciw yn anhysbys ar gyfer: Physics" in text
    )
    assert "dim byd yn ddarllenadwy (nid yw'r manylion mynediad yn ddilys) ar gyfer: University" in text
    alerts = [m for m in sink.messages if m is not digest_mail]
    assert alerts and all("/findings/" in m.get_body(("plain",)).get_content() for m in alerts)
    for mail in sink.messages:
        for part in ("plain", "html"):
            body = mail.get_body((part,)).get_content()
            assert english_sentences(body, cfg) == [], (mail["Subject"], part)
    for message in teams.messages:
        card = message["attachments"][0]["content"]
        assert english_sentences(_card_texts(card), cfg) == []
        assert all("Acknowledge" not in a["title"] for a in card.get("actions", []))


def test_the_check_finds_english_when_there_is_some(store, tmp_path: Path) -> None:
    """The no-English check above can fail: the same scenario in English is full of it."""
    with SmtpSink(tmp_path / "mail") as sink:
        cfg = _config({"mail": email_channel(sink.port)}, {"digest": '{channels: [mail], at: "08:30"}'})
        _add_findings(store)
        send_digest_if_due(cfg, store, NOW)
        send_digest_if_due(cfg, store, NOW + timedelta(days=1))
        send_due(cfg, store, NOW + timedelta(days=1))
    [mail] = sink.messages
    assert len(english_sentences(mail.get_body(("plain",)).get_content(), cfg)) > 10


def test_bilingual_channel_gets_welsh_first_in_subject_and_body(store, tmp_path: Path) -> None:
    with SmtpSink(tmp_path / "mail") as sink, TeamsReceiver(tmp_path / "teams") as teams:
        cfg = _config(
            {
                "mail": email_channel(sink.port, extra="language: cy+en"),
                "teams": teams_channel(teams.url)[:-1] + ", language: cy+en}",
                "plain": email_channel(sink.port),
            },
            {
                "digest": '{channels: [mail, teams, plain], at: "08:30"}',
                "alerts": "{channels: [mail], min_severity: high}",
            },
        )
        _add_findings(store)
        send_digest_if_due(cfg, store, NOW)
        send_digest_if_due(cfg, store, NOW + timedelta(days=1))
        route_findings(cfg, store, NOW)
        assert send_due(cfg, store, NOW + timedelta(days=1)).delivered == 4
    subjects = sorted(m["Subject"].strip() for m in sink.messages)
    assert subjects == [
        "Crynodeb cydymffurfio ar y cyfryngau cymdeithasol, dydd Iau 6 Mawrth 2025 / "
        "Social media compliance digest, Thursday 6 March 2025",
        "Social media compliance digest, Thursday 6 March 2025",  # the English-only channel
        "[UCHEL/HIGH] Postiad heb fersiwn yn yr iaith arall / Post without a version in the other language"
        " - Physics (facebook:111)",
    ]
    digest_mail = next(m for m in sink.messages if m["Subject"].strip().startswith("Crynodeb"))
    for part in ("plain", "html"):
        body = digest_mail.get_body((part,)).get_content()
        welsh, english = (
            body.index("Cyfrifon" if part == "html" else "CYFRIFON"),
            body.index("Accounts" if part == "html" else "ACCOUNTS"),
        )
        assert welsh < english
    alert_mail = next(m for m in sink.messages if m["Subject"].strip().startswith("[UCHEL/HIGH]"))
    text = alert_mail.get_body(("plain",)).get_content()
    assert (
        text.index("Polisi Iaith") < text.index("Publish the Welsh version") < text.index("Language Policy")
    )
    card = teams.messages[0]["attachments"][0]["content"]
    texts = [b.get("text", "") for b in card["body"]]
    welsh_at = next(i for i, t in enumerate(texts) if t.startswith("Crynodeb"))
    english_at = next(i for i, t in enumerate(texts) if t.startswith("Social media compliance digest"))
    assert welsh_at == 0 and english_at > welsh_at and card["body"][english_at].get("separator") is True


def test_digest_preview_follows_the_configured_locale(store, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from monitor.cli.main import cli

    cfg_path = tmp_path / "socialmon.yaml"
    cfg_path.write_text(
        "locale: cy+en\n" + ACCOUNTS + f"database: sqlite:///{tmp_path / 'test.db'}\nalerts:\n  channels:\n"
        f"    mail: {email_channel(1)}\n  routes:\n    digest: " + '{channels: [mail], at: "08:30"}\n'
    )
    result = CliRunner().invoke(cli, ["digest", "--preview", "--format", "text", "--config", str(cfg_path)])
    assert result.exit_code == 0, result.output
    assert result.output.index("CYFRIFON") < result.output.index("ACCOUNTS")


def test_operations_notices_of_webhooks_and_rate_budget_in_welsh() -> None:
    """Notices the daemon writes itself (webhook hints stopped, accounts slowed by the rate budget)."""
    from monitor.budget import Plan
    from monitor.hooks.subscriptions import _silence_texts
    from monitor.pacing import _slowed_texts

    cfg = _config({"mail": email_channel(25)}, {"digest": '{channels: [mail], at: "08:30"}'}, "locale: cy")
    plan = Plan(
        intervals={"central": timedelta(minutes=10), "physics-en": timedelta(seconds=90)},
        slowed={"central": timedelta(minutes=5), "physics-en": timedelta(seconds=60)},
    )
    notices = [
        _silence_texts("cy", "Physics (facebook:111)", "physics-en", ("lease", 0, "2025-03-06 08:00")),
        _silence_texts("cy", "Physics (facebook:111)", "physics-en", ("missed", 3, "2025-03-06 08:00")),
        _slowed_texts("cy", cfg, plan, True),
        _slowed_texts("cy", cfg, plan, False),
    ]
    for notice in notices:
        assert english_sentences(f"{notice['subject']}\n{notice['text']}", cfg) == [], notice
    assert "bob 10 munud yn lle bob 5 munud" in notices[2]["text"] and "90 eiliad" in notices[2]["text"]
    english = _slowed_texts("en", cfg, plan, False)
    assert english["subject"] == "Rate budget: 2 accounts polled less often than wanted"
    assert "- University (x:prifysgol): every 10 min instead of every 5 min" in english["text"]
    assert english_sentences(english["text"], cfg) != []  # the check above can fail
