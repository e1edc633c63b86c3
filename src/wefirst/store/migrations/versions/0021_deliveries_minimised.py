"""connectors: shop deliveries processed before issue 13 #10 kept the raw body (the shopper's
name, e-mail, addresses, phone, IP address...); they are minimised now, as new ones are once
processed (`ingest/connectors/minimise.py`, a pure function: no key or setting needed). Queued
deliveries keep their raw bytes until they are processed.

Revision ID: 0021_deliveries_minimised
Revises: 0020_public_texts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from wefirst.ingest.connectors.minimise import minimise

revision = "0021_deliveries_minimised"
down_revision = "0020_public_texts"
branch_labels = None
depends_on = None

_deliveries = sa.table(
    "connector_deliveries",
    sa.column("seq", sa.Integer),
    sa.column("body", sa.LargeBinary),
    sa.column("status", sa.String),
)
_BATCH = 500


def upgrade() -> None:
    conn = op.get_bind()
    d = _deliveries.c
    after = 0
    while True:
        rows = conn.execute(
            sa.select(d.seq, d.body)
            .where(d.status.in_(["processed", "ignored", "failed"]), d.seq > after)
            .order_by(d.seq)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            raw = bytes(row.body)
            small = minimise(raw) or b""
            if small != raw:
                conn.execute(sa.update(_deliveries).where(d.seq == row.seq).values(body=small))
        after = rows[-1].seq


def downgrade() -> None:
    """What was removed is gone: that was the point."""
