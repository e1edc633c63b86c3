"""voice and case alerts move onto webhooks/: the brands' alert endpoints become webhook
endpoints (their random secrets re-encoded in standard base64, the same bytes), deliveries
whose last attempt planned a retry become pending deliveries, delivered and given-up ones keep
their state; the old per-attempt log (with raw error texts) is dropped

Revision ID: 0012_alerts_on_webhooks
Revises: 0011_log_rotation
"""

from __future__ import annotations

import base64
import binascii

import sqlalchemy as sa
from alembic import op

revision = "0012_alerts_on_webhooks"
down_revision = "0011_log_rotation"
branch_labels = None
depends_on = None


def _standard(secret: str) -> str:
    """`whsec_` + URL-safe token (the old format) → `whsec_` + standard base64 of its bytes."""
    raw = secret.removeprefix("whsec_")
    try:
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        key = raw.encode()
    return "whsec_" + base64.b64encode(key).decode()


def upgrade() -> None:
    conn = op.get_bind()
    old_endpoints = sa.table(
        "voice_alert_endpoints",
        sa.column("id", sa.String),
        sa.column("brand_id", sa.String),
        sa.column("url", sa.String),
        sa.column("secret", sa.String),
        sa.column("active", sa.Boolean),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    new_endpoints = sa.table(
        "webhook_endpoints",
        sa.column("id", sa.String),
        sa.column("brand_id", sa.String),
        sa.column("url", sa.String),
        sa.column("secret", sa.String),
        sa.column("active", sa.Boolean),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    rows = [dict(r) for r in conn.execute(sa.select(old_endpoints)).mappings()]
    if rows:
        conn.execute(sa.insert(new_endpoints), [{**r, "secret": _standard(r["secret"])} for r in rows])
    brand_of = {r["id"]: r["brand_id"] for r in rows}
    old_attempts = sa.table(
        "voice_alert_attempts",
        sa.column("seq", sa.Integer),
        sa.column("delivery_id", sa.String),
        sa.column("endpoint_id", sa.String),
        sa.column("event_id", sa.String),
        sa.column("event_type", sa.String),
        sa.column("body", sa.Text),
        sa.column("attempt", sa.Integer),
        sa.column("ok", sa.Boolean),
        sa.column("next_at", sa.DateTime(timezone=True)),
        sa.column("attempted_at", sa.DateTime(timezone=True)),
    )
    deliveries = sa.table(
        "webhook_deliveries",
        sa.column("id", sa.String),
        sa.column("endpoint_id", sa.String),
        sa.column("brand_id", sa.String),
        sa.column("event_id", sa.String),
        sa.column("event_type", sa.String),
        sa.column("body", sa.Text),
        sa.column("state", sa.String),
        sa.column("attempts", sa.Integer),
        sa.column("next_at", sa.DateTime(timezone=True)),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    latest: dict[str, dict[str, object]] = {}
    for found in conn.execute(sa.select(old_attempts).order_by(old_attempts.c.seq)).mappings():
        latest[str(found["delivery_id"])] = dict(found)
    moved = []
    for delivery_id, a in latest.items():
        brand = brand_of.get(str(a["endpoint_id"]))
        if brand is None or not a["body"]:
            continue
        state = "delivered" if a["ok"] else ("pending" if a["next_at"] is not None else "failed")
        moved.append(
            {
                "id": delivery_id,
                "endpoint_id": a["endpoint_id"],
                "brand_id": brand,
                "event_id": a["event_id"],
                "event_type": a["event_type"],
                "body": a["body"],
                "state": state,
                "attempts": a["attempt"],
                "next_at": a["next_at"] if state == "pending" else None,
                "created_at": a["attempted_at"],
            }
        )
    if moved:
        conn.execute(sa.insert(deliveries), moved)
    op.drop_index("ix_voice_alert_attempts_endpoint_id", table_name="voice_alert_attempts")
    op.drop_index("ix_voice_alert_attempts_delivery_id", table_name="voice_alert_attempts")
    op.drop_table("voice_alert_attempts")
    op.drop_index("ix_voice_alert_endpoints_brand_id", table_name="voice_alert_endpoints")
    op.drop_table("voice_alert_endpoints")


def downgrade() -> None:
    raise NotImplementedError("webhook deliveries are not folded back into voice alert attempts")
