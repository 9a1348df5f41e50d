"""The monthly parity report to the `reports` route (`policy.language_report: monthly`).

On the first day of each month at REPORT_AT local time, the previous calendar month's report is queued
on every channel of the `reports` route, in each channel's language: e-mail carries the whole HTML
report, Teams a summary card. Like the digest, the due time is a `schedule_state` row
("report:language") advanced with a conditional UPDATE in the transaction that queues the report, so
a report missed while the service was down is queued once on start, never twice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from monitor.config import Config
from monitor.db import ScheduleStateRow
from monitor.logs import get_logger

REPORTS_ROUTE = "reports"
STATE = "report:language"
REPORT_AT = time(8, 0)  # local time on the first of the month

log = get_logger(component="report")


def report_enabled(config: Config) -> bool:
    return config.policy.language_report == "monthly" and REPORTS_ROUTE in config.alerts.routes


def next_report_time(config: Config, after: datetime) -> datetime:
    """The first "1st of a month, REPORT_AT local" strictly after `after`."""
    local = after.astimezone(config.tz)
    year, month = local.year, local.month
    for _ in range(3):
        candidate = datetime.combine(date(year, month, 1), REPORT_AT, tzinfo=config.tz).astimezone(UTC)
        if candidate > after:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise AssertionError("unreachable: a month starts within three months")


def previous_month(due: datetime, config: Config) -> tuple[date, date]:
    """The calendar month before the (local) day `due` falls on."""
    first = due.astimezone(config.tz).date().replace(day=1)
    last = first - timedelta(days=1)
    return last.replace(day=1), last


def send_language_report_if_due(config: Config, store: Any, now: datetime) -> bool:
    """Queue the monthly report when due; True if it was queued (the outbox sends it)."""
    if not report_enabled(config):
        return False
    with store.session() as session:
        state = session.get(ScheduleStateRow, STATE)
        if state is None or state.next_due_at is None:  # first start: schedule, send nothing yet
            _schedule(session, next_report_time(config, now))
            return False
        due = state.next_due_at if state.next_due_at.tzinfo else state.next_due_at.replace(tzinfo=UTC)
        if due > now:
            return False
        claimed = session.execute(
            update(ScheduleStateRow)
            .where(ScheduleStateRow.name == STATE, ScheduleStateRow.next_due_at == state.next_due_at)
            .values(next_due_at=next_report_time(config, now), last_done_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:  # another instance queued it
            return False
        start, end = previous_month(due, config)
        ids = enqueue_language_report(
            session, config, store, start, end, now, f"report:language:{start:%Y-%m}"
        )
    log.info("language_report_queued", month=f"{start:%Y-%m}", rows=len(ids))
    return True


def enqueue_language_report(
    session: Session, config: Config, store: Any, start: date, end: date, now: datetime, dedup_key: str
) -> list[int]:
    from monitor.i18n import month_name, translator
    from monitor.report import build_language_report
    from monitor.report_output import to_html
    from monitor.routing import enqueue_alert

    report = build_language_report(config, store, start, end, now=now)
    overall = report.overall()

    def localize(locale: str) -> dict[str, Any]:
        t = translator(locale)
        title = t.gettext(
            "Welsh language parity report, %(month)s", month=month_name(start.year, start.month, locale)
        )
        facts = [
            (t.gettext("Welsh posts"), str(overall.posts.get("cy", 0))),
            (t.gettext("English posts"), str(overall.posts.get("en", 0))),
            (t.gettext("Bilingual posts"), str(overall.posts.get("cy+en", 0))),
            (t.gettext("Counterpart rate"), _pct(overall.counterpart_rate)),
            (t.gettext("Welsh enquiries"), str(overall.enquiries["cy"].count)),
            (
                t.gettext("Parity ratio"),
                "-" if overall.parity_ratio is None else f"{overall.parity_ratio:.2f}",
            ),
        ]
        return {
            "subject": title,
            "title": title,
            "text": t.gettext(
                "The Welsh language parity report for %(month)s: the full report is in the e-mail version.",
                month=month_name(start.year, start.month, locale),
            ),
            "facts": facts,
            "report_html": to_html(report, locale),
        }

    english = localize("en")
    return enqueue_alert(
        session,
        config,
        REPORTS_ROUTE,
        "report",
        "info",
        english["subject"],
        english["text"],
        now=now,
        title=english["title"],
        facts=english["facts"],
        kind="report",
        dedup_key=dedup_key,
        localize=localize,
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{round(value * 100)}%"


def _schedule(session: Session, due: datetime) -> None:
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(ScheduleStateRow)
    session.execute(
        insert.values(name=STATE, next_due_at=due, last_done_at=None).on_conflict_do_update(
            index_elements=["name"], set_={"next_due_at": due}
        )
    )
