"""Triage: acknowledge, snooze, dismiss and reopen findings; expiry; what routing and the digest do."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from alerts_support import NOW, add_finding, make_config
from sqlalchemy import select

from monitor.checking import run_checks
from monitor.db import AlertRow, FindingEventRow, FindingRow
from monitor.digest import build_digest, render_digest, summary_payload
from monitor.routing import route_findings
from monitor.triage import (
    TriageError,
    acknowledge,
    count_findings,
    dismiss,
    get_finding,
    list_findings,
    parse_finding_id,
    parse_until,
    reopen,
    snooze,
)

CHANNELS = {
    "mail": "{type: email, host: 127.0.0.1, port: 25, security: none, from: s@uni.ac.uk, to: [a@uni.ac.uk]}",
}
ROUTES = {
    "emergency": "{channels: [mail], repeat: 15m}",
    "security": "{channels: [mail]}",
    "digest": '{channels: [mail], at: "08:30"}',
}
WEB = """web:
  public_url: https://socialmon.example.ac.uk/
  auth: {mode: proxy}
  roles: {a.person@uni.ac.uk: comms}"""


def config(web: bool = False):
    return make_config(CHANNELS, ROUTES, WEB if web else "")


def one(store, **kw) -> int:
    with store.session() as session:
        return add_finding(session, **kw).id


def alerts(store) -> list[tuple[int | None, str, str]]:
    with store.session() as session:
        rows = session.scalars(select(AlertRow).order_by(AlertRow.id))
        return [(r.finding_id, r.route, r.reason) for r in rows]


def events(store, finding_id: int) -> list[tuple[str, str, str | None]]:
    return [(e.action, e.by, e.note) for e in get_finding(store, finding_id, now=NOW).events]


# --- actions and their audit trail -------------------------------------------------------------


def test_acknowledge_records_who_and_note_and_an_event(any_store) -> None:
    fid = one(any_store)
    acknowledge(any_store, fid, by=" a.person@uni.ac.uk ", note="Calling the department", now=NOW)
    view = get_finding(any_store, fid, now=NOW)
    assert (view.state, view.by, view.note, view.until, view.state_at) == (
        "acknowledged",
        "a.person@uni.ac.uk",
        "Calling the department",
        None,
        NOW,
    )
    assert view.status == "open"
    assert [(e.at, e.by, e.action, e.note) for e in view.events] == [
        (NOW, "a.person@uni.ac.uk", "acknowledged", "Calling the department")
    ]
    with pytest.raises(TriageError, match=r"already acknowledged by a\.person@uni\.ac\.uk"):
        acknowledge(any_store, fid, by="someone", note=None, now=NOW)


def test_snooze_then_expiry_returns_to_none_with_an_event(any_store) -> None:
    fid = one(any_store)
    until = NOW + timedelta(hours=4)
    snooze(any_store, fid, until=until, by="comms", note="after the open day", now=NOW)
    [view] = list_findings(any_store, now=NOW + timedelta(hours=1))
    assert (view.state, view.until, view.by, view.note) == ("snoozed", until, "comms", "after the open day")
    assert list_findings(any_store, state="snoozed", now=NOW + timedelta(hours=1)) == [view]

    later = NOW + timedelta(hours=4, seconds=1)
    detail = get_finding(any_store, fid, now=later)
    assert (detail.state, detail.by, detail.note, detail.until) == ("none", None, None, None)
    assert [(e.action, e.by, e.at) for e in detail.events] == [
        ("snoozed", "comms", NOW),
        ("expired", "socialmon", later),
    ]
    get_finding(any_store, fid, now=later + timedelta(hours=1))  # a second read adds nothing
    assert len(events(any_store, fid)) == 2


def test_dismiss_needs_a_reason_and_may_expire(any_store) -> None:
    forever, temporary = one(any_store), one(any_store, subject="post:facebook:2")
    with pytest.raises(TriageError, match="needs a reason"):
        dismiss(any_store, forever, reason="  ", by="comms", until=None, now=NOW)
    dismiss(any_store, forever, reason="false alarm: a retweet", by="comms", until=None, now=NOW)
    week = NOW + timedelta(days=7)
    dismiss(any_store, temporary, reason="accepted exception", by="comms", until=week, now=NOW)

    a_year_on = NOW + timedelta(days=365)
    states = {v.id: (v.state, v.note) for v in list_findings(any_store, now=a_year_on)}
    assert states == {forever: ("dismissed", "false alarm: a retweet"), temporary: ("none", None)}
    assert [a for a, _, _ in events(any_store, temporary)] == ["dismissed", "expired"]


def test_reopen_undoes_a_state_and_is_recorded(any_store) -> None:
    fid = one(any_store)
    with pytest.raises(TriageError, match="nothing to reopen"):
        reopen(any_store, fid, by="comms", now=NOW)
    dismiss(any_store, fid, reason="handled elsewhere", by="comms", until=None, now=NOW)
    reopen(any_store, fid, by="manager", now=NOW + timedelta(minutes=5))
    view = get_finding(any_store, fid, now=NOW + timedelta(minutes=5))
    assert (view.state, view.by, view.note) == ("none", None, None)
    assert [(a, b) for a, b, _ in events(any_store, fid)] == [("dismissed", "comms"), ("reopened", "manager")]


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda s, i: acknowledge(s, i, by="x", note=None, now=NOW), "no finding 999"),
        (lambda s, i: reopen(s, i, by="x", now=NOW), "no finding 999"),
        (lambda s, i: snooze(s, i, until=NOW + timedelta(hours=1), by="x", note=None, now=NOW), "no finding"),
        (lambda s, i: dismiss(s, i, reason="r", by="x", until=None, now=NOW), "no finding 999"),
        (lambda s, i: get_finding(s, i, now=NOW), "no finding 999"),
    ],
)
def test_unknown_ids_are_one_line_errors(any_store, action, message: str) -> None:
    one(any_store)
    with pytest.raises(TriageError, match=message) as info:
        action(any_store, 999)
    assert "\n" not in str(info.value)


def test_bad_times_names_and_resolved_findings_are_refused(any_store) -> None:
    fid = one(any_store)
    resolved = one(any_store, subject="post:facebook:9", status="resolved", resolved_at=NOW)
    with pytest.raises(TriageError, match="must end in the future"):
        snooze(any_store, fid, until=NOW, by="comms", note=None, now=NOW)
    with pytest.raises(TriageError, match="must end in the future"):
        dismiss(any_store, fid, reason="r", by="comms", until=NOW - timedelta(days=1), now=NOW)
    with pytest.raises(TriageError, match="time zone"):
        snooze(any_store, fid, until=NOW.replace(tzinfo=None), by="comms", note=None, now=NOW)
    with pytest.raises(TriageError, match="a name is required"):
        acknowledge(any_store, fid, by="   ", note=None, now=NOW)
    with pytest.raises(TriageError, match=f"finding {resolved} is resolved"):
        acknowledge(any_store, resolved, by="comms", note=None, now=NOW)
    with pytest.raises(TriageError, match="state 'asleep' is not one of none, acknowledged"):
        list_findings(any_store, state="asleep", now=NOW)
    with pytest.raises(TriageError, match="status 'closed'"):
        list_findings(any_store, status="closed", now=NOW)
    with pytest.raises(TriageError, match="not a finding id"):
        get_finding(any_store, 0, now=NOW)
    with any_store.session() as session:  # nothing refused left a trace
        assert session.scalars(select(FindingEventRow)).all() == []
        assert {r.state for r in session.scalars(select(FindingRow))} == {"none"}


def test_list_filters_orders_and_pages(any_store) -> None:
    low = one(any_store, check="cadence", severity="warning", subject="account", account_id="central")
    crit = one(any_store)
    gone = one(any_store, subject="post:facebook:3", status="resolved", resolved_at=NOW)
    assert [v.id for v in list_findings(any_store, now=NOW)] == [crit, low, gone]
    assert [v.id for v in list_findings(any_store, status="open", now=NOW)] == [crit, low]
    assert [v.id for v in list_findings(any_store, status="resolved", now=NOW)] == [gone]
    assert [v.id for v in list_findings(any_store, account="central", now=NOW)] == [low]
    assert [v.id for v in list_findings(any_store, check="cadence", now=NOW)] == [low]
    assert [v.id for v in list_findings(any_store, severity="critical", status="open", now=NOW)] == [crit]
    assert [v.id for v in list_findings(any_store, limit=1, offset=1, now=NOW)] == [low]
    assert count_findings(any_store, now=NOW) == 3
    assert count_findings(any_store, status="open", severity="warning", now=NOW) == 1
    view = list_findings(any_store, check="cadence", now=NOW)[0]
    assert view.to_json() == {
        "id": low,
        "check": "cadence",
        "account": "central",
        "severity": "warning",
        "subject": "account",
        "status": "open",
        "state": "none",
        "since": (NOW - timedelta(minutes=1)).isoformat(),
        "by": None,
        "note": None,
        "until": None,
    }


def test_parse_until_and_ids() -> None:
    london = ZoneInfo("Europe/London")
    summer = NOW.replace(month=7)  # BST: local 13:00
    assert parse_until("2025-07-06 09:00", london, summer).isoformat() == "2025-07-06T08:00:00+00:00"
    assert parse_until("2025-07-06T09:00Z", london, summer).isoformat() == "2025-07-06T09:00:00+00:00"
    assert parse_until("14:30", london, summer).isoformat() == "2025-07-05T13:30:00+00:00"
    assert parse_until("09:00", london, summer).isoformat() == "2025-07-06T08:00:00+00:00"  # tomorrow
    with pytest.raises(TriageError, match="'next week' is not a time"):
        parse_until("next week", london, summer)
    with pytest.raises(TriageError, match="must end in the future"):
        parse_until("2020-01-01", london, summer)
    assert parse_finding_id("#12") == 12
    with pytest.raises(TriageError, match="'x1' is not a finding id"):
        parse_finding_id("x1")


# --- routing: repeats stop, quiet findings are not alerted -------------------------------------


def test_acknowledged_critical_finding_stops_repeating(any_store) -> None:
    cfg = config()
    fid = one(any_store)
    assert route_findings(cfg, any_store, NOW) == 1
    assert route_findings(cfg, any_store, NOW + timedelta(minutes=15)) == 1  # a repeat
    acknowledge(any_store, fid, by="on-call", note=None, now=NOW + timedelta(minutes=20))
    for minutes in (30, 45, 90):
        assert route_findings(cfg, any_store, NOW + timedelta(minutes=minutes)) == 0
    assert alerts(any_store) == [(fid, "emergency", "first"), (fid, "emergency", "repeat")]
    reopen(any_store, fid, by="on-call", now=NOW + timedelta(minutes=95))
    assert route_findings(cfg, any_store, NOW + timedelta(minutes=95)) == 1  # repeats again


def test_snoozed_and_dismissed_findings_get_no_alerts_until_expiry(any_store) -> None:
    cfg = config()
    snoozed, dismissed = one(any_store), one(any_store, subject="post:facebook:2")
    snooze(any_store, snoozed, until=NOW + timedelta(hours=1), by="comms", note=None, now=NOW)
    dismiss(any_store, dismissed, reason="false alarm", by="comms", until=None, now=NOW)
    assert route_findings(cfg, any_store, NOW) == 0
    assert route_findings(cfg, any_store, NOW + timedelta(minutes=59)) == 0
    # The snooze ends: routing notices it, records it, and the first alert goes.
    assert route_findings(cfg, any_store, NOW + timedelta(hours=1)) == 1
    assert alerts(any_store) == [(snoozed, "emergency", "first")]
    assert [a for a, _, _ in events(any_store, snoozed)] == ["snoozed", "expired"]
    assert get_finding(any_store, dismissed, now=NOW + timedelta(hours=1)).state == "dismissed"


def test_a_dismissed_finding_resolves_quietly_and_a_new_breach_opens_a_new_finding(any_store) -> None:
    cfg = config()
    fid = one(any_store)
    assert route_findings(cfg, any_store, NOW) == 1
    dismiss(any_store, fid, reason="accepted exception", by="comms", until=None, now=NOW)
    with any_store.session() as session:
        row = session.get(FindingRow, fid)
        row.status, row.resolved_at, row.resolve_reason = "resolved", NOW + timedelta(hours=1), "gone"
    assert route_findings(cfg, any_store, NOW + timedelta(hours=1)) == 0  # no "resolved" alert either
    again = one(any_store, opened_at=NOW + timedelta(hours=2))  # the same fingerprint breaches again
    assert again != fid
    assert get_finding(any_store, again, now=NOW).state == "none"
    assert route_findings(cfg, any_store, NOW + timedelta(hours=2)) == 1


def test_state_survives_the_check_run_that_keeps_the_finding_open(any_store) -> None:
    """The lifecycle refreshes open findings; it must not reset what people said."""
    cfg = config()
    fid = one(any_store, check="no-such-check-any-more")
    acknowledge(any_store, fid, by="comms", note="on it", now=NOW)
    run_checks(cfg, any_store, NOW + timedelta(minutes=1))  # resolves it: the check does not exist
    view = get_finding(any_store, fid, now=NOW + timedelta(minutes=1))
    assert (view.status, view.state, view.by) == ("resolved", "acknowledged", "comms")


def test_alerts_link_to_the_finding_page_when_public_url_is_set(any_store) -> None:
    fid = one(any_store)
    route_findings(config(web=True), any_store, NOW)
    with any_store.session() as session:
        [row] = session.scalars(select(AlertRow))
        assert row.payload["finding_url"] == f"https://socialmon.example.ac.uk/findings/{fid}"
    other = one(any_store, subject="post:facebook:5")
    route_findings(config(web=False), any_store, NOW)
    with any_store.session() as session:
        row = session.scalars(select(AlertRow).where(AlertRow.finding_id == other)).one()
        assert "finding_url" not in row.payload


# --- the digest --------------------------------------------------------------------------------


def test_digest_lists_snoozed_and_dismissed_apart_from_the_to_do(any_store) -> None:
    cfg = config(web=True)
    todo = one(any_store, title="Posted during the emergency")
    acked = one(any_store, subject="post:facebook:2", title="Acked one")
    snoozed = one(any_store, subject="post:facebook:3", title="Snoozed one")
    dismissed = one(any_store, subject="post:facebook:4", title="Dismissed one")
    acknowledge(any_store, acked, by="on-call", note="phoned them", now=NOW)
    snooze(any_store, snoozed, until=NOW + timedelta(days=1), by="comms", note=None, now=NOW)
    dismiss(any_store, dismissed, reason="false alarm", by="comms", until=None, now=NOW)

    digest = build_digest(cfg, any_store, NOW + timedelta(hours=1), since=NOW - timedelta(hours=1))
    assert [f.id for f in digest.new] == [todo, acked]
    assert digest.new_total == 2
    assert [(f.id, f.state) for f in digest.quiet] == [(snoozed, "snoozed"), (dismissed, "dismissed")]
    assert digest.quiet_total == 2
    assert digest.new[0].page == f"https://socialmon.example.ac.uk/findings/{todo}"

    text = render_digest(digest, "text")
    quiet_part = text.split("DISMISSED AND SNOOZED (NOT IN THE TO-DO) (2)")[1].split("ACCOUNTS")[0]
    assert "Snoozed one" in quiet_part and "Snoozed until Thu 06 Mar 2025 12:00 GMT by comms" in quiet_part
    assert "Dismissed by comms (false alarm)" in quiet_part
    assert "Acknowledged by on-call: phoned them" in text
    assert f"Acknowledge, snooze or dismiss: https://socialmon.example.ac.uk/findings/{todo}" in text
    html = render_digest(digest, "html")
    assert "Dismissed and snoozed (not in the to-do) (2)" in html
    assert f'href="https://socialmon.example.ac.uk/findings/{dismissed}"' in html
    items = summary_payload(digest)["items"]
    assert any(i.startswith("Dismissed by comms (false alarm): Dismissed one") for i in items)

    # The snooze ends before the next digest: back in the to-do, out of the quiet section.
    later = build_digest(cfg, any_store, NOW + timedelta(days=2), since=NOW - timedelta(hours=1))
    assert snoozed in [f.id for f in later.new] and [f.id for f in later.quiet] == [dismissed]


def test_digest_without_web_has_no_links_and_no_quiet_section_when_none(store) -> None:
    one(store)
    digest = build_digest(config(), store, NOW + timedelta(hours=1), since=NOW - timedelta(hours=1))
    text = render_digest(digest, "text")
    assert "DISMISSED AND SNOOZED" not in text and "/findings/" not in text
    assert "/findings/" not in render_digest(digest, "html")


def test_a_digest_stored_before_triage_existed_still_renders(store) -> None:
    """Outbox rows carry the digest's data: one queued by an older socialmon lacks the new keys."""
    from monitor.digest import render_digest_data

    one(store)
    data = build_digest(config(), store, NOW + timedelta(hours=1), since=NOW - timedelta(hours=1)).to_dict()
    del data["quiet"], data["quiet_total"]
    for line in data["new"]:
        for key in ("state", "state_by", "state_note", "state_until", "page"):
            del line[key]
    assert "A finding" in render_digest_data(data, "text")
    assert "A finding" in render_digest_data(data, "html")


