"""cases: followers of a case (e-mail on answer, commitment due, resolution) and the queue of
what they are told (issue 15)

Revision ID: 0024_case_followers
Revises: 0023_voice_listening
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_case_followers"
down_revision = "0023_voice_listening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_followers",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("case_id", sa.String(40), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("email_hash", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("case_id", "email_hash", name="uq_case_followers_case_email"),
    )
    op.create_index("ix_case_followers_case_status", "case_followers", ["case_id", "status"])
    op.create_table(
        "case_follow_events",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(40), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("kind", "ref", name="uq_case_follow_events_ref"),
    )
    op.create_index("ix_case_follow_events_sent", "case_follow_events", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_case_follow_events_sent", table_name="case_follow_events")
    op.drop_table("case_follow_events")
    op.drop_index("ix_case_followers_case_status", table_name="case_followers")
    op.drop_table("case_followers")
