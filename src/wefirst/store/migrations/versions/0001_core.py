"""Foundation: tenants, keys, campaigns, pledges, ledger.

Revision ID: 0001_core
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.String(length=40), nullable=True),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("id", name=op.f("uq_api_keys_id")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_table(
        "beneficiaries",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_beneficiaries")),
        sa.UniqueConstraint("id", name=op.f("uq_beneficiaries_id")),
    )
    op.create_table(
        "brands",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("order_salt", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_brands")),
        sa.UniqueConstraint("id", name=op.f("uq_brands_id")),
    )
    op.create_table(
        "idempotency_records",
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_idempotency_records")),
    )
    op.create_index(
        op.f("ix_idempotency_records_created_at"), "idempotency_records", ["created_at"], unique=False
    )
    op.create_table(
        "ledger_postings",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("txn_id", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("commodity", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_postings")),
    )
    op.create_index(
        "ix_ledger_postings_campaign_account",
        "ledger_postings",
        ["campaign_id", "account", "commodity"],
        unique=False,
    )
    op.create_index(op.f("ix_ledger_postings_txn_id"), "ledger_postings", ["txn_id"], unique=False)
    op.create_table(
        "campaigns",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.Column("beneficiary_id", sa.String(length=40), nullable=False),
        sa.Column("impact_unit_id", sa.String(length=40), nullable=False),
        sa.Column("impact_unit_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"], ["beneficiaries.id"], name=op.f("fk_campaigns_beneficiary_id_beneficiaries")
        ),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_campaigns_brand_id_brands")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("id", name=op.f("uq_campaigns_id")),
    )
    op.create_index(op.f("ix_campaigns_brand_id"), "campaigns", ["brand_id"], unique=False)
    op.create_table(
        "impact_units",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("beneficiary_id", sa.String(length=40), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["beneficiaries.id"],
            name=op.f("fk_impact_units_beneficiary_id_beneficiaries"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_impact_units")),
        sa.UniqueConstraint("id", "version", name="uq_impact_units_id_version"),
    )
    op.create_table(
        "campaign_counters",
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("net_units", sa.BigInteger(), nullable=False),
        sa.Column("net_money", sa.BigInteger(), nullable=False),
        sa.Column("units_rem", sa.BigInteger(), nullable=False),
        sa.Column("money_rem", sa.BigInteger(), nullable=False),
        sa.Column("pct_money_rem", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_counters_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_campaign_counters")),
    )
    op.create_table(
        "campaign_day_units",
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_day_units_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("campaign_id", "day", name=op.f("pk_campaign_day_units")),
    )
    op.create_table(
        "deliveries",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("evidence_url", sa.String(length=1000), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_deliveries_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("id", name=op.f("uq_deliveries_id")),
    )
    op.create_index(op.f("ix_deliveries_campaign_id"), "deliveries", ["campaign_id"], unique=False)
    op.create_table(
        "ledger_transactions",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("ref_id", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_ledger_transactions_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_transactions")),
        sa.UniqueConstraint("id", name=op.f("uq_ledger_transactions_id")),
    )
    op.create_index(
        op.f("ix_ledger_transactions_campaign_id"), "ledger_transactions", ["campaign_id"], unique=False
    )
    op.create_table(
        "pledges",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("line_key", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=24), nullable=False),
        sa.Column("order_hash", sa.String(length=64), nullable=True),
        sa.Column("sku", sa.String(length=200), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("money", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("impact_unit_version", sa.Integer(), nullable=False),
        sa.Column("commitment", sa.String(length=64), nullable=True),
        sa.Column("txn_id", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_pledges_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_pledges")),
        sa.UniqueConstraint("campaign_id", "line_key", name="uq_pledges_campaign_line"),
        sa.UniqueConstraint("id", name=op.f("uq_pledges_id")),
    )
    op.create_index(op.f("ix_pledges_commitment"), "pledges", ["commitment"], unique=False)
    op.create_index(op.f("ix_pledges_order_hash"), "pledges", ["order_hash"], unique=False)
    op.create_table(
        "settlements",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("external_reference", sa.String(length=200), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_settlements_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_settlements")),
        sa.UniqueConstraint("id", name=op.f("uq_settlements_id")),
    )
    op.create_index(op.f("ix_settlements_campaign_id"), "settlements", ["campaign_id"], unique=False)
    op.create_table(
        "pledge_reversals",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pledge_id", sa.String(length=40), nullable=False),
        sa.Column("reversal_key", sa.String(length=255), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("money", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("txn_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pledge_id"], ["pledges.id"], name=op.f("fk_pledge_reversals_pledge_id_pledges")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_pledge_reversals")),
        sa.UniqueConstraint("reversal_key", name=op.f("uq_pledge_reversals_reversal_key")),
    )
    op.create_index(op.f("ix_pledge_reversals_pledge_id"), "pledge_reversals", ["pledge_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_pledge_reversals_pledge_id"), table_name="pledge_reversals")
    op.drop_table("pledge_reversals")
    op.drop_index(op.f("ix_settlements_campaign_id"), table_name="settlements")
    op.drop_table("settlements")
    op.drop_index(op.f("ix_pledges_order_hash"), table_name="pledges")
    op.drop_index(op.f("ix_pledges_commitment"), table_name="pledges")
    op.drop_table("pledges")
    op.drop_index(op.f("ix_ledger_transactions_campaign_id"), table_name="ledger_transactions")
    op.drop_table("ledger_transactions")
    op.drop_index(op.f("ix_deliveries_campaign_id"), table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_table("campaign_day_units")
    op.drop_table("campaign_counters")
    op.drop_table("impact_units")
    op.drop_index(op.f("ix_campaigns_brand_id"), table_name="campaigns")
    op.drop_table("campaigns")
    op.drop_index(op.f("ix_ledger_postings_txn_id"), table_name="ledger_postings")
    op.drop_index("ix_ledger_postings_campaign_account", table_name="ledger_postings")
    op.drop_table("ledger_postings")
    op.drop_index(op.f("ix_idempotency_records_created_at"), table_name="idempotency_records")
    op.drop_table("idempotency_records")
    op.drop_table("brands")
    op.drop_table("beneficiaries")
    op.drop_table("api_keys")
