"""Jinja2 templates shipped with socialmon (alert e-mail and the daily digest, HTML and text).

Two environments: HTML templates autoescape everything (text from platforms can hold markup);
text templates do not escape, and their filters strip control characters and wrap long lines.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from monitor.notifiers.text import break_long_words, clean, one_line, safe_link, truncate, wrap_plain


def _filters(env: Environment) -> Environment:
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
def html_env() -> Environment:
    env = Environment(
        loader=PackageLoader("monitor", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=True, default=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return _filters(env)


@cache
def text_env() -> Environment:
    env = Environment(
        loader=PackageLoader("monitor", "templates"),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return _filters(env)


def render_html(name: str, **context: object) -> str:
    return html_env().get_template(name).render(**context)


def render_text(name: str, **context: object) -> str:
    return text_env().get_template(name).render(**context)
