"""findings have a human side: triage state on findings and their audit trail

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=16), server_default="none", nullable=False))
        batch_op.add_column(sa.Column("state_at", monitor.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("state_by", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("state_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("state_until", monitor.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_findings_state_until", ["state", "state_until"], unique=False)

    op.create_table(
        "finding_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("at", monitor.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("until", monitor.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["finding_id"], ["findings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("finding_events", schema=None) as batch_op:
        batch_op.create_index("ix_finding_events_finding_at", ["finding_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("finding_events", schema=None) as batch_op:
        batch_op.drop_index("ix_finding_events_finding_at")
    op.drop_table("finding_events")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index("ix_findings_state_until")
        batch_op.drop_column("state_until")
        batch_op.drop_column("state_note")
        batch_op.drop_column("state_by")
        batch_op.drop_column("state_at")
        batch_op.drop_column("state")
