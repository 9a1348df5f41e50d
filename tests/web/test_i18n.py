"""Every text goes through gettext: a catalogue, once there is one, changes the pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from monitor.web import i18n
from tests.web.test_routes import signed_in
from tests.web.web_support import post_form

WELSH = {"Overview": "Trosolwg", "Findings": "Canfyddiadau", "Language": "Iaith"}


@pytest.fixture
def welsh_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    catalog = Catalog(locale="cy", domain=i18n.DOMAIN)
    for english, welsh in WELSH.items():
        catalog.add(english, welsh)
    target = tmp_path / "translations" / "cy" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / f"{i18n.DOMAIN}.mo").open("wb") as handle:
        write_mo(handle, catalog)
    monkeypatch.setattr(i18n, "catalogue_dir", lambda: str(tmp_path / "translations"))
    i18n.translations_for.cache_clear()
    yield
    i18n.translations_for.cache_clear()


def test_without_a_catalogue_every_language_reads_the_source_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(i18n, "catalogue_dir", lambda: str(tmp_path))
    i18n.translations_for.cache_clear()
    for lang in i18n.LANGUAGES:
        assert i18n.translations(lang).gettext("Overview") == "Overview"
        assert i18n.html_lang(lang) == "en"
    i18n.translations_for.cache_clear()


def test_the_shipped_welsh_catalogue_translates_the_dashboard() -> None:
    """socialmon's own Welsh catalogue (monitor/locale) carries the dashboard's texts too."""
    i18n.translations_for.cache_clear()
    assert i18n.translations("cy").gettext("Overview") == "Trosolwg"
    assert i18n.translations("cy+en").gettext("Findings") == 'Canfyddiadau / <span lang="en">Findings</span>'
    assert i18n.html_lang("cy") == "cy" and i18n.html_lang("en") == "en"


def test_a_welsh_catalogue_translates_the_pages(local_app: Any, welsh_catalogue: None) -> None:
    client = signed_in(local_app)
    assert "<h1>Overview</h1>" in client.get("/").get_data(as_text=True)
    post_form(client, "/", "/language", {"lang": "cy"})
    welsh = client.get("/").get_data(as_text=True)
    assert "<h1>Trosolwg</h1>" in welsh and '<html lang="cy">' in welsh
    post_form(client, "/", "/language", {"lang": "cy+en"})
    both = client.get("/").get_data(as_text=True)
    assert '<h1>Trosolwg / <span lang="en">Overview</span></h1>' in both  # English marked for screen readers


def test_the_default_language_comes_from_the_config_locale() -> None:
    class WithLocale:
        locale = "cy"

    assert i18n.default_language(WithLocale()) == "cy"
    assert i18n.default_language(object()) == "en"


def test_the_dashboard_in_welsh_from_the_shipped_catalogue(local_app: Any) -> None:
    i18n.translations_for.cache_clear()
    client = signed_in(local_app)
    post_form(client, "/", "/language", {"lang": "cy"})
    pages = {path: client.get(path).get_data(as_text=True) for path in ("/", "/findings", "/operations")}
    assert all('<html lang="cy">' in page for page in pages.values())
    assert "<h1>Trosolwg</h1>" in pages["/"] and "Allgofnodi" in pages["/"]
    assert "Canfyddiadau" in pages["/findings"] and "Blwch anfon" in pages["/operations"]
    assert "Sign out" not in pages["/"] and "Outbox" not in pages["/operations"]
