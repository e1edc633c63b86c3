"""Voice tables: each brand's listening settings, the posts that mention a brand, one row per
(post, brand) mention for the series, mobilization episodes (their alerts are webhooks: `tables_webhooks`).

Only posts that mention a configured brand are stored; authors only as a salted hash.
`voice_posts` is unique on (source, external_id): that is what makes imports idempotent.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from wefirst.store.meta import ID, metadata

#: Longest complaint reason a post keeps (`voice.posts.Post` cuts it when the post is read).
REASON_LENGTH = 64

voice_brand_settings = Table(
    "voice_brand_settings",
    metadata,
    Column("brand_id", String(ID), ForeignKey("brands.id"), primary_key=True),
    Column("names", JSON, nullable=False),
    Column("aliases", JSON, nullable=False),
    Column("handles", JSON, nullable=False),
    Column("hashtags", JSON, nullable=False),
    Column("exclusions", JSON, nullable=False),
    #: live sources to listen to: {"mastodon": [{"server", "hashtags", "public", "token_sealed"?}],
    #: "bluesky": bool, "rss": [url, ...]}
    Column("sources", JSON, nullable=False),
    #: detector overrides (sensitivity): {"alpha": 1e-4, ...}
    Column("detector", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    #: share of voice: [{"brand_id": "brd_…"} | {"name": "…", "terms": ["…", "@…"], "key": "cmp_…"}]
    Column("competitors", JSON, nullable=False, server_default="[]"),
    #: [{"id", "polarity": "negative"|"positive"|"any", "min_posts", "endpoint_id"}]; empty:
    #: every voice alert goes to every endpoint of the brand
    Column("alert_rules", JSON, nullable=False, server_default="[]"),
)

voice_posts = Table(
    "voice_posts",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("source", String(16), nullable=False),
    Column("external_id", String(500), nullable=False),
    Column("author_hash", String(32), index=True),
    Column("text", Text, nullable=False),
    Column("language", String(8), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("url", String(1000)),
    Column("replies", Integer, nullable=False),
    Column("reposts", Integer, nullable=False),
    Column("likes", Integer, nullable=False),
    Column("sentiment", String(8), nullable=False),
    Column("sentiment_score", Float, nullable=False),
    Column("reason", String(REASON_LENGTH)),
    Column("hidden", Boolean, nullable=False),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
    #: What the detector read of the post (one reading for every brand it names, like
    #: `sentiment`), so re-detection from the store (`voice import`, the warm-up of `listen`)
    #: sees what the live pipeline saw (0030): the model's calibrated P(negative) and
    #: P(positive) before the irony discount; NULL for a human label, a label-only model or a
    #: row stored before 0030 — then the mention's polarity counts as a whole post.
    Column("p_negative", Float),
    Column("p_positive", Float),
    #: the probabilities are the bounded embedding pass's estimate (`Pipeline._fill`): counted,
    #: never evidence
    Column("estimated", Boolean, nullable=False, server_default=false()),
    #: the text carries a sarcasm cue (`voice/irony.py`), read where there are probabilities
    #: (the discount moves P(positive) to negative); false where it changes nothing
    Column("irony", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("source", "external_id", name="uq_voice_posts_source_external_id"),
)

voice_mentions = Table(
    "voice_mentions",
    metadata,
    Column("post_seq", Integer, ForeignKey("voice_posts.seq"), primary_key=True),
    Column("brand_id", String(ID), primary_key=True),
    Column("hour", DateTime(timezone=True), nullable=False),
    Column("language", String(8), nullable=False),
    Column("polarity", String(8), nullable=False),
    Index("ix_voice_mentions_brand_hour", "brand_id", "hour"),
)

voice_episodes = Table(
    "voice_episodes",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    #: the detector's own key (brand:polarity:start) — re-detection updates, never duplicates
    Column("key", String(200), nullable=False, unique=True),
    Column("brand_id", String(ID), nullable=False),
    Column("polarity", String(8), nullable=False),
    Column("status", String(8), nullable=False),
    Column("start", DateTime(timezone=True), nullable=False),
    Column("detected_at", DateTime(timezone=True), nullable=False),
    Column("end", DateTime(timezone=True)),
    Column("peak_hour", DateTime(timezone=True), nullable=False),
    Column("peak_count", Integer, nullable=False),
    Column("peak_expected", Float, nullable=False),
    Column("posts", Integer, nullable=False),
    Column("expected", Float, nullable=False),
    Column("top_terms", JSON, nullable=False),
    Column("top_reasons", JSON, nullable=False),
    Column("samples", JSON, nullable=False),
    Column("alerted", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_voice_episodes_brand_start", "brand_id", "start"),
)
