"""py3langid's model, restricted to the languages the detector uses, cached uncompressed on disk.

py3langid ships its model LZMA-compressed; decompressing it takes 0.3-0.5 s, which dominates the
start-up of a short `socialmon detect-language` run. The first load writes the restricted model (the
same arrays py3langid would hold after `set_languages`) as an uncompressed `.npz` to the cache
directory; later processes read that in a few tens of milliseconds. The cache file's name carries
py3langid's version, the model file's size and modification time and the language list, so an upgrade
or a different language set never reads a stale file. A cache that cannot be read or written is not
an error: the detector then loads the compressed model as before.

Cache directory: `SOCIALMON_CACHE_DIR`, else `$XDG_CACHE_HOME/socialmon`, else `~/.cache/socialmon`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from array import array
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

_ARRAYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")


def cache_dir() -> Path:
    explicit = os.environ.get("SOCIALMON_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "socialmon"


def _model_path() -> Path:
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    return Path(MODEL_DIR) / MODEL_FILE


def cache_file(languages: tuple[str, ...]) -> Path:
    """Where the restricted model for `languages` is cached (the name changes with the model)."""
    model = _model_path()
    stat = model.stat()
    key = f"{metadata.version('py3langid')}|{stat.st_size}|{stat.st_mtime_ns}|{','.join(languages)}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir() / f"langid-{digest}.npz"


def load_identifier(languages: tuple[str, ...]) -> LanguageIdentifier:
    """A normalised-probability identifier over `languages`, from the cache when it is there."""
    path: Path | None = None
    try:
        path = cache_file(languages)
        cached = _read_cache(path)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        cached = None  # unreadable or damaged: load the compressed model and write the cache anew
    if cached is not None:
        return cached
    identifier = _load_compressed(languages)
    if path is not None:
        _write_cache(path, identifier)
    return identifier


def _load_compressed(languages: tuple[str, ...]) -> LanguageIdentifier:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(languages))
    # set_languages keeps the all-language matrix for a later reset we never do: drop it (~27 MB).
    identifier._full_model = (identifier.nb_ptc, identifier.nb_pc, identifier.nb_classes)
    return identifier


def _to_uint_array(values: Any) -> array[int]:
    import numpy as np

    arr = np.ascontiguousarray(values)
    out: array[int] = array({2: "H", 4: "I", 8: "L"}[arr.dtype.itemsize])
    out.frombytes(arr.data.cast("B"))
    return out


def _read_cache(path: Path) -> LanguageIdentifier | None:
    if not path.is_file():
        return None
    import numpy as np
    from py3langid.langid import LanguageIdentifier

    with np.load(path, allow_pickle=False) as data:
        if set(_ARRAYS) - set(data.files):
            return None
        identifier = LanguageIdentifier(
            data["ptc"],
            data["pc"],
            data["classes"].tolist(),
            _to_uint_array(data["nextmove"]),
            data["out_feat"].tolist(),
            norm_probs=True,
            tk_row=_to_uint_array(data["nextmove_row"]),
        )
    return identifier


def _write_cache(path: Path, identifier: LanguageIdentifier) -> None:
    """Write atomically (temporary file, then rename) so a concurrent reader never sees half a file."""
    import numpy as np

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".langid-", suffix=".npz", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                np.savez(
                    out,
                    ptc=np.asarray(identifier.nb_ptc),
                    pc=np.asarray(identifier.nb_pc),
                    classes=np.array(identifier.nb_classes),
                    nextmove=np.frombuffer(identifier.tk_nextmove, dtype=_dtype(identifier.tk_nextmove)),
                    nextmove_row=np.frombuffer(identifier.tk_row, dtype=_dtype(identifier.tk_row)),
                    out_feat=np.asarray(identifier.tk_output, dtype=np.int32),
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass  # no writable cache: the next process decompresses the model again


def _dtype(values: array[int]) -> str:
    return {2: "<u2", 4: "<u4", 8: "<u8"}[values.itemsize]
