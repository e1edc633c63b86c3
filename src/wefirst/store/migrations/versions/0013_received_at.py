"""ledger: when an event was received, beside the time it claims

Revision ID: 0013_received_at
Revises: 0012_alerts_on_webhooks

Existing rows get their creation time: it is when wefirst wrote them, the closest record of
when it heard of them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_received_at"
down_revision = "0012_alerts_on_webhooks"
branch_labels = None
depends_on = None

TABLES = ("ledger_transactions", "pledges")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("received_at", sa.DateTime(timezone=True), nullable=True))
        op.execute(sa.text(f"UPDATE {table} SET received_at = created_at"))
        with op.batch_alter_table(table) as batch:
            batch.alter_column("received_at", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("received_at")
