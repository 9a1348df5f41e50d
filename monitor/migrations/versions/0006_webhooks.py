"""webhooks: subscriptions and seen deliveries

Revision ID: 0006
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.db

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", monitor.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("verified_at", monitor.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_expires_at", monitor.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_delivery_at", monitor.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("silent_since", monitor.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("received_at", monitor.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_index(
        op.f("ix_webhook_deliveries_received_at"), "webhook_deliveries", ["received_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_webhook_deliveries_received_at"), table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")
