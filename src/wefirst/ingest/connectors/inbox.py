"""The receiving half: verify, check the body reads, store the raw delivery, acknowledge.

Nothing here calls a platform or makes a pledge, so the answer goes back well inside Shopify's
5 s. The delivery is durable before the 2xx: a crash afterwards loses nothing, because the
queue is swept by `process_pending`. A bad signature stores nothing but a counter."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from wefirst.domain.clock import as_utc
from wefirst.domain.ids import new_id
from wefirst.errors import NotFound, WefirstError
from wefirst.ingest.connectors import accounts, shopify, stripe_events, woocommerce
from wefirst.ingest.connectors.crypto import SecretBox
from wefirst.ingest.connectors.errors import AccountMismatch, MalformedPayload, SignatureRejected
from wefirst.ingest.connectors.records import ParsedDelivery, Source
from wefirst.ingest.connectors.signatures import verify_base64_hmac, verify_stripe
from wefirst.store.db import Database
from wefirst.store.tables_connectors import (
    connector_counters,
    connector_deliveries,
    connector_secrets,
)

Headers = Mapping[str, str]
"""Lower-cased header names (Starlette's are case-insensitive; tests pass plain dicts)."""

_DROPPED_HEADERS = frozenset({"authorization", "cookie", "x-forwarded-for", "x-real-ip"})
_MATCH_TOUCH = timedelta(minutes=1)


@dataclass
class _Entry:
    info: accounts.ConnectionInfo
    secrets: list[tuple[int, str]]
    touched: dict[int, datetime | None]
    loaded_at: float


class ConnectionCache:
    """The connection, its decrypted secrets and their last-match times, kept for `ttl`
    seconds so the hot path of a receiver is one write transaction, not a read and a write.

    Changes made through this process's API call `forget`; another process sees a rotation
    or a retirement at most `ttl` seconds late."""

    def __init__(self, ttl: float = 2.0) -> None:
        self.ttl = ttl
        self._items: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def get(self, db: Database, box: SecretBox, connection_id: str) -> _Entry:
        now = time.monotonic()
        with self._lock:
            entry = self._items.get(connection_id)
        if entry is not None and now - entry.loaded_at < self.ttl:
            return entry
        entry = _load_entry(db, box, connection_id, now)
        with self._lock:
            self._items[connection_id] = entry
        return entry

    def forget(self, connection_id: str) -> None:
        with self._lock:
            self._items.pop(connection_id, None)


def _load_entry(db: Database, box: SecretBox, connection_id: str, now: float) -> _Entry:
    with db.read() as conn:
        info = accounts.get_connection(conn, connection_id)
        secrets = accounts.active_secrets(conn, box, connection_id)
        touched = {r.seq: r.last_matched_at for r in conn.execute(
            select(connector_secrets.c.seq, connector_secrets.c.last_matched_at)
            .where(connector_secrets.c.connection_id == connection_id))}
    return _Entry(info, secrets, touched, now)


@dataclass(frozen=True)
class Received:
    status: Literal["queued", "duplicate", "ping"]
    delivery_id: str | None
    topic: str | None = None


def lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def bump(conn: Connection, connection_id: str, names: Sequence[str], now: datetime) -> None:
    """Per-connection counters for the reconciliation view, as one upsert each."""
    dialect = conn.dialect.name
    for name in names:
        values: dict[str, Any] = {"connection_id": connection_id, "name": name, "count": 1,
                                  "last_at": now}
        if dialect == "postgresql":
            stmt: Any = pg_insert(connector_counters).values(**values)
        else:
            stmt = sqlite_insert(connector_counters).values(**values)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["connection_id", "name"],
            set_={"count": connector_counters.c.count + 1, "last_at": now},
        ))


def is_woo_ping(headers: Headers, body: bytes) -> bool:
    """WooCommerce's activation ping: form-encoded `webhook_id=N`, no X-WC headers."""
    if any(k.startswith("x-wc-webhook-") for k in headers):
        return False
    name, sep, value = body.partition(b"=")
    return name == b"webhook_id" and sep == b"=" and value.isdigit() and len(value) <= 20


