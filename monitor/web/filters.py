"""Template filters: times as people read them, in the configured time zone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from jinja2 import Environment
from markupsafe import Markup, escape

if TYPE_CHECKING:
    from monitor.i18n import Translator


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


def _date_locale() -> str:
    """Dates through Babel's `cy` locale on a Welsh or bilingual page ("Llun 30 Tach 2026"), else en_GB."""
    from monitor.web.i18n import current_language

    return "cy" if current_language() in ("cy", "cy+en") else "en"


def when(value: datetime | None) -> str:
    from monitor.i18n import local_time

    return local_time(value, _tz(), _date_locale()) if value else "-"


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


# --- finding texts ---------------------------------------------------------------------------------
# A finding row keeps its check's English title, detail, policy quote and resolution reason; the
# page shows them in its language the way the digest does (monitor/texts.py), both on a cy+en page.


def _page_locales() -> list[str]:
    from monitor.web.i18n import current_language

    lang = current_language()
    return ["cy", "en"] if lang == "cy+en" else ["cy"] if lang == "cy" else ["en"]


def _inline(render: Callable[[Translator], str]) -> Markup:
    from monitor.i18n import translator
    from monitor.web.i18n import Both

    texts = [render(translator(locale)) for locale in _page_locales()]
    return Both(*texts) if len(texts) == 2 else Markup(escape(texts[0]))


def _paragraphs(render: Callable[[Translator], str]) -> Markup:
    """One paragraph per language of the page; the English one marked on a bilingual page."""
    from monitor.i18n import translator

    locales = _page_locales()
    texts = {locale: render(translator(locale)) for locale in locales}
    if len(locales) == 1 or texts["cy"] == texts["en"]:
        return Markup("<p>{}</p>").format(texts[locales[0]])
    return Markup('<p>{}</p><p lang="en">{}</p>').format(texts["cy"], texts["en"])


def finding_title(f: Any) -> Markup:
    return _inline(lambda t: t.known(f.title) if f.title else f.subject)


def finding_detail(f: Any) -> Markup:
    from monitor.texts import translate_detail

    if not f.detail:
        return Markup("<p>{}</p>").format(finding_title(f))
    return _paragraphs(lambda t: translate_detail(f.check, f.detail, t, f.title))


def policy_text(f: Any) -> Markup:
    return _paragraphs(lambda t: t.known(f.policy_section))


def resolve_reason(f: Any) -> Markup:
    from monitor.texts import translate_reason

    return _inline(lambda t: translate_reason(f.resolve_reason or "", t))


def poll_status(value: str | None) -> str:
    """A poll's outcome (monitor.seams.PollStatus); English shows the code, as `socialmon status` does."""
    from flask import g

    from monitor.web.i18n import _

    names: dict[str, str] | None = g.get("poll_status_names")  # once per request, like severities
    if names is not None:
        return names.get(value or "", value or "")
    names = {"ok": _("ok"), "warning": _("warning"), "error": _("error"), "auth_expired": _("auth_expired"),
             "permission_missing": _("permission_missing"), "rate_limited": _("rate_limited"),
             "transient": _("transient"), "bad_payload": _("bad_payload"), "rejected": _("rejected"),
             "store_failed": _("store_failed")}  # fmt: skip
    g.poll_status_names = names
    return names.get(value or "", value or "")


def install(env: Environment) -> None:
    from monitor.web.i18n import template_gettext, template_ngettext

    env.globals.update(gettext=template_gettext, ngettext=template_ngettext)
    env.filters.update(when=when, iso=iso, local_input=local_input, span=span, web_link=web_link)
    env.globals.update(
        time=time_tag,
        severity=severity_tag,
        open_findings_cell=open_findings_cell,
        balance_cell=balance_cell,
        finding_title=finding_title,
        finding_detail=finding_detail,
        policy_text=policy_text,
        resolve_reason=resolve_reason,
        poll_status=poll_status,
    )
