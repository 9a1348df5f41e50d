"""The daily digest in a real browser (headless Chromium): the per-account table on a desktop,
one block per account on a phone, in English, Welsh and both (Welsh first).

The digests are the demo's (`socialmon demo` writes digest.html and digest.cy.html; the bilingual
one joins them as a bilingual e-mail does), plus one with words too long for any column. At 390 px
none may scroll sideways; at both widths axe-core may find no serious or critical violation. Where
a mail client drops the <style> (the media query), the table must still be a plain table with the
phone-only labels hidden. Screenshots go to $SOCIALMON_SCREENSHOT_DIR/digest when set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.digest import AccountLine, Digest, EmergencyLine, render_digest
from monitor.templates import join_html
from tests.web.browser_support import (
    axe_problems,
    axe_source,
    chromium,
    screenshot,
    screenshot_dir,
    sideways_overflow,
    viewport,
)

pytestmark = pytest.mark.slow

PHONE, DESKTOP = 390, 1280
# The first figure's label in a stacked account block, per language of the digest.
LAST_POST = {"en": "Last post: ", "cy": "Postiad diwethaf: "}

LAYOUT = """
const rows = [...document.querySelectorAll('.sm-row')];
const shown = el => getComputedStyle(el).display !== 'none';
return {
  rows: rows.length,
  row_display: [...new Set(rows.map(r => getComputedStyle(r).display))],
  head_shown: [...document.querySelectorAll('.sm-head')].some(shown),
  labels_shown: [...document.querySelectorAll('.sm-label')].filter(shown).length,
  labels: document.querySelectorAll('.sm-label').length,
  first_blocks: [...document.querySelectorAll('.sm-accounts')].map(t => {
    const lang = t.closest('[lang]').getAttribute('lang');
    return [lang, t.querySelector('.sm-row').innerText];
  }),
};
"""


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path / "chromium-profile") as driver:
        yield driver


def long_words_digest() -> Digest:
    """An account name, exemption reason, emergency reason and account list holding words longer
    than a phone is wide (a long handle, a pasted link), as people may well write them."""
    word = "Aberwen" * 20
    account = AccountLine(
        account_id="long",
        label=f"{word} (x:{word})",
        platform="x",
        role="unit",
        last_post="never",
        days_since_post=None,
        parity=None,
        parity_posts=0,
        parity_note=f"exempt: see https://www.aberwen.ac.uk/{word}",
        open_by_check={"welsh-counterpart": 3, "connector-health": 1},
        open_total=4,
        median_reply="no replies",
        median_reply_seconds=None,
        replies_counted=0,
        hours="Mon-Fri 09:00-17:00",
    )
    return Digest(
        title="Social media compliance digest",
        generated="Mon 30 Nov 2026 09:30 GMT",
        since="Sun 29 Nov 2026 09:30 GMT",
        window_days=7,
        timezone="Europe/London",
        accounts=[account],
        emergencies=[EmergencyLine("Mon 30 Nov 2026 08:00 GMT", "still active", "oncall", f"see {word}", 0)],
        cannot_see=[f"queued posts unknown for: {word}"],
    )


@pytest.fixture(scope="module")
def digests(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo's digests written as files: en, cy, cy+en, and English with very long words."""
    from monitor.demo import run_demo

    folder = tmp_path_factory.mktemp("digests")
    result = run_demo(folder / "demo")
    english = Path(result.digest_html).read_text(encoding="utf-8")
    welsh = Path(result.digest_cy_html).read_text(encoding="utf-8")
    documents = {
        "en": english,
        "cy": welsh,
        "cy+en": join_html([welsh, english]),
        "long-words": render_digest(long_words_digest()),
    }
    files = {}
    for name, html in documents.items():
        files[name] = folder / f"digest-{name}.html"
        files[name].write_text(html, encoding="utf-8")
    # What a client that drops <style> shows: the media query is gone with it.
    stripped = re.sub(r"<style\b.*?</style>", "", documents["cy+en"], flags=re.S)
    assert stripped != documents["cy+en"]
    files["no-style"] = folder / "digest-no-style.html"
    files["no-style"].write_text(stripped, encoding="utf-8")
    return files


def layout(driver: Any) -> dict[str, Any]:
    return dict(driver.execute_script(LAYOUT))


def test_digest_reads_on_a_phone_and_a_desktop_in_every_language(
    browser: Any, digests: dict[str, Path], tmp_path: Path
) -> None:
    axe = axe_source()
    shots = screenshot_dir(tmp_path, "digest")
    driver = browser
    problems: dict[str, list[str]] = {}
    for name in ("en", "cy", "cy+en", "long-words"):
        for width in (DESKTOP, PHONE):
            viewport(driver, width)
            driver.get(digests[name].as_uri())
            found = axe_problems(driver, axe)
            if found:
                problems[f"{name}@{width}"] = found
            overflow = sideways_overflow(driver)
            assert overflow <= 0, f"the {name} digest scrolls sideways by {overflow}px at {width}px"
            seen = layout(driver)
            assert seen["rows"] > 0, name
            if width == DESKTOP:  # the table, as it was
                assert seen["row_display"] == ["table-row"] and seen["head_shown"], (name, seen)
                assert seen["labels_shown"] == 0, (name, seen)
            else:  # one block per account: its name, then "label: value" lines
                assert seen["row_display"] == ["block"] and not seen["head_shown"], (name, seen)
                assert seen["labels_shown"] == seen["labels"] == 5 * seen["rows"], (name, seen)
                for lang, block in seen["first_blocks"]:
                    heading, first_figure = block.split("\n")[:2]
                    assert heading.strip() and not heading.startswith(LAST_POST[lang]), block
                    assert first_figure.startswith(LAST_POST[lang]), (name, block)
            screenshot(driver, f"digest-{name}", width, shots)
    assert problems == {}, json.dumps(problems, indent=1)
    languages = [lang for lang, _ in layout(driver)["first_blocks"]]
    assert languages == ["en"]  # (the long-words digest)

    # The bilingual digest: Welsh first, the English part marked as English for screen readers.
    driver.get(digests["cy+en"].as_uri())
    assert driver.execute_script("return document.documentElement.lang") == "cy"
    assert [lang for lang, _ in layout(driver)["first_blocks"]] == ["cy", "en"]

    # A client that drops <style> (or ignores media queries) still shows the plain table at 390 px.
    viewport(driver, PHONE)
    driver.get(digests["no-style"].as_uri())
    seen = layout(driver)
    assert seen["row_display"] == ["table-row"] and seen["head_shown"], seen
    assert seen["labels_shown"] == 0, seen
