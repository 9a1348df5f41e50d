"""Jinja2 templates shipped with socialmon (alert e-mail and the daily digest, HTML and text).

Two environments per output locale: HTML templates autoescape everything (text from platforms can
hold markup); text templates do not escape, and their filters strip control characters and wrap long
lines. Fixed text goes through Jinja2's i18n extension (`_()`, `ngettext()`) and the gettext
catalogue of `monitor.i18n`; `lang` in every template is the locale it is rendered in.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from monitor.notifiers.text import break_long_words, clean, one_line, safe_link, truncate, wrap_plain


def _filters(env: Environment, locale: str) -> Environment:
    from monitor.i18n import translations

    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals["lang"] = locale
    env.filters.update(
        clean=clean,
        one_line=one_line,
        truncate_text=truncate,
        breakable=break_long_words,
        wrap=wrap_plain,
        safe_link=safe_link,
    )
    return env


@cache
def html_env(locale: str = "en") -> Environment:
    env = Environment(
        extensions=["jinja2.ext.i18n"],
        loader=PackageLoader("monitor", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=True, default=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return _filters(env, locale)


@cache
def text_env(locale: str = "en") -> Environment:
    env = Environment(
        extensions=["jinja2.ext.i18n"],
        loader=PackageLoader("monitor", "templates"),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return _filters(env, locale)


def render_html(name: str, locale: str = "en", **context: object) -> str:
    return html_env(locale).get_template(name).render(**context)


def render_text(name: str, locale: str = "en", **context: object) -> str:
    return text_env(locale).get_template(name).render(**context)


BODY_START, BODY_END = "<!--body-->", "<!--/body-->"


def join_html(documents: list[str]) -> str:
    """One HTML document from several renderings of the same template (a bilingual message): the
    first document, with the body of each later one added after its own (Welsh first)."""
    first = documents[0]
    if len(documents) == 1 or BODY_END not in first:
        return first
    bodies = []
    for document in documents[1:]:
        start, end = document.find(BODY_START), document.find(BODY_END)
        if start >= 0 and end > start:
            bodies.append(document[start + len(BODY_START) : end])
    cut = first.find(BODY_END)
    separator = '<hr style="border:0;border-top:3px double #999999;margin:24px 0;">'
    return first[:cut] + "".join(separator + body for body in bodies) + first[cut:]


def join_text(documents: list[str]) -> str:
    """Plain-text versions one after the other, Welsh first, with a rule between them."""
    if len(documents) == 1:
        return documents[0]
    return ("\n" + "=" * 72 + "\n\n").join(doc.rstrip("\n") + "\n" for doc in documents)
