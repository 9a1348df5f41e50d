"""set-aside items and channel health (issue 18: hostile input and failing surroundings)

Revision ID: 0007
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.db

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "set_aside_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("record_type", sa.String(length=16), nullable=False),
        sa.Column("native_id", sa.String(length=255), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", monitor.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", monitor.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "record_type", "native_id", name="uq_set_aside_item"),
    )
    op.create_table(
        "channel_health",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("consecutive_timeouts", sa.Integer(), nullable=False),
        sa.Column("broken_since", monitor.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", monitor.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
    )


def downgrade() -> None:
    op.drop_table("channel_health")
    op.drop_table("set_aside_items")
