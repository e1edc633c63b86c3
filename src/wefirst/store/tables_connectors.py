"""Commerce connector tables: connections, their encrypted secrets and mapping rules, the durable
inbox of raw deliveries, and the per-line state that makes pledges exactly-once.

`connector_lines` and `connector_reversals` are the counters the spec asks for (units counted,
units reversed per order line): a reversal is applied only up to what its line counted, and
one that arrives before its order waits here (`applied < requested`) until the order does."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from wefirst.store.meta import ID, metadata

KEY = 500  # business keys embed shop domains and site URLs

connector_connections = Table(
    "connector_connections",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("brand_id", String(ID), ForeignKey("brands.id"), nullable=False, index=True),
    Column("platform", String(16), nullable=False),
    Column("account", String(300), nullable=False),
    Column("name", String(200), nullable=False),
    Column("livemode", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("credentials", LargeBinary),  # encrypted JSON: API keys for call-backs
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("platform", "account", "livemode", name="uq_connector_connections_account"),
)

connector_secrets = Table(
    "connector_secrets",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("connection_id", String(ID), ForeignKey("connector_connections.id"), nullable=False, index=True),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("fingerprint", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_matched_at", DateTime(timezone=True)),
    Column("retired_at", DateTime(timezone=True)),
)

connector_mappings = Table(
    "connector_mappings",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("connection_id", String(ID), ForeignKey("connector_connections.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("pattern", String(200), nullable=False),
    Column("campaign_id", String(ID), ForeignKey("campaigns.id")),
    Column("sku", String(200)),
)

connector_deliveries = Table(
    "connector_deliveries",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("connection_id", String(ID), ForeignKey("connector_connections.id"), nullable=False),
    Column("topic", String(100), nullable=False),
    Column("delivery_key", String(300), nullable=False),
    Column("headers", JSON, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),  # queued | processed | ignored | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("processed_at", DateTime(timezone=True)),
    Column("note", Text),
    UniqueConstraint("connection_id", "delivery_key", name="uq_connector_deliveries_key"),
    Index("ix_connector_deliveries_status_seq", "status", "seq"),
)

connector_counters = Table(
    "connector_counters",
    metadata,
    Column("connection_id", String(ID), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False),
)

connector_orders = Table(
    "connector_orders",
    metadata,
    Column("connection_id", String(ID), primary_key=True),
    Column("order_ref", String(300), primary_key=True),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("cancel_key", String(KEY)),
    Column("cancelled_at", DateTime(timezone=True)),
)

connector_lines = Table(
    "connector_lines",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("connection_id", String(ID), nullable=False),
    Column("line_key", String(KEY), nullable=False),
    Column("order_ref", String(300), nullable=False),
    Column("line_ref", String(300), nullable=False),
    Column("position", Integer, nullable=False),
    Column("sku", String(200)),
    Column("campaign_id", String(ID)),
    Column("quantity", Integer, nullable=False),
    Column("reversed", Integer, nullable=False),
    Column("unit_price", BigInteger),
    Column("currency", String(3)),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(24), nullable=False),
    Column("pledged_units", BigInteger, nullable=False),
    Column("reversed_units", BigInteger, nullable=False),
    Column("delivery_id", String(ID), nullable=False),
    UniqueConstraint("connection_id", "line_key", name="uq_connector_lines_key"),
    Index("ix_connector_lines_order", "connection_id", "order_ref"),
)

connector_reversals = Table(
    "connector_reversals",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("connection_id", String(ID), nullable=False),
    Column("reversal_key", String(KEY), nullable=False),
    Column("order_ref", String(300), nullable=False),
    Column("target_line_key", String(KEY)),  # null: spread over the order's lines in order
    Column("kind", String(16), nullable=False),  # refund | cancel | amount | return
    Column("requested", Integer),  # null: everything not yet reversed (cancellation)
    Column("applied", Integer, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("delivery_id", String(ID), nullable=False),
    UniqueConstraint("connection_id", "reversal_key", name="uq_connector_reversals_key"),
    Index("ix_connector_reversals_order", "connection_id", "order_ref"),
)

connector_amount_refunds = Table(
    "connector_amount_refunds",
    metadata,
    Column("connection_id", String(ID), primary_key=True),
    Column("charge_id", String(200), primary_key=True),
    Column("order_ref", String(300), nullable=False),
    Column("reversal_key", String(KEY), nullable=False),
    Column("cumulative", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("fully_refunded", Boolean, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
)

connector_fetched = Table(
    "connector_fetched",
    metadata,
    Column("connection_id", String(ID), primary_key=True),
    Column("ref", String(300), primary_key=True),  # e.g. a WooCommerce refund id
    Column("fetched_at", DateTime(timezone=True), nullable=False),
)

connector_reports = Table(
    "connector_reports",
    metadata,
    Column("connection_id", String(ID), primary_key=True),
    Column("report_id", String(64), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("supersedes_report_id", String(64)),
    Column("rows", Integer, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("delivery_id", String(ID), nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
)

connector_reconciliations = Table(
    "connector_reconciliations",
    metadata,
    Column("connection_id", String(ID), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("flags", JSON, nullable=False),
    Column("ran_at", DateTime(timezone=True), nullable=False),
)
