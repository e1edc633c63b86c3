"""social: one row per public action seen for a per_social_action rule (counted, refused with
its reason, reversed), no handle or name

Revision ID: 0016_social_actions
Revises: 0015_claim_bounds
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_social_actions"
down_revision = "0015_claim_bounds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "social_actions",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("campaign_id", sa.String(40), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("rule_key", sa.String(16), nullable=False),
        sa.Column("commitment", sa.String(64), nullable=False),
        sa.Column("network", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(24), nullable=True),
        sa.Column("account_created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("units", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("pledge_id", sa.String(40), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("campaign_id", "rule_key", "commitment", name="uq_social_actions_action"),
    )
    op.create_index(
        "ix_social_actions_rule_outcome", "social_actions", ["campaign_id", "rule_key", "outcome"]
    )


def downgrade() -> None:
    op.drop_index("ix_social_actions_rule_outcome", table_name="social_actions")
    op.drop_table("social_actions")
