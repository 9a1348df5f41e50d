"""The dashboard in Welsh and bilingual, read as a Welsh speaker would: every page, form, flash
message and error page in Welsh, dates through Babel's `cy` locale, `<html lang="cy">`; on a cy+en
page the English halves are marked `lang="en"` for screen readers and stay out of attributes.

"No English" is judged by the project's own language detector on each piece of text, after taking
out what is data rather than the dashboard's own words (names, posts, notes, ids, e-mail addresses).
"""

from __future__ import annotations

import html as html_lib
import re
from functools import cache
from html.parser import HTMLParser
from typing import Any

from babel.messages.pofile import read_po
from sqlalchemy import text

from monitor.language import classify
from tests.web.test_routes import pages, signed_in
from tests.web.web_support import post_form

# What the seeded store and config say (tests/web/web_support.py), shown as written in any language.
DATA = (
    r"Music has not posted for 3 days \(\d\)",
    r"4\.2 Accounts must post at least every 48 hours\.",
    r"The last post was 3 days ago; the policy asks for one every 48 hours\.",
    r"A post <script>alert\(\d\)</script> in [a-z+]+",
    r"Aberwen (University|FREE CRYPTO)|Prifysgol Aberwen|Music|Communications|Arts|Official account",
    r"Concert tonight|Student|Mon-Fri 09:00-17:00|token \[REDACTED\] expired",
    r"Music: no post \(HTTP 500 from \[REDACTED\]\)|GET /2/users/:id/tweets|Ymarfer: cloi'r campws",
    r"\S+@\S+|https?://\S+|host:\d:\w+|post:\w+|#\d+|socialmon|(?<=: )1001",
    r"\b(x|facebook|instagram|youtube)\b|\b[a-z]+(-[a-z]+)+\b|\b(cadence|clickable|coverage|registry)\b",
    r"\d\d:\d\d (GMT|BST), \w+ \d+ \w+ \d{4}",  # a time, as Babel's cy locale writes it
    r"^English$",  # the language menu names each language in itself
)
DATA_RE = re.compile("|".join(f"(?:{d})" for d in DATA))


class _Pieces(HTMLParser):
    """Text between tags, one piece per element (inline markup joins), and every attribute value."""

    INLINE = {"a", "span", "strong", "b", "em", "code", "time", "q", "label"}

    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[str] = [""]
        self.attributes: list[tuple[str, str, str]] = []
        self.title = ""
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]
        if tag not in self.INLINE:
            self.pieces.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()
        if tag not in self.INLINE:
            self.pieces.append("")

    def handle_data(self, data: str) -> None:
        if self._in[-1:] in (["style"], ["script"]):
            return
        if self._in[-1:] == ["title"]:
            self.title += data
        self.pieces[-1] += data


def parse(page: str) -> _Pieces:
    parser = _Pieces()
    parser.feed(page)
    return parser


@cache
def english_msgids() -> frozenset[str]:
    """The catalogue's English texts that have a different Welsh one: seen on a Welsh page, untranslated."""
    with open("monitor/locale/cy/LC_MESSAGES/socialmon.po", "rb") as handle:
        catalogue = read_po(handle)
    return frozenset(m.id for m in catalogue if isinstance(m.id, str) and m.id and m.string != m.id)


def english_pieces(page: str) -> list[str]:
    """Pieces of the page's own words that are a catalogue text left in English, or that the
    detector reads as English (two words or more: it misreads single short Welsh words)."""
    found = []
    for piece in parse(page).pieces:
        words = DATA_RE.sub(" ", html_lib.unescape(piece).strip()).strip(" \n·:,.()–-")
        sentence = len(re.findall(r"[A-Za-z]{2,}", words)) >= 2
        if words in english_msgids() or (sentence and classify(words).label == "en"):
            found.append(words)
    return found


def welsh_client(app: Any, role: str = "admin") -> Any:
    client = signed_in(app, role)
    post_form(client, "/", "/language", {"lang": "cy"})
    return client


def test_every_page_reads_in_welsh(local_app: Any) -> None:
    client = welsh_client(local_app)
    ids = local_app.config["ids"]
    for path in [*pages(local_app), f"/findings/{ids['resolved']}", "/accounts/music-fb", "/no-such-page"]:
        page = client.get(path).get_data(as_text=True)
        assert '<html lang="cy">' in page, path
        assert english_pieces(page) == [], path
    overview = client.get("/").get_data(as_text=True)
    # Dates through Babel's cy locale, time first (no day name after "am", "tan", "o": no mutation)
    assert "11:58 GMT, Llun 30 Tach 2026" in overview and "Mon 30 Nov" not in overview
    assert (
        "(gweinyddwr)" in overview
        and "dwyieithog" in overview
        and "mewn pâr (en, gyda&#39;r cyfrif" in overview
    )
    assert "yn methu: tocyn mynediad wedi dod i ben" in overview


