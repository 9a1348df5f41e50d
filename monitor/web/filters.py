"""Template filters: times as people read them, in the configured time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from jinja2 import Environment
from markupsafe import Markup, escape


def _tz() -> Any:
    from flask import g

    from monitor.web.app import context

    try:
        tz = g.get("tz")
        if tz is None:
            tz = g.tz = context().config.tz
        return tz
    except RuntimeError:  # outside a request
        return context().config.tz


def when(value: datetime | None) -> str:
    from monitor.notifiers.text import local_time

    return local_time(value, _tz()) if value else "-"


def iso(value: datetime | None) -> str:
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.isoformat(timespec="seconds")


def local_input(value: datetime | None) -> str:
    """A value for <input type="datetime-local">, in the configured zone."""
    if value is None:
        return ""
    return value.astimezone(_tz()).strftime("%Y-%m-%dT%H:%M")


def span(value: timedelta | None) -> str:
    from monitor.web.i18n import _

    if value is None:
        return "-"
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return _("%(n)d min", n=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)d h %(m)d min", h=hours, m=minutes)
    return _("%(d)d days", d=hours // 24)


def web_link(value: str | None) -> str:
    """Only http(s) links reach an href (a platform's text could hold `javascript:`)."""
    from urllib.parse import urlsplit

    text = (value or "").strip()
    return text if urlsplit(text).scheme in {"http", "https"} else ""


# Page helpers as Python functions, not Jinja macros: the overview calls them thousands of times.
# Each label is a literal `_()` call so that Babel extracts it.


def time_tag(value: datetime | None) -> Markup:
    if value is None:
        return Markup("–")
    return Markup(f'<time datetime="{iso(value)}">{escape(when(value))}</time>')


def _severity_names() -> dict[str, str]:
    """Translated once per request (the overview shows hundreds of badges)."""
    from flask import g

    from monitor.web.i18n import _

    names: dict[str, str] | None = g.get("severity_names")
    if names is None:
        names = {"critical": _("critical"), "high": _("high"), "warning": _("warning"), "low": _("low"),
                 "info": _("info")}  # fmt: skip
        g.severity_names = names
    return names


def severity_tag(severity: str) -> Markup:
    name = _severity_names().get(severity, severity)
    return Markup(f'<span class="sev sev-{escape(severity)}">{escape(name)}</span>')


def open_findings_cell(summary: Any, findings_url: str) -> Markup:
    """The overview's open-findings cell: badges and counts, linked to that account's findings."""
    from monitor.web.i18n import _
    from monitor.web.queries import SEVERITIES

    if not summary.open_total:
        return Markup(escape(_("none")))
    parts = [
        f"{severity_tag(sev)} {summary.open_by_severity[sev]}"
        for sev in SEVERITIES
        if summary.open_by_severity.get(sev)
    ]
    href = f"{findings_url}?status=open&amp;account={escape(summary.account.id)}"
    return Markup(f'<a href="{href}" class="sevs">{", ".join(parts)}</a>')


def balance_cell(summary: Any) -> Markup:
    """The overview's Welsh-this-week cell: the share, then the counts."""
    from monitor.web.i18n import _

    share = summary.welsh_share
    if share is None:
        return Markup(escape(_("no posts")))
    counts = _(
        "cy %(cy)d, en %(en)d, both %(both)d",
        cy=summary.balance.get("cy", 0),
        en=summary.balance.get("en", 0),
        both=summary.balance.get("cy+en", 0),
    )
    return Markup(f'{share}% <span class="quiet">({escape(counts)})</span>')


def install(env: Environment) -> None:
    env.filters.update(when=when, iso=iso, local_input=local_input, span=span, web_link=web_link)
    env.globals.update(
        time=time_tag, severity=severity_tag, open_findings_cell=open_findings_cell, balance_cell=balance_cell
    )
