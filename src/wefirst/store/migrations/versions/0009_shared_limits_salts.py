"""shared infrastructure: one rate limiter table for every area, one day-salt table for
pseudonyms (replacing case_rate_events and widget_salts; both held working data only, so the
budgets and today's salt start afresh once at upgrade)

Revision ID: 0009_shared_limits_salts
Revises: 0008_witnessing
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_shared_limits_salts"
down_revision = "0008_witnessing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_hits",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(40), nullable=False),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_rate_limit_hits"),
    )
    op.create_index("ix_rate_limit_hits_lookup", "rate_limit_hits", ["scope", "key", "at"])
    op.create_index("ix_rate_limit_hits_expires_at", "rate_limit_hits", ["expires_at"])
    op.create_table(
        "pseudonym_salts",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("salt", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_pseudonym_salts"),
    )
    op.drop_index("ix_case_rate_events_lookup", table_name="case_rate_events")
    op.drop_table("case_rate_events")
    op.drop_table("widget_salts")


def downgrade() -> None:
    op.create_table(
        "widget_salts",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("salt", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_widget_salts"),
    )
    op.create_table(
        "case_rate_events",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(72), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_case_rate_events"),
    )
    op.create_index("ix_case_rate_events_lookup", "case_rate_events", ["action", "key_hash", "at"])
    op.drop_table("pseudonym_salts")
    op.drop_index("ix_rate_limit_hits_expires_at", table_name="rate_limit_hits")
    op.drop_index("ix_rate_limit_hits_lookup", table_name="rate_limit_hits")
    op.drop_table("rate_limit_hits")
