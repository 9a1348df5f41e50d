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
from jinja2 import pass_context
from markupsafe import Markup, escape

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


class Both(Markup):
    """A `cy+en` text: Welsh, then the English marked `lang="en"` so that a screen reader switches
    voice (the page itself is `lang="cy"`); once when the two read the same. It keeps its halves, so
    that filling in a placeholder with another `Both` ("Signed in as %(name)s (%(role)s)") puts the
    Welsh value in the Welsh half and the English one in the English half. In an attribute, a
    <title> or an <option>, where no element may stand, templates pass it through `striptags`."""

    welsh: Markup
    english: Markup

    def __new__(cls, welsh: Any = "", english: Any = None) -> Any:
        if english is None:  # Markup's own methods build `self.__class__(text)`: a plain Markup then
            return Markup(welsh)
        welsh, english = Markup(escape(welsh)), Markup(escape(english))
        html = welsh if welsh == english else Markup('{} / <span lang="en">{}</span>').format(welsh, english)
        made = super().__new__(cls, html)
        made.welsh, made.english = welsh, english
        return made

    def __mod__(self, values: Any) -> Both:
        if not isinstance(values, dict):
            return Both(self.welsh % values, self.english % values)
        welsh = {k: v.welsh if isinstance(v, Both) else v for k, v in values.items()}
        english = {k: v.english if isinstance(v, Both) else v for k, v in values.items()}
        return Both(self.welsh % welsh, self.english % english)


def both(welsh: str, english: str) -> Both:
    return Both(welsh, english)


class Bilingual(gettext.NullTranslations):
    """`cy+en`: Welsh then English (see `both`), once when the two read the same (no catalogue yet)."""

    def __init__(self, welsh: gettext.NullTranslations, english: gettext.NullTranslations):
        super().__init__()
        self.welsh, self.english = welsh, english

    def gettext(self, message: str) -> str:
        return Both(self.welsh.gettext(message), self.english.gettext(message))

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return Both(self.welsh.ngettext(msgid1, msgid2, n), self.english.ngettext(msgid1, msgid2, n))


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


def current_language() -> str:
    """The request's language: as the app's before-request step set it, else (a page refused before
    that step ran, such as an expired form's) the session's choice or the config's default."""
    from flask import current_app, has_request_context, session

    if not has_request_context():
        return DEFAULT_LANGUAGE
    lang: str | None = g.get("lang")
    if lang is None:
        chosen = session.get("lang")
        config = current_app.extensions["socialmon"].config
        lang = chosen if chosen in LANGUAGES else default_language(config)
    return lang


def _current() -> gettext.NullTranslations:
    try:
        found: gettext.NullTranslations | None = g.get("translations")
    except RuntimeError:  # outside a request (a CLI message, a test)
        return translations(DEFAULT_LANGUAGE)
    return found if found is not None else translations(current_language())


def gettext_(message: str, **variables: Any) -> str:
    """`_()` for Python code and templates: the current request's language, then %(name)s."""
    text = _current().gettext(message)
    return text % variables if variables else text


def ngettext_(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = _current().ngettext(singular, plural, n)
    return text % {"num": n, **variables}


_ = gettext_


# Jinja2's newstyle gettext, as `jinja2.ext.i18n` installs it, but keeping a `Both` whole (its own
# `Markup(rv)` would flatten one, and a bilingual placeholder would then be said twice in each half).


@pass_context
def template_gettext(context: Any, message: str, **variables: Any) -> str:
    text = _current().gettext(message)
    if context.eval_ctx.autoescape and not isinstance(text, Both):
        text = Markup(text)
    return text % variables


@pass_context
def template_ngettext(context: Any, singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    text = _current().ngettext(singular, plural, num)
    if context.eval_ctx.autoescape and not isinstance(text, Both):
        text = Markup(text)
    return text % variables
