"""social: the live follower's resume positions (`social_cursors`: Jetstream's `time_us`), and
`social_actions.record_ref` (SHA-256 of the acting record's own AT-URI) so that a Jetstream
delete — which carries only the record's key — finds the like or repost it withdraws

Revision ID: 0022_social_follow
Revises: 0021_deliveries_minimised
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_social_follow"
down_revision = "0021_deliveries_minimised"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "social_cursors",
        sa.Column("source", sa.String(300), primary_key=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("social_actions") as batch:
        batch.add_column(sa.Column("record_ref", sa.String(64), nullable=True))
    op.create_index("ix_social_actions_record_ref", "social_actions", ["record_ref"])


def downgrade() -> None:
    op.drop_index("ix_social_actions_record_ref", table_name="social_actions")
    with op.batch_alter_table("social_actions") as batch:
        batch.drop_column("record_ref")
    op.drop_table("social_cursors")