def parse_delivery(
    platform: Source, account: str, headers: Headers, body: bytes, raw_ref: str,
    received_at: datetime,
) -> ParsedDelivery:
    """Header checks plus the pure parser: shared by the receiver (to answer 400 at once)
    and by processing (which re-reads the stored raw bytes)."""
    if platform is Source.SHOPIFY:
        topic = headers.get("x-shopify-topic")
        if not topic:
            raise MalformedPayload("X-Shopify-Topic", "header is missing")
        shop = (headers.get("x-shopify-shop-domain") or "").lower()
        if shop != account:
            raise AccountMismatch(f"delivery for shop {shop or '(none)'!r}, "
                                  f"this connection is {account!r}")
        test = (headers.get("x-shopify-test") or "").lower() == "true"
        return shopify.parse(body, topic=topic, shop=shop, raw_ref=raw_ref, test_header=test)
    if platform is Source.WOOCOMMERCE:
        topic = headers.get("x-wc-webhook-topic")
        if not topic:
            raise MalformedPayload("X-WC-Webhook-Topic", "header is missing")
        source = headers.get("x-wc-webhook-source") or ""
        if source != account:
            raise AccountMismatch(f"delivery from site {source or '(none)'!r}, "
                                  f"this connection is {account!r}")
        return woocommerce.parse(body, topic=topic, source=source, raw_ref=raw_ref,
                                 received_at=received_at)
    if platform is Source.STRIPE:
        return stripe_events.parse(body, account=account, raw_ref=raw_ref)
    raise NotFound(f"{platform} has no webhook receiver")


def _delivery_key(platform: Source, headers: Headers, body: bytes, parsed: ParsedDelivery) -> str:
    """Drops exact redeliveries. Shopify: the event id it documents for duplicates. Stripe:
    `event.id`. WooCommerce has none (its delivery id is new on every send), and builds the
    body at send time, so an identical body is the same snapshot: its hash is the key."""
    if platform is Source.SHOPIFY:
        for name in ("x-shopify-event-id", "x-shopify-webhook-id"):
            if headers.get(name):
                return f"event:{headers[name][:200]}"
    if platform is Source.STRIPE and parsed.event_id:
        return f"event:{parsed.event_id[:200]}"
    return "sha256:" + hashlib.sha256(body).hexdigest()


def receive(
    db: Database,
    box: SecretBox,
    *,
    connection_id: str,
    platform: Source,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    stripe_tolerance: int | None = 300,
    cache: ConnectionCache | None = None,
) -> Received:
    headers = lower(headers)
    entry = (cache.get(db, box, connection_id) if cache is not None
             else _load_entry(db, box, connection_id, 0.0))
    info, secrets, touched = entry.info, entry.secrets, entry.touched
    if info.platform is not platform or info.status != "active":
        raise NotFound(f"connection {connection_id} has no active {platform} receiver")
    if platform is Source.WOOCOMMERCE and is_woo_ping(headers, body):
        return Received("ping", None)
    plain = [s for _, s in secrets]
    try:
        if platform is Source.STRIPE:
            matched = verify_stripe(body, headers.get("stripe-signature"), plain,
                                    tolerance=stripe_tolerance, now=now.timestamp())
        else:
            name = ("x-shopify-hmac-sha256" if platform is Source.SHOPIFY
                    else "x-wc-webhook-signature")
            matched = verify_base64_hmac(body, headers.get(name), plain)
        parsed = parse_delivery(platform, info.account, headers, body, "pending", now)
    except SignatureRejected as exc:
        _count(db, connection_id, ["received", f"rejected:{exc.reason}"], now)
        raise
    except (MalformedPayload, AccountMismatch) as exc:
        _count(db, connection_id, ["received", "verified", f"rejected:{exc.reason}"], now)
        raise
    except WefirstError:
        raise
    secret_id = secrets[matched][0]
    key = _delivery_key(platform, headers, body, parsed)
    stored = {k: v for k, v in headers.items() if k not in _DROPPED_HEADERS}
    delivery_id = new_id("dlv")
    try:
        with db.write() as conn:
            dup = conn.execute(select(connector_deliveries.c.id).where(
                connector_deliveries.c.connection_id == connection_id,
                connector_deliveries.c.delivery_key == key)).first()
            if dup is not None:
                bump(conn, connection_id, ["received", "verified", "duplicate"], now)
                return Received("duplicate", dup.id, parsed.topic)
            conn.execute(insert(connector_deliveries).values(
                id=delivery_id, connection_id=connection_id, topic=parsed.topic[:100],
                delivery_key=key, headers=stored, body=body, received_at=now,
                status="queued", attempts=0,
            ))
            bump(conn, connection_id, ["received", "verified"], now)
            last = touched.get(secret_id)
            if last is None or as_utc(last) < now - _MATCH_TOUCH:
                accounts.mark_secret_matched(conn, secret_id, now)
                touched[secret_id] = now
    except IntegrityError:  # a concurrent copy of the same delivery won the insert
        _count(db, connection_id, ["received", "verified", "duplicate"], now)
        return Received("duplicate", None, parsed.topic)
    return Received("queued", delivery_id, parsed.topic)


def _count(db: Database, connection_id: str, names: Sequence[str], now: datetime) -> None:
    with db.write() as conn:
        bump(conn, connection_id, names, now)
