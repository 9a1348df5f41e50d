"""access-review: last-seen registry per account, registry changes, access confirmations

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_registry",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("people", sa.JSON(), nullable=False),
        sa.Column("manager", sa.String(length=255), nullable=True),
        sa.Column("first_seen_at", monitor.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", monitor.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "registry_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("person", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("at", monitor.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_registry_changes_account", "registry_changes", ["account_id", "at"], unique=False)
    op.create_table(
        "access_confirmations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("confirmed_by", sa.String(length=255), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("confirmed_at", monitor.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_access_confirmations_account",
        "access_confirmations",
        ["account_id", "confirmed_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_access_confirmations_account", table_name="access_confirmations")
    op.drop_table("access_confirmations")
    op.drop_index("ix_registry_changes_account", table_name="registry_changes")
    op.drop_table("registry_changes")
    op.drop_table("account_registry")
