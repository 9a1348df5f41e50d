"""Emergency mode: the declared state (table `emergencies`) and the notices the daemon sends about it.

The state lives in the database so that `socialmon emergency start` works from any shell on the
host while the daemon runs; the daemon's watcher notices the change within
`service.emergency_check_interval`. Notices are claimed with conditional UPDATEs on the row
(`taken_up_at`, `summary_sent_at`), in the same transaction as the outbox row they write, so a
notice is written exactly once even when two instances or a restart see the same change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from monitor.clock import utcnow
from monitor.config import Config
from monitor.credentials import cannot_see
from monitor.db import AlertRow, EmergencyRow, FindingRow, ScheduledPostRow
from monitor.i18n import Translator, translator
from monitor.logs import get_logger
from monitor.routing import enqueue_alert
from monitor.seams import EnqueueAlert
from monitor.store import Store, rows_changed
from monitor.texts import translate_reason

EMERGENCY_ROUTE = "emergency"
OPERATIONS_ROUTE = "operations"
EMERGENCY_CHECK = "emergency-posting"

# Writes one outbox row per channel of the route: monitor.routing.enqueue_alert.
Enqueue = EnqueueAlert


def _default_enqueue() -> Enqueue:
    return enqueue_alert


log = get_logger(component="emergency")


class EmergencyError(Exception):
    """An emergency command that cannot be done as asked (one line, for the operator)."""


def _now(now: datetime | None) -> datetime:
    now = now or utcnow()
    if now.tzinfo is None:
        raise ValueError("naive datetime")
    return now


# --- the state ------------------------------------------------------------------------------------


def active_emergency(session: Session) -> EmergencyRow | None:
    """The declared emergency that has not ended (the earliest, should two ever be open)."""
    stmt = select(EmergencyRow).where(EmergencyRow.ended_at.is_(None)).order_by(EmergencyRow.id).limit(1)
    return session.scalars(stmt).first()


def latest_emergency(session: Session) -> EmergencyRow | None:
    return session.scalars(select(EmergencyRow).order_by(EmergencyRow.id.desc()).limit(1)).first()


def start_emergency(store: Store, reason: str, by: str, now: datetime | None = None) -> EmergencyRow:
    """Declare an emergency; refuses when one is already active."""
    now = _now(now)
    reason = reason.strip()
    if not reason:
        raise EmergencyError("an emergency needs a reason (--reason TEXT)")
    with store.session() as session:
        current = active_emergency(session)
        if current is not None:
            raise EmergencyError(
                f"an emergency is already active since {current.started_at:%Y-%m-%d %H:%M:%S} UTC "
                f"(reason: {current.reason}); stop it first"
            )
        row = EmergencyRow(started_at=now, started_by=by[:128], reason=reason)
        session.add(row)
        session.flush()
    log.warning("emergency declared", emergency_id=row.id, by=by)
    return row


def stop_emergency(store: Store, by: str, now: datetime | None = None) -> EmergencyRow | None:
    """End the active emergency; returns it, or None when none was active."""
    now = _now(now)
    with store.session() as session:
        rows = list(session.scalars(select(EmergencyRow).where(EmergencyRow.ended_at.is_(None))))
        for row in rows:
            row.ended_at = now
            row.ended_by = by[:128]
    if rows:
        log.warning("emergency ended", emergency_id=rows[0].id, by=by)
    return rows[0] if rows else None


# --- what the daemon says about it ---------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    kind: Literal["started", "stopped"]
    emergency_id: int


def pending_changes(session: Session) -> list[Change]:
    """Emergencies whose start has not been taken up, or whose end has no summary yet."""
    changes: list[Change] = []
    for row in session.scalars(
        select(EmergencyRow).where(EmergencyRow.taken_up_at.is_(None)).order_by(EmergencyRow.id)
    ):
        changes.append(Change("started", row.id))
    stmt = select(EmergencyRow).where(
        EmergencyRow.ended_at.is_not(None), EmergencyRow.summary_sent_at.is_(None)
    )
    for row in session.scalars(stmt.order_by(EmergencyRow.id)):
        changes.append(Change("stopped", row.id))
    return changes


def take_up(
    store: Store,
    config: Config,
    emergency_id: int,
    enqueue: Enqueue | None = None,
    now: datetime | None = None,
    extra: str = "",
) -> bool:
    """Mark the emergency taken up and write the "monitoring is on" notice; True if this call did it."""
    now = _now(now)
    with store.session() as session:
        claimed = rows_changed(
            session.execute(
                update(EmergencyRow)
                .where(EmergencyRow.id == emergency_id, EmergencyRow.taken_up_at.is_(None))
                .values(taken_up_at=now)
            )
        )
        if claimed != 1:
            return False
        row = session.get(EmergencyRow, emergency_id)
        assert row is not None
        if row.ended_at is None:  # started and stopped before we looked: only the summary matters
            subject, body = start_notice(session, config, row, extra)
            (enqueue or _default_enqueue())(
                session,
                config,
                EMERGENCY_ROUTE,
                "emergency",
                "critical",
                subject,
                body,
                now=now,
                dedup_key=f"emergency:{emergency_id}:start",
                localize=lambda locale: _notice_texts(*start_notice(session, config, row, extra, locale)),
            )
    log.warning("emergency taken up", emergency_id=emergency_id)
    return True


def send_summary(
    store: Store,
    config: Config,
    emergency_id: int,
    enqueue: Enqueue | None = None,
    now: datetime | None = None,
) -> bool:
    """Write the end-of-emergency summary once; True if this call did it."""
    now = _now(now)
    with store.session() as session:
        claimed = rows_changed(
            session.execute(
                update(EmergencyRow)
                .where(
                    EmergencyRow.id == emergency_id,
                    EmergencyRow.ended_at.is_not(None),
                    EmergencyRow.summary_sent_at.is_(None),
                )
                .values(summary_sent_at=now)
            )
        )
        if claimed != 1:
            return False
        row = session.get(EmergencyRow, emergency_id)
        assert row is not None
        subject, body = summary_notice(session, config, row)
        (enqueue or _default_enqueue())(
            session,
            config,
            EMERGENCY_ROUTE,
            "emergency",
            "info",
            subject,
            body,
            now=now,
            dedup_key=f"emergency:{emergency_id}:summary",
            localize=lambda locale: _notice_texts(*summary_notice(session, config, row, locale)),
        )
    log.warning("emergency summary written", emergency_id=emergency_id)
    return True


def non_central_ids(config: Config) -> list[str]:
    return [a.id for a in config.accounts if a.enabled and not a.is_central]


def queued_posts(session: Session, config: Config) -> list[ScheduledPostRow]:
    """Scheduled posts still queued on non-central accounts: on-call may want to pause them."""
    ids = non_central_ids(config)
    if not ids:
        return []
    stmt = (
        select(ScheduledPostRow)
        .where(ScheduledPostRow.account_id.in_(ids), ScheduledPostRow.gone_at.is_(None))
        .order_by(ScheduledPostRow.scheduled_for, ScheduledPostRow.id)
    )
    return list(session.scalars(stmt))


def _when(value: datetime | None, config: Config, t: Translator | None = None) -> str:
    t = t or translator("en")
    return t.local_time(value, config.tz) if value else t.gettext("unknown time")


def _excerpt(text: str, size: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


def _label(config: Config, account_id: str) -> str:
    try:
        return config.account(account_id).label()
    except KeyError:
        return account_id


def start_notice(
    session: Session, config: Config, row: EmergencyRow, extra: str = "", locale: str = "en"
) -> tuple[str, str]:
    """Subject and plain-text body of the "emergency monitoring is on" alert."""
    t = translator(locale)
    watched = non_central_ids(config)
    interval = int(config.policy.emergency_poll_interval.total_seconds())
    unknown = t.gettext("unknown")
    lines = [
        t.gettext(
            "Emergency declared at %(when)s by %(who)s.",
            when=_when(row.started_at, config, t),
            who=row.started_by or unknown,
        ),
        t.gettext("Reason: %(reason)s", reason=row.reason),
        "",
        t.ngettext(
            "socialmon is now watching %(num)s non-central account every %(interval)s s and will alert "
            "this route at once if it posts (a short redirect to a central account is allowed).",
            "socialmon is now watching %(num)s non-central accounts every %(interval)s s and will alert "
            "this route at once if any of them posts (a short redirect to a central account is allowed).",
            len(watched),
            interval=interval,
        ),
    ]
    queued = queued_posts(session, config)
    if queued:
        lines += [
            "",
            t.ngettext(
                "%(num)s scheduled post is queued on non-central accounts; consider pausing it:",
                "%(num)s scheduled posts are queued on non-central accounts; consider pausing them:",
                len(queued),
            ),
        ]
        for post in queued[:50]:
            due = t.gettext("due %(when)s", when=_when(post.scheduled_for, config, t))
            lines.append(
                f"- {_label(config, post.account_id)}: {due}: {_excerpt(post.text)} {post.url}".rstrip()
            )
        if len(queued) > 50:
            lines.append("- " + t.gettext("... and %(n)s more", n=len(queued) - 50))
    else:
        lines += ["", t.gettext("No scheduled posts are known to be queued on non-central accounts.")]
    lines += _cannot_see_lines(session, config, t)
    if extra:
        lines += ["", extra]
    lines += ["", t.gettext("End the emergency with: %(command)s", command="socialmon emergency stop")]
    subject = t.gettext("Emergency monitoring is on: %(reason)s", reason=_excerpt(row.reason, 80))
    return subject, "\n".join(lines)


def _summary_state(finding: FindingRow, t: Translator) -> str:
    """What the finding's lifecycle says, or will say once the checks see the end (they run right after
    this summary): every emergency-posting finding resolves when the emergency ends."""
    if finding.status == "open" or finding.resolve_reason == "the emergency ended":
        return t.gettext("resolved: the emergency ended")
    if finding.resolve_reason:
        return t.gettext("resolved: %(reason)s", reason=translate_reason(finding.resolve_reason, t))
    return t.gettext("resolved")


def _cannot_see_lines(session: Session, config: Config, t: Translator) -> list[str]:
    """The notice's "what socialmon cannot see" section (empty when it sees everything it watches)."""
    blind = cannot_see(session, config, non_central_ids(config), t)
    return ["", t.gettext("What socialmon cannot see:"), *(f"- {line}" for line in blind)] if blind else []


