"""credentials, coverage and discovered accounts (issue 15)

Revision ID: 0005
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.db

revision: str = "0005"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oauth_tokens",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("expires_at", monitor.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("updated_at", monitor.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("pending_refresh_at", monitor.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refresh_failed", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "credential_facts",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("checked_at", monitor.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("expires_at", monitor.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("data_access_expires_at", monitor.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "coverage_gaps",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("feature", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("fix", sa.Text(), nullable=False),
        sa.Column("since", monitor.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_at", monitor.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "feature"),
    )
    op.create_table(
        "discovered_accounts",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("native_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("handle", sa.String(length=128), nullable=False),
        sa.Column("seen_at", monitor.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "native_id"),
    )


def downgrade() -> None:
    op.drop_table("discovered_accounts")
    op.drop_table("coverage_gaps")
    op.drop_table("credential_facts")
    op.drop_table("oauth_tokens")
