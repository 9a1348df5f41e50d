"""The on-disk cache of py3langid's restricted model (monitor/langid_model.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

import monitor.langid_model as langid_model
from monitor.langid_model import _load_compressed, _read_cache, cache_file, load_identifier

LANGS = ("cy", "en", "ga", "gd", "br", "fr")
TEXTS = ("Bore da, sut mae pawb?", "Good morning everyone", "Tha mi a' dol dhan bhùth", "ok", "")


def _ranks(identifier: object, texts: tuple[str, ...] = TEXTS) -> list[list[tuple[str, float]]]:
    return [identifier.rank(t) for t in texts]  # type: ignore[attr-defined]


_DECOMPRESSED: dict[tuple[str, ...], object] = {}


def _decompressed_once(languages: tuple[str, ...]) -> object:
    """The model decompressed without any cache: ~0.3 s of CPU a load, so made once per language set."""
    if languages not in _DECOMPRESSED:
        _DECOMPRESSED[languages] = _load_compressed(languages)
    return _DECOMPRESSED[languages]


@pytest.fixture
def fallbacks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Records each fall back to the compressed model (serving the model decompressed once)."""
    taken: list[tuple[str, ...]] = []

    def load(languages: tuple[str, ...]) -> object:
        taken.append(languages)
        return _decompressed_once(languages)

    monkeypatch.setattr(langid_model, "_load_compressed", load)
    return taken


@pytest.fixture(scope="module")
def reference() -> list[list[tuple[str, float]]]:
    return _ranks(_decompressed_once(LANGS))


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOCIALMON_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_first_load_writes_the_cache_and_the_next_reads_it_with_the_same_results(
    cache_dir: Path, reference: list[list[tuple[str, float]]]
) -> None:
    first = load_identifier(LANGS)
    path = cache_file(LANGS)
    assert path.parent == cache_dir and path.is_file()
    cached = _read_cache(path)
    assert cached is not None
    assert cached.nb_classes == first.nb_classes and sorted(first.nb_classes) == sorted(LANGS)
    assert _ranks(first) == reference
    assert _ranks(cached) == reference
    assert _ranks(load_identifier(LANGS)) == reference


def test_another_language_set_gets_its_own_file(cache_dir: Path, fallbacks: list[tuple[str, ...]]) -> None:
    assert cache_file(LANGS) != cache_file(("cy", "en"))
    load_identifier(("cy", "en"))
    assert sorted(load_identifier(("cy", "en")).nb_classes) == ["cy", "en"]
    assert fallbacks == [("cy", "en")]  # decompressed once, then read from its own cache file
    assert [p.name for p in cache_dir.iterdir()] == [cache_file(("cy", "en")).name]


def test_a_damaged_cache_file_is_replaced(
    cache_dir: Path, reference: list[list[tuple[str, float]]], fallbacks: list[tuple[str, ...]]
) -> None:
    cache_dir.mkdir(parents=True)
    cache_file(LANGS).write_bytes(b"not a zip file")
    assert _ranks(load_identifier(LANGS)) == reference
    assert fallbacks == [LANGS]
    assert _read_cache(cache_file(LANGS)) is not None
    assert not [p for p in cache_dir.iterdir() if p.name.startswith(".langid-")]  # no temporary left


def test_an_unwritable_cache_directory_is_not_an_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reference: list[list[tuple[str, float]]],
    fallbacks: list[tuple[str, ...]],
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("SOCIALMON_CACHE_DIR", str(blocker / "cache"))
    assert _ranks(load_identifier(LANGS)) == reference
    assert _ranks(load_identifier(LANGS)) == reference
    assert fallbacks == [LANGS, LANGS]  # no cache to read: each load decompresses again
    assert not (blocker / "cache").exists()


def test_default_directory_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOCIALMON_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_file(LANGS).parent == tmp_path / "socialmon"