def _summary_finding_lines(config: Config, findings: list[FindingRow], t: Translator) -> list[str]:
    lines = []
    for finding in findings[:50]:
        state = _summary_state(finding, t)
        who, when = _label(config, finding.account_id), _when(finding.since, config, t)
        lines.append(
            "- "
            + t.gettext(
                "%(who)s at %(when)s: %(title)s (%(state)s)",
                who=who,
                when=when,
                title=t.known(finding.title),
                state=state,
            )
        )
    if len(findings) > 50:
        lines.append("- " + t.gettext("... and %(n)s more", n=len(findings) - 50))
    return lines


def summary_notice(
    session: Session, config: Config, row: EmergencyRow, locale: str = "en"
) -> tuple[str, str]:
    """Subject and body of the end-of-emergency summary: what was seen while it ran."""
    assert row.ended_at is not None
    t = translator(locale)
    unknown = t.gettext("unknown")
    findings = list(
        session.scalars(
            select(FindingRow)
            .where(
                FindingRow.check == EMERGENCY_CHECK,
                FindingRow.opened_at >= row.started_at,
                FindingRow.opened_at <= row.ended_at,
            )
            .order_by(FindingRow.opened_at)
        )
    )
    alerts_sent = session.scalar(
        select(func.count(AlertRow.id)).where(
            AlertRow.route == EMERGENCY_ROUTE,
            AlertRow.created_at >= row.started_at,
            AlertRow.created_at <= row.ended_at,
            AlertRow.delivered_at.is_not(None),
        )
    )
    # A queued scheduled post is a finding too, but it was not posted: count the two apart.
    queued = [f for f in findings if f.subject.startswith("scheduled:")]
    posted = [f for f in findings if not f.subject.startswith("scheduled:")]
    minutes = int((row.ended_at - row.started_at).total_seconds() // 60)
    lines = [
        t.gettext(
            "Emergency ended at %(when)s by %(who)s after %(hours)s h %(minutes)s min.",
            when=_when(row.ended_at, config, t),
            who=row.ended_by or unknown,
            hours=minutes // 60,
            minutes=minutes % 60,
        ),
        t.gettext(
            "Declared at %(when)s by %(who)s; reason: %(reason)s",
            when=_when(row.started_at, config, t),
            who=row.started_by or unknown,
            reason=row.reason,
        ),
        t.gettext("Taken up by the daemon at %(when)s.", when=_when(row.taken_up_at, config, t))
        if row.taken_up_at
        else "",
        "",
        t.gettext("Posts by non-central accounts during the emergency: %(n)s.", n=len(posted)),
    ]
    lines += _summary_finding_lines(config, posted, t)
    if queued:
        lines += [t.gettext("Scheduled posts found queued on non-central accounts: %(n)s.", n=len(queued))]
        lines += _summary_finding_lines(config, queued, t)
    lines += _cannot_see_lines(session, config, t)
    lines += [
        t.gettext("Alerts delivered on the emergency route while it ran: %(n)s.", n=alerts_sent or 0),
        "",
        t.gettext("Accounts are back on their normal polling intervals."),
    ]
    subject = t.gettext("Emergency over: %(n)s non-central post(s) seen", n=len(posted))
    if queued:
        subject += t.gettext(", %(n)s scheduled post(s) queued", n=len(queued))
    return subject, "\n".join(line for line in lines if line is not None)


def _notice_texts(subject: str, body: str) -> dict[str, object]:
    return {"subject": subject, "title": subject, "text": body}
