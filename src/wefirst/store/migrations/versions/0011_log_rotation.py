"""tlog: the logs that followed the first one after key rotations

Revision ID: 0011_log_rotation
Revises: 0010_webhooks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_log_rotation"
down_revision = "0010_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tlog_logs",
        sa.Column("generation", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("origin", sa.String(300), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("key_path", sa.Text(), nullable=False),
        sa.Column("base", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("generation", name="pk_tlog_logs"),
        sa.UniqueConstraint("origin", name="uq_tlog_logs_origin"),
    )


def downgrade() -> None:
    op.drop_table("tlog_logs")