def test_a_delivered_alert_carries_the_finding_link_by_email_and_teams(store, tmp_path) -> None:
    from alerts_support import email_channel, teams_channel

    from monitor.outbox import send_due
    from monitor.receivers import SmtpSink, TeamsReceiver

    with SmtpSink(tmp_path / "mail") as sink, TeamsReceiver(tmp_path / "teams") as teams:
        cfg = make_config(
            {"mail": email_channel(sink.port), "teams": teams_channel(teams.url)},
            {"emergency": "{channels: [mail, teams]}"},
            WEB,
        )
        fid = one(store)
        route_findings(cfg, store, NOW)
        assert send_due(cfg, store, NOW).delivered == 2
    page = f"https://socialmon.example.ac.uk/findings/{fid}"
    [mail] = sink.messages
    assert f"Acknowledge, snooze or dismiss: {page}" in mail.get_body(("plain",)).get_content()
    card = teams.messages[0]["attachments"][0]["content"]
    assert {"type": "Action.OpenUrl", "title": "Acknowledge or snooze", "url": page} in card["actions"]


def test_migration_gives_existing_findings_state_none_and_downgrades(any_store) -> None:
    from alembic import command
    from sqlalchemy import inspect, text

    from monitor.store import _alembic_config

    with any_store.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0001")
    assert "finding_events" not in inspect(any_store.engine).get_table_names()
    with any_store.engine.begin() as conn:
        conn.execute(
            text(
                'INSERT INTO findings (fingerprint, "check", account_id, subject, severity, status, title,'
                " detail, policy_section, url, immediate, since, opened_at, last_seen_at)"
                " VALUES ('fp', 'cadence', 'central', 'account', 'warning', 'open', 't', 'd', 'p', '', false,"
                " :at, :at, :at)"
            ),
            {"at": NOW.replace(tzinfo=None)},
        )
    any_store.upgrade()
    [view] = list_findings(any_store, now=NOW)
    assert (view.state, view.by, view.until) == ("none", None, None)
    acknowledge(any_store, view.id, by="comms", note=None, now=NOW)


def test_a_finding_resolved_while_snoozed_keeps_its_state_and_no_late_resolution_goes(any_store) -> None:
    cfg = config()
    fid = one(any_store)
    assert route_findings(cfg, any_store, NOW) == 1
    snooze(any_store, fid, until=NOW + timedelta(hours=2), by="comms", note=None, now=NOW)
    with any_store.session() as session:
        row = session.get(FindingRow, fid)
        row.status, row.resolved_at, row.resolve_reason = "resolved", NOW + timedelta(hours=1), "gone"
    assert route_findings(cfg, any_store, NOW + timedelta(hours=3)) == 0
    view = get_finding(any_store, fid, now=NOW + timedelta(hours=3))
    assert (view.status, view.state) == ("resolved", "snoozed")
    assert [a for a, _, _ in events(any_store, fid)] == ["snoozed"]