def test_actions_refusals_and_errors_are_said_in_welsh(local_app: Any) -> None:
    client = welsh_client(local_app)
    fid = local_app.config["ids"]["high"]
    finding = f"/findings/{fid}"
    said = {
        "ack": post_form(client, finding, f"{finding}/acknowledge", {"note": ""}, follow_redirects=True),
        "ack-again": post_form(
            client, finding, f"{finding}/acknowledge", {"note": ""}, follow_redirects=True
        ),
        "snooze-none": post_form(client, finding, f"{finding}/snooze", {"for": "2y"}, follow_redirects=True),
        "dismiss-none": post_form(client, finding, f"{finding}/dismiss", {}, follow_redirects=True),
        "reopen": post_form(client, finding, f"{finding}/reopen", {}, follow_redirects=True),
        "reopen-again": post_form(client, finding, f"{finding}/reopen", {}, follow_redirects=True),
        "declare-empty": post_form(
            client, "/emergency", "/emergency/declare", {"reason": " "}, follow_redirects=True
        ),
        "declare": post_form(
            client, "/emergency", "/emergency/declare", {"reason": "Drill"}, follow_redirects=True
        ),
        "declare-again": post_form(
            client, "/", "/emergency/declare", {"reason": "Again"}, follow_redirects=True
        ),
        "stop": post_form(client, "/emergency", "/emergency/stop", {}, follow_redirects=True),
        "stop-again": post_form(client, "/emergency", "/emergency/stop", {}, follow_redirects=True),
    }
    flashes = {
        name: re.findall(r'<p class="flash \w+">([^<]*)</p>', r.get_data(as_text=True))
        for name, r in said.items()
    }
    expected = {
        "ack": "Cydnabuwyd: ni fydd hysbysiadau&#39;n cael eu hailadrodd.",
        "ack-again": "Wedi&#39;i gydnabod eisoes gan admin@example.ac.uk.",
        "snooze-none": "Dewiswch am ba hyd i ohirio, neu amser yn y dyfodol.",
        "dismiss-none": "Dewiswch pam mae&#39;r canfyddiad yn cael ei ddiystyru.",
        "reopen": "Ailagorwyd: bydd yn anfon hysbysiadau a nodiadau atgoffa eto.",
        "reopen-again": "Dim i&#39;w ailagor: nid yw&#39;r canfyddiad wedi&#39;i gydnabod, ei ohirio "
        "na&#39;i ddiystyru.",
        "declare-empty": "Ni chafodd ei ddatgan: rhowch y rheswm dros yr argyfwng.",
        "declare": "Datganwyd argyfwng. Bydd y gwasanaeth yn gweithredu arno o fewn eiliadau.",
        "declare-again": "Ni chafodd ei ddatgan: mae argyfwng wedi&#39;i ddatgan eisoes; "
        "rhowch ben arno yn gyntaf.",
        "stop": "Daeth yr argyfwng i ben. Bydd y gwasanaeth yn anfon y crynodeb at y staff ar alwad.",
        "stop-again": "Nid oedd argyfwng ar waith.",
    }
    assert flashes == {name: [message] for name, message in expected.items()}
    for response in said.values():
        assert english_pieces(response.get_data(as_text=True)) == []

    # Error pages: 404, 403 (a viewer acting), 400 (an expired form, refused before the page's own
    # set-up ran) and 500 (the database lost a table), all in Welsh.
    not_found = client.get("/accounts/nope")
    assert not_found.status_code == 404 and "<h1>Heb ei ganfod</h1>" in not_found.get_data(as_text=True)
    viewer = welsh_client(local_app, "viewer")
    refused = post_form(viewer, finding, f"{finding}/acknowledge", {"note": ""})
    assert refused.status_code == 403 and "Nid yw eich rôl yn caniatáu hyn." in refused.get_data(as_text=True)
    expired = client.post(f"{finding}/acknowledge", data={"note": "", "csrf_token": "stale"})
    page = expired.get_data(as_text=True)
    assert expired.status_code == 400 and '<html lang="cy">' in page and english_pieces(page) == []
    store = local_app.extensions["socialmon"].store
    with store.session() as db:
        db.execute(text("DROP TABLE instances"))
    broken = client.get("/operations")
    page = broken.get_data(as_text=True)
    assert broken.status_code == 500 and "<h1>Aeth rhywbeth o'i le</h1>" in html_lib.unescape(page)
    assert english_pieces(page) == [] and '<html lang="cy">' in page


def test_bilingual_pages_mark_english_and_keep_it_out_of_attributes(local_app: Any) -> None:
    client = signed_in(local_app, "admin")
    post_form(client, "/", "/language", {"lang": "cy+en"})
    for path in pages(local_app):
        page = client.get(path).get_data(as_text=True)
        parsed = parse(page)
        assert '<html lang="cy">' in page and '<span lang="en">' in page, path
        assert not [a for a in parsed.attributes if "<" in a[2]], path  # no markup leaked into attributes
        assert "<" not in parsed.title and "lang=" not in parsed.title, (path, parsed.title)
    overview = client.get("/").get_data(as_text=True)
    assert '<h1>Trosolwg / <span lang="en">Overview</span></h1>' in overview
    assert "<title>Trosolwg / Overview – socialmon</title>" in overview
    # A bilingual value in a bilingual sentence: Welsh in the Welsh half, English in the English one.
    assert (
        'Wedi mewngofnodi fel admin@example.ac.uk (gweinyddwr) / <span lang="en">Signed in as '
        "admin@example.ac.uk (admin)</span>"
    ) in overview
    assert (
        'yn methu: tocyn mynediad wedi dod i ben / <span lang="en">failing: auth_expired</span>' in overview
    )
    finding = client.get(f"/findings/{local_app.config['ids']['high']}").get_data(as_text=True)
    # The check's advice in Welsh, then what the check wrote, marked English
    assert '<p lang="en">The last post was 3 days ago; the policy asks for one every 48 hours.</p>' in finding
    assert "Nid yw&#39;r cyfrif wedi postio cynnwys newydd" in finding
