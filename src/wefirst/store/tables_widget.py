"""Widget tables: publishers, the campaigns they show, and the record of every click decision.

`widget_decisions` is the one history of click attempts: the fraud report, the publisher's
per-day figures and the rate limits all read it, so counting and reporting cannot disagree.
It holds no address or visitor id, only keys salted with a per-day salt (`pseudonyms.DailySalts`)
that is deleted after the next day. `widget_click_slots` makes "n counted clicks per visitor per day" a
unique constraint, so concurrent clicks cannot both count on PostgreSQL either.
"""

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
    String,
    Table,
    false,
)

from wefirst.store.meta import ID, metadata

KEY = 32  # hex chars of a truncated salted HMAC

publishers = Table(
    "publishers",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("domains", JSON, nullable=False),
    Column("livemode", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # set when the e-mailed link is followed (or at creation by an admin); until then the
    # publisher's key is refused and its widget counts nothing
    Column("verified_at", DateTime(timezone=True)),
    # open sign-up: keyed hash of the address the link was sent to (the address itself is not
    # kept); a new link goes to that address only (api/publishers.py, resend)
    Column("signup_email_key", String(64)),
)

publisher_campaigns = Table(
    "publisher_campaigns",
    metadata,
    Column("publisher_id", String(ID), ForeignKey("publishers.id"), primary_key=True),
    Column("campaign_id", String(ID), ForeignKey("campaigns.id"), primary_key=True),
    Column("joined_at", DateTime(timezone=True), nullable=False),
    # set by the campaign's brand; a campaign open to any verified publisher needs none
    Column("approved_at", DateTime(timezone=True)),
)

widget_campaign_settings = Table(
    "widget_campaign_settings",
    metadata,
    Column("campaign_id", String(ID), ForeignKey("campaigns.id"), primary_key=True),
    Column("pow_bits", Integer, nullable=False, default=0),
    Column("texts", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("open_to_publishers", Boolean, nullable=False, default=False, server_default=false()),
)

widget_nonces = Table(
    "widget_nonces",
    metadata,
    Column("nonce", String(32), primary_key=True),
    Column("expires_ms", BigInteger, nullable=False, index=True),
)

widget_click_slots = Table(
    "widget_click_slots",
    metadata,
    Column("campaign_id", String(ID), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("visitor_key", String(KEY), primary_key=True),
    Column("slot", Integer, primary_key=True),
)

widget_decisions = Table(
    "widget_decisions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("campaign_id", String(ID), nullable=False),
    Column("publisher_id", String(ID), nullable=False),
    Column("day", String(10), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("reason", String(24), nullable=False),
    Column("detail", String(40), nullable=False),
    Column("visitor_key", String(KEY)),
    Column("net_key", String(KEY), nullable=False),
    Column("pledge_id", String(ID)),
    Column("units", BigInteger, nullable=False, default=0),
    Index("ix_widget_decisions_campaign_day_reason", "campaign_id", "day", "reason"),
    Index("ix_widget_decisions_publisher_day", "publisher_id", "day"),
    Index("ix_widget_decisions_visitor_at", "visitor_key", "at_ms"),
    Index("ix_widget_decisions_net_at", "net_key", "at_ms"),
)
