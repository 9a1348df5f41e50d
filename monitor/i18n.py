"""Output in Welsh, English or both (Welsh first): gettext catalogues and Babel date formats.

Messages are English msgids in the code and templates; the Welsh catalogue is
`monitor/locale/cy/LC_MESSAGES/socialmon.po` (Babel: `pybabel extract -F babel.cfg`, `update`,
`compile`; the compiled `.mo` ships in the package). A *language* setting is `cy`, `en` or `cy+en`;
`locales("cy+en")` is `["cy", "en"]`: a bilingual text is the Welsh version, then the English one.

Dates go through Babel's `cy` and `en_GB` locale data: `long_time` gives "dydd Llun 30 Tachwedd
2026, 09:30" and "Monday 30 November 2026, 09:30"; `local_time` the short form alerts use.
"""

from __future__ import annotations

import gettext as _gettext
from datetime import UTC, datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any, Literal

from babel.dates import format_datetime

Language = Literal["cy", "en", "cy+en"]
LANGUAGES: tuple[str, ...] = ("cy", "en", "cy+en")
LOCALES: tuple[str, ...] = ("cy", "en")
DOMAIN = "socialmon"
LOCALE_DIR = Path(__file__).parent / "locale"
# Babel locale data per output locale: British English spelling and date order.
BABEL_LOCALE = {"cy": "cy", "en": "en_GB"}
BILINGUAL_JOIN = " / "  # between the Welsh and English halves of a short text (subjects, titles)


def locales(language: str) -> list[str]:
    """The locales a language setting writes, Welsh first: "cy+en" -> ["cy", "en"]."""
    if language == "cy+en":
        return ["cy", "en"]
    if language in LOCALES:
        return [language]
    raise ValueError(f"unknown language {language!r} (cy, en or cy+en)")


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    """The catalogue for `locale`; English is the msgids themselves."""
    if locale == "en":
        return _gettext.NullTranslations()
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r} (cy or en)")
    return _gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[locale])


class Translator:
    """gettext for one locale, with %-style named parameters: `t.gettext("%(n)s posts", n=3)`."""

    def __init__(self, locale: str):
        self.locale = locale
        self._t = translations(locale)

    def gettext(self, message: str, **params: Any) -> str:
        text = self._t.gettext(message)
        return text % params if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: Any) -> str:
        text = self._t.ngettext(singular, plural, n)
        return text % {"num": n, **params}

    def known(self, message: str) -> str:
        """A text that may be a msgid (a check's title, a policy quote) in this locale, else as is."""
        return self._t.gettext(message) if message else message

    def local_time(self, value: datetime | None, tz: tzinfo) -> str:
        return local_time(value, tz, self.locale)

    def long_time(self, value: datetime, tz: tzinfo) -> str:
        return long_time(value, tz, self.locale)


@cache
def translator(locale: str) -> Translator:
    return Translator(locale)


def N_(message: str) -> str:
    """Mark a msgid for extraction where it is defined; translate it where it is shown."""
    return message


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def local_time(value: datetime | None, tz: tzinfo, locale: str = "en") -> str:
    """A time as people read it in alerts, notices, the digest and the dashboard:
    "Tue 24 Nov 2026 13:59 GMT" / "13:59 GMT, Maw 24 Tach 2026" (the zone abbreviation, GMT or
    BST, is the same in both). Welsh puts the time first: the texts say "am %(when)s",
    "tan %(until)s", "o %(start)s", and a day name there would have to mutate ("am Fawrth",
    "tan Lun"), which a filled-in placeholder cannot; digits never mutate."""
    if value is None:
        return "-"
    local = _aware(value).astimezone(tz)
    zone = local.strftime("%Z")
    if locale == "cy":
        day = format_datetime(local, "EEE d MMM y", tzinfo=tz, locale=BABEL_LOCALE[locale])
        return f"{local:%H:%M} {zone}, {day}"
    text = format_datetime(local, "EEE dd MMM y HH:mm", tzinfo=tz, locale=BABEL_LOCALE[locale])
    return f"{text} {zone}"


def long_time(value: datetime, tz: tzinfo, locale: str = "en") -> str:
    """ "dydd Llun 30 Tachwedd 2026, 09:30" / "Monday 30 November 2026, 09:30"."""
    local = _aware(value).astimezone(tz)
    text = format_datetime(local, "EEEE d MMMM y, HH:mm", tzinfo=tz, locale=BABEL_LOCALE[locale])
    return _lower_dydd(text) if locale == "cy" else text


def long_date(value: datetime, tz: tzinfo, locale: str = "en") -> str:
    """ "dydd Llun 30 Tachwedd 2026" / "Monday 30 November 2026"."""
    local = _aware(value).astimezone(tz)
    text = format_datetime(local, "EEEE d MMMM y", tzinfo=tz, locale=BABEL_LOCALE[locale])
    return _lower_dydd(text) if locale == "cy" else text


def month_name(year: int, month: int, locale: str = "en") -> str:
    """ "Tachwedd 2026" / "November 2026"."""
    from babel.dates import format_date

    return format_date(datetime(year, month, 1), "LLLL y", locale=BABEL_LOCALE[locale])


def _lower_dydd(text: str) -> str:
    # Babel's data capitalises the day name ("Dydd Llun"); in running Welsh text "dydd" is lower case.
    return "d" + text[1:] if text.startswith("Dydd ") else text


def channel_language(config: Any, channel: str) -> str:
    """A channel's output language: its own `language`, else the top-level `locale`."""
    settings = config.alerts.channels.get(channel)
    own = getattr(settings, "language", None) if settings is not None else None
    return str(own or getattr(config, "locale", "en") or "en")


def bilingual(parts: list[str], limit: int = 200) -> str:
    """Short texts of each version joined Welsh first ("Crynodeb ... / Digest ..."), duplicates once."""
    unique: list[str] = []
    for part in parts:
        if part and part not in unique:
            unique.append(part)
    text = BILINGUAL_JOIN.join(unique)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
