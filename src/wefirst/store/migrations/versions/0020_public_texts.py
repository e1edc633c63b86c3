"""public_texts: free text typed by brands and beneficiaries goes into the log as a salted
SHA-256 commitment (issue 13 #10); the text and salt are kept here, erasable. Entries already
in the log keep their text (a log is append-only); new ones carry `<field>_sha256`.

Revision ID: 0020_public_texts
Revises: 0019_webhook_secrets_sealed
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_public_texts"
down_revision = "0019_webhook_secrets_sealed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "public_texts",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("salt", sa.String(32)),
        sa.Column("text", sa.Text()),
        sa.Column("source_table", sa.String(40), nullable=False),
        sa.Column("source_id", sa.String(40), nullable=False),
        sa.Column("field", sa.String(60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_public_texts_source", "public_texts", ["source_id"])


def downgrade() -> None:
    op.drop_index("ix_public_texts_source", table_name="public_texts")
    op.drop_table("public_texts")
