"""widget: publishers, campaign widget settings, salts, nonces, click slots, decisions

Revision ID: 0005_widget
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_widget"
down_revision = "0004_voice"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "publishers",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_publishers"),
        sa.UniqueConstraint("id", name="uq_publishers_id"),
    )
    op.create_table(
        "publisher_campaigns",
        sa.Column("publisher_id", sa.String(40), nullable=False),
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["publisher_id"],
            ["publishers.id"],
            name="fk_publisher_campaigns_publisher_id_publishers",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name="fk_publisher_campaigns_campaign_id_campaigns",
        ),
        sa.PrimaryKeyConstraint("publisher_id", "campaign_id", name="pk_publisher_campaigns"),
    )
    op.create_table(
        "widget_campaign_settings",
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("pow_bits", sa.Integer(), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name="fk_widget_campaign_settings_campaign_id_campaigns",
        ),
        sa.PrimaryKeyConstraint("campaign_id", name="pk_widget_campaign_settings"),
    )
    op.create_table(
        "widget_salts",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("salt", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_widget_salts"),
    )
    op.create_table(
        "widget_nonces",
        sa.Column("nonce", sa.String(32), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name="pk_widget_nonces"),
    )
    op.create_index("ix_widget_nonces_expires_ms", "widget_nonces", ["expires_ms"])
    op.create_table(
        "widget_click_slots",
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("visitor_key", sa.String(32), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "day", "visitor_key", "slot", name="pk_widget_click_slots"),
    )
    op.create_table(
        "widget_decisions",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("publisher_id", sa.String(40), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(24), nullable=False),
        sa.Column("detail", sa.String(40), nullable=False),
        sa.Column("visitor_key", sa.String(32), nullable=True),
        sa.Column("net_key", sa.String(32), nullable=False),
        sa.Column("pledge_id", sa.String(40), nullable=True),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_widget_decisions"),
    )
    op.create_index(
        "ix_widget_decisions_campaign_day_reason",
        "widget_decisions",
        ["campaign_id", "day", "reason"],
    )
    op.create_index("ix_widget_decisions_publisher_day", "widget_decisions", ["publisher_id", "day"])
    op.create_index("ix_widget_decisions_visitor_at", "widget_decisions", ["visitor_key", "at_ms"])
    op.create_index("ix_widget_decisions_net_at", "widget_decisions", ["net_key", "at_ms"])


def downgrade() -> None:
    for index, table in (
        ("ix_widget_decisions_net_at", "widget_decisions"),
        ("ix_widget_decisions_visitor_at", "widget_decisions"),
        ("ix_widget_decisions_publisher_day", "widget_decisions"),
        ("ix_widget_decisions_campaign_day_reason", "widget_decisions"),
        ("ix_widget_nonces_expires_ms", "widget_nonces"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "widget_decisions",
        "widget_click_slots",
        "widget_nonces",
        "widget_salts",
        "widget_campaign_settings",
        "publisher_campaigns",
        "publishers",
    ):
        op.drop_table(table)
