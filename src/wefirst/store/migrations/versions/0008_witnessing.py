"""tlog: witness submitter state and the cosignatures kept with each checkpoint

Revision ID: 0008_witnessing
Revises: 0007_web
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_witnessing"
down_revision = "0007_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tlog_witness_state",
        sa.Column("witness", sa.String(300), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("witness", name="pk_tlog_witness_state"),
    )
    op.create_table(
        "tlog_cosignatures",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("witness", sa.String(300), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size", "witness", name="pk_tlog_cosignatures"),
    )


def downgrade() -> None:
    op.drop_table("tlog_cosignatures")
    op.drop_table("tlog_witness_state")
