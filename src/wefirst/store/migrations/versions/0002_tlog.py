"""tlog: entry queue and index map, signed checkpoints, tile store

Revision ID: 0002_tlog
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_tlog"
down_revision = "0001_core"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tlog_entries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("commitment", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tlog_entries"),
        sa.UniqueConstraint("idx", name="uq_tlog_entries_idx"),
    )
    op.create_index("ix_tlog_entries_commitment", "tlog_entries", ["commitment"])
    op.create_index(
        "ix_tlog_entries_pending",
        "tlog_entries",
        ["id"],
        postgresql_where=sa.text("idx IS NULL"),
        sqlite_where=sa.text("idx IS NULL"),
    )
    op.create_table(
        "tlog_checkpoints",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size", name="pk_tlog_checkpoints"),
    )
    op.create_table(
        "tlog_tiles",
        sa.Column("path", sa.String(80), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("path", name="pk_tlog_tiles"),
    )


def downgrade() -> None:
    op.drop_table("tlog_tiles")
    op.drop_table("tlog_checkpoints")
    op.drop_index("ix_tlog_entries_pending", table_name="tlog_entries")
    op.drop_index("ix_tlog_entries_commitment", table_name="tlog_entries")
    op.drop_table("tlog_entries")
