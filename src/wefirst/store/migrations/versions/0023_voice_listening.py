"""voice: a brand's competitors (share of voice) and its alert rules (which polarity, minimum
size, which webhook endpoint), both set in the brand console or the API (issue 17). Existing
brands have neither: every voice alert still goes to all their endpoints.

Revision ID: 0023_voice_listening
Revises: 0022_social_follow
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_voice_listening"
down_revision = "0022_social_follow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("voice_brand_settings") as batch:
        batch.add_column(sa.Column("competitors", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("alert_rules", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("voice_brand_settings") as batch:
        batch.drop_column("alert_rules")
        batch.drop_column("competitors")
