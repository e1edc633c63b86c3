"""campaign_counters.version: the counter row is written with a compare-and-set on it.

Why: the group-commit writer reads a campaign's counters without a lock and takes the row's
lock only with the final `UPDATE … WHERE version = :read RETURNING`, one statement before the
commit, instead of `SELECT … FOR UPDATE` held across every statement of the transaction (two
PostgreSQL workers queued on it and were slower than one). A version that moved means another
transaction counted in between: the group is applied again with the lock taken first.

Revision ID: 0025_counter_version
Revises: 0024_case_followers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025_counter_version"
down_revision = "0024_case_followers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign_counters") as batch:
        batch.add_column(sa.Column("version", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("campaign_counters") as batch:
        batch.drop_column("version")
