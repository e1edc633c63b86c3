"""Foundation tables: tenants, keys, campaigns, pledges and the double-entry ledger.

Ledger tables (`ledger_transactions`, `ledger_postings`, `pledges`, `pledge_reversals`,
`deliveries`) are append-only: corrections are new rows, never UPDATE or DELETE.
`campaign_counters` is the one mutable projection; it exists so that cap checks are a single
locked row read instead of a SUM over history."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
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

brands = Table(
    "brands",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("website", String(500)),
    Column("livemode", Boolean, nullable=False, default=True),
    Column("order_salt", LargeBinary(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

beneficiaries = Table(
    "beneficiaries",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("website", String(500)),
    Column("livemode", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

impact_units = Table(
    "impact_units",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False),
    Column("version", Integer, nullable=False),
    Column("beneficiary_id", String(ID), ForeignKey("beneficiaries.id"), nullable=False),
    Column("definition", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("id", "version", name="uq_impact_units_id_version"),
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("brand_id", String(ID), ForeignKey("brands.id"), nullable=False, index=True),
    Column("beneficiary_id", String(ID), ForeignKey("beneficiaries.id"), nullable=False),
    Column("impact_unit_id", String(ID), nullable=False),
    Column("impact_unit_version", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("livemode", Boolean, nullable=False, default=True),
    Column("version", Integer, nullable=False),
    Column("definition", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

campaign_counters = Table(
    "campaign_counters",
    metadata,
    Column("campaign_id", String(ID), ForeignKey("campaigns.id"), primary_key=True),
    Column("net_units", BigInteger, nullable=False, default=0),
    Column("net_money", BigInteger, nullable=False, default=0),
    Column("units_rem", BigInteger, nullable=False, default=0),
    Column("money_rem", BigInteger, nullable=False, default=0),
    Column("pct_money_rem", BigInteger, nullable=False, default=0),
    # bumped by every write: the compare-and-set that replaces a lock held all transaction long
    Column("version", BigInteger, nullable=False, default=0, server_default="0"),
)

campaign_day_units = Table(
    "campaign_day_units",
    metadata,
    Column("campaign_id", String(ID), ForeignKey("campaigns.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("units", BigInteger, nullable=False, default=0),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("hint", String(32), nullable=False),
    Column("role", String(16), nullable=False),
    Column("owner_id", String(ID)),
    Column("livemode", Boolean, nullable=False, default=True),
    Column("label", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)

idempotency_records = Table(
    "idempotency_records",
    metadata,
    Column("scope", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)

ledger_transactions = Table(
    "ledger_transactions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("campaign_id", String(ID), ForeignKey("campaigns.id"), nullable=False, index=True),
    Column("ref_id", String(ID), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

ledger_postings = Table(
    "ledger_postings",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("txn_id", String(ID), nullable=False, index=True),
    Column("campaign_id", String(ID), nullable=False),
    Column("account", String(64), nullable=False),
    Column("commodity", String(8), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Index("ix_ledger_postings_campaign_account", "campaign_id", "account", "commodity"),
)

pledges = Table(
    "pledges",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("campaign_id", String(ID), ForeignKey("campaigns.id"), nullable=False),
    Column("line_key", String(255), nullable=False),
    Column("source", String(16), nullable=False),
    Column("rule", String(24), nullable=False),
    Column("order_hash", String(64), index=True),
    Column("sku", String(200)),
    Column("quantity", Integer, nullable=False),
    Column("units", BigInteger, nullable=False),
    Column("money", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("impact_unit_version", Integer, nullable=False),
    Column("commitment", String(64), index=True),
    Column("txn_id", String(ID), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    # when wefirst heard of it: the day whose cap it counted on (occurred_at is the claim)
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("campaign_id", "line_key", name="uq_pledges_campaign_line"),
)

pledge_reversals = Table(
    "pledge_reversals",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("pledge_id", String(ID), ForeignKey("pledges.id"), nullable=False, index=True),
    Column("reversal_key", String(255), nullable=False, unique=True),
    Column("quantity", Integer, nullable=False),
    Column("units", BigInteger, nullable=False),
    Column("money", BigInteger, nullable=False),
    Column("reason", String(16), nullable=False),
    Column("txn_id", String(ID), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

settlements = Table(
    "settlements",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("campaign_id", String(ID), ForeignKey("campaigns.id"), nullable=False, index=True),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("external_reference", String(200), nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=False),
    Column("reported_at", DateTime(timezone=True), nullable=False),
    Column("status", String(24), nullable=False),
    Column("decided_at", DateTime(timezone=True)),
    Column("decision_note", String(1000)),
    # paid above what was owed, acknowledged by the brand with a reason
    Column("beyond_owed_amount", BigInteger, nullable=False, server_default="0"),
    Column("beyond_owed_reason", String(500)),
    # a partial confirmation: what the beneficiary received, and its bank's reference
    Column("confirmed_amount", BigInteger),
    Column("bank_reference", String(200)),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("campaign_id", String(ID), ForeignKey("campaigns.id"), nullable=False, index=True),
    Column("units", BigInteger, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("evidence_url", String(1000), nullable=False),
    Column("note", String(1000)),
    Column("reported_at", DateTime(timezone=True), nullable=False),
    # delivered beyond what this campaign's pledges fund, acknowledged with a reason
    Column("beyond_funded_units", BigInteger, nullable=False, server_default="0"),
    Column("beyond_funded_reason", String(500)),
)
