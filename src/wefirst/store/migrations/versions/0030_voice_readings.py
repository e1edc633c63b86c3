"""voice_posts: what the detector read of each post — the model's P(negative) and P(positive),
whether they are the bounded embedding pass's estimate, the sarcasm cue (issue 17). With
`author_hash` (already stored) re-detection from the store (`voice import`, the warm-up of
`listen`) sees the observations the live pipeline saw, not the hard label alone.

Existing rows: probabilities NULL, `estimated` and `irony` false. A row without probabilities
counts its mention's polarity as a whole post — exactly how every stored row was read before
this revision — and the irony cue only moves probabilities, so false changes nothing there.
Their authors now count (distinct authors per hour), as they do in the live pipeline.

Revision ID: 0030_voice_readings
Revises: 0029_tlog_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030_voice_readings"
down_revision = "0029_tlog_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("voice_posts", sa.Column("p_negative", sa.Float(), nullable=True))
    op.add_column("voice_posts", sa.Column("p_positive", sa.Float(), nullable=True))
    op.add_column(
        "voice_posts", sa.Column("estimated", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("voice_posts", sa.Column("irony", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite >= 3.35 has it), not a batch: a batch rebuilds the
    # table on SQLite, and dropping the old voice_posts fails the voice_mentions foreign key.
    for column in ("irony", "estimated", "p_positive", "p_negative"):
        op.drop_column("voice_posts", column)
