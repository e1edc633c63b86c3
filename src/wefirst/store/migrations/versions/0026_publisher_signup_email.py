"""publishers: the keyed hash of the address an open sign-up's verification link went to, so a
new link (the old one expired or was lost) can be sent to that address only, never to one the
asker chooses (issue 12: a verification page with a rate-limited "resend").

Revision ID: 0026_publisher_signup_email
Revises: 0025_counter_version
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026_publisher_signup_email"
down_revision = "0025_counter_version"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("publishers") as batch:
        batch.add_column(sa.Column("signup_email_key", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("publishers") as batch:
        batch.drop_column("signup_email_key")
