"""webhooks: endpoint secrets are stored sealed (issue 13 #7), which needs more room than the
100 characters of a `whsec_` text. The secrets already stored stay readable as they are; the
app's upkeep pass seals them (`webhooks.endpoints.seal_legacy`) with the key only the app has.

Revision ID: 0019_webhook_secrets_sealed
Revises: 0018_publisher_approval
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_webhook_secrets_sealed"
down_revision = "0018_publisher_approval"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.alter_column("secret", type_=sa.Text(), existing_type=sa.String(100), existing_nullable=False)
        batch.alter_column(
            "previous_secret", type_=sa.Text(), existing_type=sa.String(100), existing_nullable=True
        )


def downgrade() -> None:
    """Sealed secrets do not fit the old columns: endpoints would need new secrets."""
    raise NotImplementedError("webhook secrets are sealed; there is no way back to 100 characters")
