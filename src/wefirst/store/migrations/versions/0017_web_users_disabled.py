"""web: console users can be disabled (`wefirst web disable-user`, issue 13 finding 9)

Revision ID: 0017_web_users_disabled
Revises: 0016_social_actions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_web_users_disabled"
down_revision = "0016_social_actions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("web_users") as batch:
        batch.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("web_users") as batch:
        batch.drop_column("disabled_at")
