"""Translations for the dashboard: every text goes through gettext from the start.

The dashboard shares socialmon's gettext catalogue (`monitor/locale/<lang>/LC_MESSAGES/
socialmon.mo`, docs/WELSH.md): one glossary, one catalogue, one test that it is complete.
`translations_for` is the one place it is picked up; without one (a test's empty directory) every
language reads the English source text. The language is a per-user choice kept
in the session: `cy`, `en` or `cy+en` (both, Welsh first, as the Welsh Language Standards ask of
bilingual text); its default is the config's `locale` when there is one, else `en`.
"""

from __future__ import annotations

import gettext
from functools import cache
from importlib import resources
from typing import Any

from flask import g

LANGUAGES = ("cy", "en", "cy+en")
LANGUAGE_NAMES = {"cy": "Cymraeg", "en": "English", "cy+en": "Cymraeg + English"}
DEFAULT_LANGUAGE = "en"
DOMAIN = "socialmon"  # monitor.i18n.DOMAIN


def catalogue_dir() -> str:
    return str(resources.files("monitor") / "locale")


@cache
def translations_for(lang: str) -> gettext.NullTranslations:
    """The catalogue for one language (`cy` or `en`); null translations when there is none."""
    try:
        return gettext.translation(DOMAIN, localedir=catalogue_dir(), languages=[lang])
    except OSError:  # no catalogue yet: the source text
        return gettext.NullTranslations()


def has_catalogue(lang: str) -> bool:
    return type(translations_for(lang)) is not gettext.NullTranslations


class Bilingual(gettext.NullTranslations):
    """`cy+en`: Welsh then English, once when the two read the same (no catalogue yet)."""

    def __init__(self, welsh: gettext.NullTranslations, english: gettext.NullTranslations):
        super().__init__()
        self.welsh, self.english = welsh, english

    def gettext(self, message: str) -> str:
        cy, en = self.welsh.gettext(message), self.english.gettext(message)
        return cy if cy == en else f"{cy} / {en}"

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        cy, en = self.welsh.ngettext(msgid1, msgid2, n), self.english.ngettext(msgid1, msgid2, n)
        return cy if cy == en else f"{cy} / {en}"


def translations(lang: str) -> gettext.NullTranslations:
    if lang == "cy+en":
        return Bilingual(translations_for("cy"), translations_for("en"))
    return translations_for(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


def html_lang(lang: str) -> str:
    """The page's `lang` attribute: the language its text is really in."""
    if lang == "cy" and has_catalogue("cy"):
        return "cy"
    if lang == "cy+en" and has_catalogue("cy"):
        return "cy"
    return "en"


def default_language(config: Any) -> str:
    locale = getattr(config, "locale", None)
    if isinstance(locale, str) and locale in LANGUAGES:
        return locale
    return DEFAULT_LANGUAGE


def _current() -> gettext.NullTranslations:
    try:
        found: gettext.NullTranslations | None = g.get("translations")
    except RuntimeError:  # outside a request (a CLI message, a test)
        found = None
    return found if found is not None else translations(DEFAULT_LANGUAGE)


def gettext_(message: str, **variables: Any) -> str:
    """`_()` for Python code and templates: the current request's language, then %(name)s."""
    text = _current().gettext(message)
    return text % variables if variables else text


def ngettext_(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = _current().ngettext(singular, plural, n)
    return text % {"num": n, **variables}


_ = gettext_
