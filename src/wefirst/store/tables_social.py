"""Social actions: one row per public action seen for a campaign's per_social_action rule.

The one history of social counting: the campaign's social tally, its fraud report (refusals
with their reason), reversals of withdrawn actions and idempotent backfill all read it. It holds
no handle, name or account URL: only the action's commitment (SHA-256 of its public URI, the
same value the log entry carries) and the creation time of counted accounts (for the burst
criterion). Unique on (campaign, rule, commitment): seeing the same action again — a backfill
after a stream, a poll repeating a page — changes nothing."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)

from wefirst.store.meta import ID, metadata

social_actions = Table(
    "social_actions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("campaign_id", String(ID), ForeignKey("campaigns.id"), nullable=False),
    Column("rule_key", String(16), nullable=False),
    Column("commitment", String(64), nullable=False),
    Column("network", String(16), nullable=False),
    Column("action", String(16), nullable=False),
    # counted | refused | duplicate | over_cap | reversed | kept_settled
    Column("outcome", String(16), nullable=False),
    Column("reason", String(24)),  # refusals: too_young, too_few_posts, bot, burst, no_profile
    Column("account_created_at", DateTime(timezone=True)),
    Column("units", BigInteger, nullable=False, server_default="0"),
    Column("pledge_id", String(ID)),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    # SHA-256 of the acting record's own AT-URI (a Bluesky like/repost/post seen on Jetstream):
    # what a Jetstream delete, which names only the record, is matched on
    Column("record_ref", String(64)),
    UniqueConstraint("campaign_id", "rule_key", "commitment", name="uq_social_actions_action"),
    Index("ix_social_actions_rule_outcome", "campaign_id", "rule_key", "outcome"),
    Index("ix_social_actions_record_ref", "record_ref"),
)

# Where the live follower (social/follow.py) resumes: one row per stream, e.g. Jetstream's last
# committed `time_us`, written in the same transaction as the pledges it led to.
social_cursors = Table(
    "social_cursors",
    metadata,
    Column("source", String(300), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


# A brand's access token for one social server (Mastodon streaming and quotes need the
# author's token): sealed with the secret box, bound to the brand, network and server, so a
# database dump alone holds no usable token, and a sealed value copied to another row does not
# open. `fingerprint` (keyed HMAC) lets the brand tell tokens apart; the token is never shown.
social_tokens = Table(
    "social_tokens",
    metadata,
    Column("brand_id", String(ID), ForeignKey("brands.id"), primary_key=True),
    Column("network", String(20), primary_key=True),
    Column("server", String(300), primary_key=True),
    Column("sealed", LargeBinary, nullable=False),
    Column("fingerprint", String(20), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
