"""Alembic migrations, shipped in the package.

REVISIONS lists every revision, oldest first, so that a running service can tell whether its
database is current without importing Alembic (about 11 MB of resident memory in the daemon).
`tests/monitor/test_store.py` asserts it matches the scripts in `versions/`.
"""

REVISIONS: tuple[str, ...] = ("0001", "0002", "0003", "0004", "0006", "0005", "0007", "0008")
HEAD = REVISIONS[-1]
