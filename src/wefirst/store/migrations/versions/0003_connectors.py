"""connectors: connections, secrets, mappings, delivery inbox, per-line counters, reports

Revision ID: 0003_connectors
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_connectors"
down_revision = "0002_tlog"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connector_connections",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("account", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("credentials", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_connector_connections_brand_id_brands")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_connector_connections")),
        sa.UniqueConstraint("id", name=op.f("uq_connector_connections_id")),
        sa.UniqueConstraint("platform", "account", "livemode", name="uq_connector_connections_account"),
    )
    op.create_index(
        op.f("ix_connector_connections_brand_id"), "connector_connections", ["brand_id"], unique=False
    )
    op.create_table(
        "connector_secrets",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connection_id", sa.String(length=40), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("fingerprint", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_matched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connector_connections.id"],
            name=op.f("fk_connector_secrets_connection_id_connector_connections"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_connector_secrets")),
    )
    op.create_index(
        op.f("ix_connector_secrets_connection_id"), "connector_secrets", ["connection_id"], unique=False
    )
    op.create_table(
        "connector_mappings",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connection_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("pattern", sa.String(length=200), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=True),
        sa.Column("sku", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_connector_mappings_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connector_connections.id"],
            name=op.f("fk_connector_mappings_connection_id_connector_connections"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_connector_mappings")),
    )
    op.create_index(
        op.f("ix_connector_mappings_connection_id"), "connector_mappings", ["connection_id"], unique=False
    )
    op.create_table(
        "connector_deliveries",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("connection_id", sa.String(length=40), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("delivery_key", sa.String(length=300), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connector_connections.id"],
            name=op.f("fk_connector_deliveries_connection_id_connector_connections"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_connector_deliveries")),
        sa.UniqueConstraint("connection_id", "delivery_key", name="uq_connector_deliveries_key"),
        sa.UniqueConstraint("id", name=op.f("uq_connector_deliveries_id")),
    )
    op.create_index(
        "ix_connector_deliveries_status_seq", "connector_deliveries", ["status", "seq"], unique=False
    )
    op.create_table(
        "connector_counters",
        sa.Column("connection_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "name", name=op.f("pk_connector_counters")),
    )
    op.create_table(
        "connector_orders",
        sa.Column("connection_id", sa.String(length=40), nullable=False),
        sa.Column("order_ref", sa.String(length=300), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancel_key", sa.String(length=500), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("connection_id", "order_ref", name=op.f("pk_connector_orders")),
    )
    op.create_table(
        "connector_lines",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connection_id", sa.String(length=40), nullable=False),
        sa.Column("line_key", sa.String(length=500), nullable=False),
        sa.Column("order_ref", sa.String(length=300), nullable=False),
        sa.Column("line_ref", sa.String(length=300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=200), nullable=True),
        sa.Column("campaign_id", sa.String(length=40), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reversed", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("pledged_units", sa.BigInteger(), nullable=False),
        sa.Column("reversed_units", sa.BigInteger(), nullable=False),
        sa.Column("delivery_id", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_connector_lines")),
        sa.UniqueConstraint("connection_id", "line_key", name="uq_connector_lines_key"),
    )
    op.create_index(
        "ix_connector_lines_order", "connector_lines", ["connection_id", "order_ref"], unique=False
    )
    op.create_table(
        "connector_reversals",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connection_id", sa.String(length=40), nullable=False),
        sa.Column("reversal_key", sa.String(length=500), nullable=False),
        sa.Column("order_ref", sa.String(length=300), nullable=False),
        sa.Column("target_line_key", sa.String(length=500), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("requested", sa.Integer(), nullable=True),
        sa.Column("applied", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivery_id", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_connector_reversals")),
        sa.UniqueConstraint("connection_id", "reversal_key", name="uq_connector_reversals_key"),
    )
    op.create_index(
        "ix_connector_reversals_order", "connector_reversals", ["connection_id", "order_ref"], unique=False
    )
    op.create_table(
        "connector_amount_refunds",
        sa.Column("connection_id", sa.String(length=40), nullable=False),
        sa.Column("charge_id", sa.String(length=200), nullable=False),
        sa.Column("order_ref", sa.String(length=300), nullable=False),
        sa.Column("reversal_key", sa.String(length=500), nullable=False),
        sa.Column("cumulative", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fully_refunded", sa.Boolean(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "charge_id", name=op.f("pk_connector_amount_refunds")),
    )
    op.create_table(
        "connector_fetched",
        sa.Column("connection_id", sa.String(length=40), nullable=False),
        sa.Column("ref", sa.String(length=300), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "ref", name=op.f("pk_connector_fetched")),
    )
    op.create_table(
        "connector_reports",
        sa.Column("connection_id", sa.String(length=40), nullable=False),
        sa.Column("report_id", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("supersedes_report_id", sa.String(length=64), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("delivery_id", sa.String(length=40), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "report_id", name=op.f("pk_connector_reports")),
    )
    op.create_table(
        "connector_reconciliations",
        sa.Column("connection_id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "day", name=op.f("pk_connector_reconciliations")),
    )


def downgrade() -> None:
    op.drop_table("connector_reconciliations")
    op.drop_table("connector_reports")
    op.drop_table("connector_fetched")
    op.drop_table("connector_amount_refunds")
    op.drop_table("connector_reversals")
    op.drop_table("connector_lines")
    op.drop_table("connector_orders")
    op.drop_table("connector_counters")
    op.drop_table("connector_deliveries")
    op.drop_table("connector_mappings")
    op.drop_table("connector_secrets")
    op.drop_table("connector_connections")
