"""widget: publishers verified by an e-mailed link, brands approve publishers per campaign or
open a campaign to any verified publisher (issue 12). Publishers and joins that exist already
were usable before, so they stay usable: verified at creation, approved when they joined.

Revision ID: 0018_publisher_approval
Revises: 0017_web_users_disabled
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_publisher_approval"
down_revision = "0017_web_users_disabled"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("publishers") as batch:
        batch.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("publisher_campaigns") as batch:
        batch.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("widget_campaign_settings") as batch:
        batch.add_column(
            sa.Column("open_to_publishers", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute("UPDATE publishers SET verified_at = created_at")
    op.execute("UPDATE publisher_campaigns SET approved_at = joined_at")


def downgrade() -> None:
    with op.batch_alter_table("widget_campaign_settings") as batch:
        batch.drop_column("open_to_publishers")
    with op.batch_alter_table("publisher_campaigns") as batch:
        batch.drop_column("approved_at")
    with op.batch_alter_table("publishers") as batch:
        batch.drop_column("verified_at")
