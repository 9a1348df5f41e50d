"""Making untrusted text (anything a platform or a user wrote) safe for each output format.

HTML is escaped by Jinja2's autoescaping; these helpers cover what autoescaping does not: control
characters, very long texts and lines, and Markdown (Teams renders Markdown in card text).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, tzinfo

from monitor.clock import as_utc

ELLIPSIS = "…"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
# Characters that start emphasis, links, code or HTML in Teams' Markdown subset, escaped with a
# backslash (CommonMark allows it before any ASCII punctuation). Escaping only these keeps ordinary
# text (hyphens, full stops, brackets) free of backslashes on clients that render escapes poorly.
_MARKDOWN = re.compile(r"([\\`*_\[\]~<>])")
_LINE_START = re.compile(r"(?m)^(\s*)([-+#>]|\d+(?=\.\s))")


def clean(text: object, limit: int | None = None) -> str:
    """Text without control or bidi-override characters, NFC-normalised, cut at `limit` characters."""
    value = unicodedata.normalize("NFC", str(text or ""))
    value = _CONTROL.sub("", value).replace("\r\n", "\n").replace("\r", "\n")
    return truncate(value, limit) if limit else value


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def one_line(text: object, limit: int = 200) -> str:
    """Whitespace collapsed to single spaces: for subjects, table cells and list items."""
    return truncate(" ".join(clean(text).split()), limit)


def break_long_words(text: str, width: int = 60) -> str:
    """Insert zero-width break opportunities in words longer than `width` (URLs, hashes, spam), so a
    very long line wraps in mail clients instead of stretching the layout (Outlook ignores most CSS)."""

    def split(match: re.Match[str]) -> str:
        word = match[0]
        return "\u200b".join(word[i : i + width] for i in range(0, len(word), width))

    return re.sub(rf"\S{{{width + 1},}}", split, text)


def markdown_escape(text: object) -> str:
    """Text that Markdown shows literally (no links, emphasis, headings or HTML from a post)."""
    escaped = _MARKDOWN.sub(r"\\\1", clean(text))
    # List items, headings and quotes only at the start of a line: "- x", "1. x", "# x".
    return _LINE_START.sub(lambda m: m[1] + ("\\" + m[2] if not m[2][0].isdigit() else m[2] + "\\"), escaped)


def wrap_plain(text: str, width: int = 100) -> str:
    """Hard-wrap very long lines for plain-text mail (no line over `width` characters)."""
    out: list[str] = []
    for line in text.split("\n"):
        while len(line) > width:
            cut = line.rfind(" ", 0, width)
            cut = cut if cut > width // 2 else width
            out.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
        out.append(line)
    return "\n".join(out)


def safe_link(url: object) -> str:
    """An http(s) URL for a button or link, or "" (never javascript:, data: or a relative path)."""
    value = clean(url).strip()
    lowered = value.lower()
    if not (lowered.startswith("https://") or lowered.startswith("http://")) or any(
        c.isspace() for c in value
    ):
        return ""
    return value


def local_time(value: datetime | None, tz: tzinfo) -> str:
    """A time as people read it in alerts, notices and the digest: "Tue 24 Nov 2026 13:59 GMT"."""
    if value is None:
        return "-"
    from monitor.i18n import local_time as babel_local_time

    return babel_local_time(as_utc(value), tz, "en")
