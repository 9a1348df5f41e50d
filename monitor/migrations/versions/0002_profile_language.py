"""profile snapshots carry their language

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 21:50:00

The poll tags a profile's language (as it does posts'); the profile-hours check reads it instead
of classifying the text itself. Snapshots stored before this revision keep NULL and are tagged
when the checks read them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("profile_snapshots") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("language_confidence", sa.Float(), nullable=True))
        batch.add_column(sa.Column("languages", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("profile_snapshots") as batch:
        batch.drop_column("languages")
        batch.drop_column("language_confidence")
        batch.drop_column("language")
