"""The SQLite database is created 0600 whoever runs socialmon (before: 0644 under the usual umask)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from monitor.store import Store


def test_the_sqlite_file_and_its_wal_are_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        store = Store(f"sqlite:///{tmp_path / 'data' / 'socialmon.db'}")
        store.upgrade()
        store.dispose()
    finally:
        os.umask(previous)
    files = [p for p in (tmp_path / "data").iterdir() if p.name.startswith("socialmon.db")]
    assert files and any(p.name == "socialmon.db" for p in files)
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
