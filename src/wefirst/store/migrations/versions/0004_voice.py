"""voice: brand listening settings, posts, mentions, episodes, alert endpoints and attempts

Revision ID: 0004_voice
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_voice"
down_revision = "0003_connectors"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "voice_brand_settings",
        sa.Column("brand_id", sa.String(40), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("handles", sa.JSON(), nullable=False),
        sa.Column("hashtags", sa.JSON(), nullable=False),
        sa.Column("exclusions", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("detector", sa.JSON(), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name="fk_voice_brand_settings_brand_id_brands"),
        sa.PrimaryKeyConstraint("brand_id", name="pk_voice_brand_settings"),
    )
    op.create_table(
        "voice_posts",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(500), nullable=False),
        sa.Column("author_hash", sa.String(32), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("url", sa.String(1000), nullable=True),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.Column("reposts", sa.Integer(), nullable=False),
        sa.Column("likes", sa.Integer(), nullable=False),
        sa.Column("sentiment", sa.String(8), nullable=False),
        sa.Column("sentiment_score", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("ingested_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_voice_posts"),
        sa.UniqueConstraint("source", "external_id", name="uq_voice_posts_source_external_id"),
    )
    op.create_index("ix_voice_posts_author_hash", "voice_posts", ["author_hash"])
    op.create_table(
        "voice_mentions",
        sa.Column("post_seq", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.String(40), nullable=False),
        sa.Column("hour", TZ, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("polarity", sa.String(8), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_seq"], ["voice_posts.seq"], name="fk_voice_mentions_post_seq_voice_posts"
        ),
        sa.PrimaryKeyConstraint("post_seq", "brand_id", name="pk_voice_mentions"),
    )
    op.create_index("ix_voice_mentions_brand_hour", "voice_mentions", ["brand_id", "hour"])
    op.create_table(
        "voice_episodes",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("brand_id", sa.String(40), nullable=False),
        sa.Column("polarity", sa.String(8), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("start", TZ, nullable=False),
        sa.Column("detected_at", TZ, nullable=False),
        sa.Column("end", TZ, nullable=True),
        sa.Column("peak_hour", TZ, nullable=False),
        sa.Column("peak_count", sa.Integer(), nullable=False),
        sa.Column("peak_expected", sa.Float(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column("top_terms", sa.JSON(), nullable=False),
        sa.Column("top_reasons", sa.JSON(), nullable=False),
        sa.Column("samples", sa.JSON(), nullable=False),
        sa.Column("alerted", sa.JSON(), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_voice_episodes"),
        sa.UniqueConstraint("id", name="uq_voice_episodes_id"),
        sa.UniqueConstraint("key", name="uq_voice_episodes_key"),
    )
    op.create_index("ix_voice_episodes_brand_start", "voice_episodes", ["brand_id", "start"])
    op.create_table(
        "voice_alert_endpoints",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("brand_id", sa.String(40), nullable=False),
        sa.Column("url", sa.String(1000), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name="fk_voice_alert_endpoints_brand_id_brands"),
        sa.PrimaryKeyConstraint("seq", name="pk_voice_alert_endpoints"),
        sa.UniqueConstraint("id", name="uq_voice_alert_endpoints_id"),
    )
    op.create_index("ix_voice_alert_endpoints_brand_id", "voice_alert_endpoints", ["brand_id"])
    op.create_table(
        "voice_alert_attempts",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.String(40), nullable=False),
        sa.Column("endpoint_id", sa.String(40), nullable=False),
        sa.Column("event_id", sa.String(40), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", TZ, nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("next_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_voice_alert_attempts"),
    )
    op.create_index("ix_voice_alert_attempts_delivery_id", "voice_alert_attempts", ["delivery_id"])
    op.create_index("ix_voice_alert_attempts_endpoint_id", "voice_alert_attempts", ["endpoint_id"])


def downgrade() -> None:
    op.drop_table("voice_alert_attempts")
    op.drop_table("voice_alert_endpoints")
    op.drop_table("voice_episodes")
    op.drop_table("voice_mentions")
    op.drop_table("voice_posts")
    op.drop_table("voice_brand_settings")
