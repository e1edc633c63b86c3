"""case_follow_retries: follow mails the mail server refused, tried again with backoff up to a
bound (issue 15: a refused follow mail was logged and lost).

Revision ID: 0027_case_follow_retries
Revises: 0026_publisher_signup_email
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027_case_follow_retries"
down_revision = "0026_publisher_signup_email"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_follow_retries",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("follower_id", sa.String(40), nullable=False),
        sa.Column("mail_to", sa.String(320), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_case_follow_retries_next", "case_follow_retries", ["next_at"])
    op.create_index("ix_case_follow_retries_follower", "case_follow_retries", ["follower_id"])


def downgrade() -> None:
    op.drop_index("ix_case_follow_retries_follower", table_name="case_follow_retries")
    op.drop_index("ix_case_follow_retries_next", table_name="case_follow_retries")
    op.drop_table("case_follow_retries")
