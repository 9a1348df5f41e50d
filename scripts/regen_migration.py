"""Regenerate the initial migration from monitor/db.py (only while socialmon is unreleased).

Usage: python scripts/regen_migration.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command

from monitor.store import Store, _alembic_config

VERSIONS = Path(__file__).resolve().parent.parent / "monitor" / "migrations" / "versions"


def main() -> None:
    for old in VERSIONS.glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/regen.db")
        with store.engine.begin() as conn:
            command.revision(
                _alembic_config(conn), message="initial schema", autogenerate=True, rev_id="0001", head="base"
            )
    created = next(VERSIONS.glob("0001_*.py"))
    target = VERSIONS / "0001_initial_schema.py"
    created.rename(target)
    subprocess.run([sys.executable, "-m", "ruff", "format", "-q", str(target)], check=False)
    subprocess.run([sys.executable, "-m", "ruff", "check", "-q", "--fix", str(target)], check=False)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
