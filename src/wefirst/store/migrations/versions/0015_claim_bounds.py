"""ledger: acknowledged excess (deliveries beyond pledges, payments beyond what is owed) and
partial confirmations of a payment with the beneficiary's bank reference

Revision ID: 0015_claim_bounds
Revises: 0014_voice_tokens_sealed
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_claim_bounds"
down_revision = "0014_voice_tokens_sealed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(
            sa.Column("beyond_funded_units", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("beyond_funded_reason", sa.String(500), nullable=True))
    with op.batch_alter_table("settlements") as batch:
        batch.add_column(sa.Column("beyond_owed_amount", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("beyond_owed_reason", sa.String(500), nullable=True))
        batch.add_column(sa.Column("confirmed_amount", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("bank_reference", sa.String(200), nullable=True))
        batch.alter_column(
            "status", existing_type=sa.String(16), type_=sa.String(24), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("settlements") as batch:
        batch.alter_column(
            "status", existing_type=sa.String(24), type_=sa.String(16), existing_nullable=False
        )
        batch.drop_column("bank_reference")
        batch.drop_column("confirmed_amount")
        batch.drop_column("beyond_owed_reason")
        batch.drop_column("beyond_owed_amount")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("beyond_funded_reason")
        batch.drop_column("beyond_funded_units")
