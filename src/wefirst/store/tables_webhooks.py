"""Outgoing webhooks: the brands' endpoints, one delivery per (event, endpoint) with its retry
state and lease, and every attempt. Attempts keep an HTTP status and an error *category*, never
a raw exception text (which could carry internal addresses or hostnames)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text

from wefirst.store.meta import ID, metadata

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("brand_id", String(ID), ForeignKey("brands.id"), nullable=False, index=True),
    Column("url", String(1000), nullable=False),
    #: the `whsec_<base64>` secret sealed with the secret box ("sealed:<base64>"; shown in clear
    #: once, at creation or rotation)
    Column("secret", Text, nullable=False),
    #: the secret before the last rotation (sealed too), still signing until `previous_until`
    Column("previous_secret", Text),
    Column("previous_until", DateTime(timezone=True)),
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("endpoint_id", String(ID), nullable=False, index=True),
    Column("brand_id", String(ID), nullable=False, index=True),
    #: the `webhook-id`: the same for every attempt and replay of the event
    Column("event_id", String(ID), nullable=False),
    Column("event_type", String(60), nullable=False),
    #: the exact bytes sent (UTF-8 JSON), so every attempt signs the same body
    Column("body", Text, nullable=False),
    #: pending | delivered | failed (gave up after the last attempt)
    Column("state", String(12), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_at", DateTime(timezone=True)),
    #: which worker holds the delivery, until when (a crashed worker's lease runs out)
    Column("lease_owner", String(64)),
    Column("lease_until", DateTime(timezone=True)),
    #: the delivery this one replays, if any
    Column("replay_of", String(ID)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_webhook_deliveries_due", "state", "next_at"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(ID), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    #: the receiver's HTTP status, when it answered
    Column("status", Integer),
    #: ok | http_status | timeout | connect | tls | too_large | refused | error
    Column("category", String(16), nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("next_at", DateTime(timezone=True)),
)
