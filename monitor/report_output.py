"""The parity report as HTML (with inline SVG charts, printable, no external resources), CSV and JSON.

HTML and CSV are written in the chosen language (`cy`, `en`, or `cy+en`: Welsh first, then English);
JSON keys are a public interface and stay as documented in the README.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from html import escape
from typing import Any

from babel.dates import format_date

from monitor.i18n import BABEL_LOCALE, N_, bilingual, locales, translator
from monitor.report import Figures, LanguageReport


def render_report(report: LanguageReport, fmt: str, language: str = "en") -> str:
    if fmt == "json":
        return json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return to_csv(report, language)
    if fmt == "html":
        return to_html(report, language)
    raise ValueError(f"unknown report format {fmt!r} (html, csv or json)")


# --- CSV -----------------------------------------------------------------------------------------

CSV_COLUMNS: tuple[str, ...] = (
    N_("Scope"),
    N_("Account"),
    N_("Name"),
    N_("Unit"),
    N_("Welsh posts"),
    N_("English posts"),
    N_("Bilingual posts"),
    N_("Counterpart rate"),
    N_("Median delay to counterpart (min)"),
    N_("Thinner counterparts"),
    N_("Welsh enquiries"),
    N_("Welsh answered in time"),
    N_("Welsh answered in Welsh"),
    N_("Welsh median reply (working min)"),
    N_("English enquiries"),
    N_("English answered in time"),
    N_("English median reply (working min)"),
    N_("Parity ratio"),
)


def _csv_headers(language: str) -> list[str]:
    return [
        bilingual([translator(loc).known(column) for loc in locales(language)], 200) for column in CSV_COLUMNS
    ]


SCOPES = {"overall": N_("overall"), "unit": N_("unit"), "account": N_("account")}


def _scope(scope: str, language: str) -> str:
    return bilingual([translator(loc).known(SCOPES[scope]) for loc in locales(language)], 60)


def _csv_row(scope: str, account: str, name: str, unit: str, figures: Figures) -> list[Any]:
    data = figures.to_json(account or None)
    cy, en = data["enquiries"]["cy"], data["enquiries"]["en"]
    return [
        scope,
        account,
        name,
        unit,
        data["posts"]["cy"],
        data["posts"]["en"],
        data["posts"]["cy+en"],
        _blank(data["counterpart_rate"]),
        _blank(data["counterpart_median_minutes"]),
        data["counterparts_thinner"],
        cy["count"],
        cy["answered_in_sla"],
        cy["answered_in_welsh"],
        _blank(cy["median_reply_minutes"]),
        en["count"],
        en["answered_in_sla"],
        _blank(en["median_reply_minutes"]),
        _blank(data["parity_ratio"]),
    ]


def to_csv(report: LanguageReport, language: str = "en") -> str:
    """One row overall, one per unit, one per account (scope column: overall / unit / account)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_csv_headers(language))
    scope = {name: _scope(name, language) for name in SCOPES}
    writer.writerow(_csv_row(scope["overall"], "", "", "", report.overall()))
    for unit, figures in report.units().items():
        writer.writerow(_csv_row(scope["unit"], "", "", unit, figures))
    for entry in report.accounts:
        account = entry.account
        writer.writerow(_csv_row(scope["account"], account.id, account.name, account.unit, entry.figures))
    return buffer.getvalue()


def _blank(value: float | None) -> Any:
    return "" if value is None else value


# --- HTML ----------------------------------------------------------------------------------------


def to_html(report: LanguageReport, language: str = "en") -> str:
    from monitor.templates import join_html, render_html

    pages = [
        render_html("language_report.html.j2", locale, **_context(report, locale))
        for locale in locales(language)
    ]
    return join_html(pages)


def _context(report: LanguageReport, locale: str) -> dict[str, Any]:
    t = translator(locale)
    months = report.by_month()
    labels = [_month_label(month, locale) for month in months]
    overall = report.overall()
    return {
        "r": report,
        "period_from": _date(report.start, locale),
        "period_to": _date(report.end, locale),
        "generated": t.long_time(report.generated, _zone(report)),
        "overall": overall.to_json(None),
        "units": [(unit, figures.to_json(None)) for unit, figures in report.units().items()],
        "accounts": [(entry.account, entry.figures.to_json(entry.account.id)) for entry in report.accounts],
        "findings": report.findings(),
        "months": list(months),
        "month_labels": dict(zip(months, labels, strict=True)),
        "profiles": [e.account for e in report.accounts if e.profile_without_welsh],
        "parity_chart": svg_line_chart(
            labels,
            [figures.parity_ratio for figures in months.values()],
            title=t.gettext("Parity ratio by month (Welsh median reply time over English; 1 = equal)"),
            reference=1.0,
            percent=False,
        ),
        "counterpart_chart": svg_line_chart(
            labels,
            [figures.counterpart_rate for figures in months.values()],
            title=t.gettext("English posts with a Welsh counterpart, by month"),
            reference=None,
            percent=True,
        ),
        "pct": _pct,
        "num": _num,
    }


def _zone(report: LanguageReport) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(report.timezone)


def _date(value: date, locale: str) -> str:
    return format_date(value, "d MMMM y", locale=BABEL_LOCALE[locale])


def _month_label(month: str, locale: str) -> str:
    year, number = (int(p) for p in month.split("-"))
    return format_date(datetime(year, number, 1), "MMM y", locale=BABEL_LOCALE[locale])


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)}%"


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if digits else f"{round(value)}"


def svg_line_chart(
    labels: list[str],
    values: list[float | None],
    *,
    title: str,
    reference: float | None,
    percent: bool,
    width: int = 640,
    height: int = 220,
) -> str:
    """A static line chart as inline SVG (no script, no external resource): prints as it shows."""
    left, right, top, bottom = 48, 12, 28, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    known = [v for v in values if v is not None]
    top_value = 1.0 if percent else max([*known, reference or 0.0, 1.0]) * 1.15
    step = plot_w / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return left + (i * step if len(labels) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - (v / top_value) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="max-width:100%;height:auto;font-family:Arial,sans-serif;">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="16" font-size="13" font-weight="bold" fill="#222">{escape(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#bbb"/>',
    ]
    for fraction in (0.0, 0.5, 1.0):
        tick = top_value * fraction
        text = f"{round(tick * 100)}%" if percent else f"{tick:.1f}"
        parts.append(
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" font-size="11" text-anchor="end" fill="#555">'
            f"{text}</text>"
        )
    if reference is not None:
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(reference):.1f}" y2="{y(reference):.1f}" '
            'stroke="#b3261e" stroke-dasharray="4 3"/>'
        )
    every = max(1, len(labels) // 12)
    for i, label in enumerate(labels):
        if i % every == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - 14}" font-size="10" text-anchor="middle" fill="#555">'
                f"{escape(label)}</text>"
            )
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, value in enumerate(values):
        if value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(min(value, top_value)):.1f}")
        parts.append(f'<circle cx="{x(i):.1f}" cy="{y(min(value, top_value)):.1f}" r="3" fill="#0b5cad"/>')
    if segment:
        segments.append(segment)
    for points in segments:
        if len(points) > 1:
            parts.append(
                f'<polyline fill="none" stroke="#0b5cad" stroke-width="2" points="{" ".join(points)}"/>'
            )
    if not known:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" font-size="12" text-anchor="middle" '
            'fill="#777">–</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
