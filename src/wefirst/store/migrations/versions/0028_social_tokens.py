"""social_tokens: a brand's access token per social server, sealed at rest (issue 16: Mastodon
streaming and quotes need the post author's token).

Revision ID: 0028_social_tokens
Revises: 0027_case_follow_retries
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028_social_tokens"
down_revision = "0027_case_follow_retries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "social_tokens",
        sa.Column("brand_id", sa.String(40), sa.ForeignKey("brands.id"), primary_key=True),
        sa.Column("network", sa.String(20), primary_key=True),
        sa.Column("server", sa.String(300), primary_key=True),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("fingerprint", sa.String(20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("social_tokens")
