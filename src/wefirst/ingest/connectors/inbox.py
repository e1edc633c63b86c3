"""The receiving half: verify, check the body reads, store the raw delivery, acknowledge.

Nothing here calls a platform or makes a pledge, so the answer goes back well inside Shopify's
5 s. The delivery is durable before the 2xx: a crash afterwards loses nothing, because the
queue is swept by `process_pending`. A bad signature stores nothing but a counter."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
from wefirst.ingest.connectors.errors import AccountMismatch, MalformedPayload, SignatureRejected
from wefirst.ingest.connectors.records import ParsedDelivery, Source
from wefirst.ingest.connectors.signatures import verify_base64_hmac, verify_stripe
from wefirst.secretbox import SecretBox
from wefirst.store.db import Database
from wefirst.store.groupcommit import GroupCommit
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
        touched = {
            r.seq: r.last_matched_at
            for r in conn.execute(
                select(connector_secrets.c.seq, connector_secrets.c.last_matched_at).where(
                    connector_secrets.c.connection_id == connection_id
                )
            )
        }
    return _Entry(info, secrets, touched, now)


@dataclass(frozen=True)
class Received:
    status: Literal["queued", "duplicate", "ping"]
    delivery_id: str | None
    topic: str | None = None


def lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def bump(conn: Connection, connection_id: str, names: Sequence[str], now: datetime, by: int = 1) -> None:
    """Per-connection counters for the reconciliation view, as one upsert each."""
    dialect = conn.dialect.name
    for name in names:
        values: dict[str, Any] = {"connection_id": connection_id, "name": name, "count": by, "last_at": now}
        if dialect == "postgresql":
            stmt: Any = pg_insert(connector_counters).values(**values)
        else:
            stmt = sqlite_insert(connector_counters).values(**values)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["connection_id", "name"],
                set_={"count": connector_counters.c.count + by, "last_at": now},
            )
        )


def is_woo_ping(headers: Headers, body: bytes) -> bool:
    """WooCommerce's activation ping: form-encoded `webhook_id=N`, no X-WC headers."""
    if any(k.startswith("x-wc-webhook-") for k in headers):
        return False
    name, sep, value = body.partition(b"=")
    return name == b"webhook_id" and sep == b"=" and value.isdigit() and len(value) <= 20


def parse_delivery(
    platform: Source,
    account: str,
    headers: Headers,
    body: bytes,
    raw_ref: str,
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
            raise AccountMismatch(f"delivery for shop {shop or '(none)'!r}, this connection is {account!r}")
        test = (headers.get("x-shopify-test") or "").lower() == "true"
        return shopify.parse(body, topic=topic, shop=shop, raw_ref=raw_ref, test_header=test)
    if platform is Source.WOOCOMMERCE:
        topic = headers.get("x-wc-webhook-topic")
        if not topic:
            raise MalformedPayload("X-WC-Webhook-Topic", "header is missing")
        source = headers.get("x-wc-webhook-source") or ""
        if source != account:
            raise AccountMismatch(
                f"delivery from site {source or '(none)'!r}, this connection is {account!r}"
            )
        return woocommerce.parse(body, topic=topic, source=source, raw_ref=raw_ref, received_at=received_at)
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


@dataclass(frozen=True)
class Receiver:
    """What every delivery is received with, the same for all of a process's requests: the
    database and secret box, Stripe's timestamp tolerance, and optionally the connection
    cache and the shared group-commit writer (without them: a read and a transaction of its
    own per delivery)."""

    db: Database
    box: SecretBox
    stripe_tolerance: int | None = 300
    cache: ConnectionCache | None = None
    writer: GroupCommit | None = None


def receive(
    rx: Receiver,
    *,
    connection_id: str,
    platform: Source,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> Received:
    db, box, writer = rx.db, rx.box, rx.writer
    headers = lower(headers)
    entry = (
        rx.cache.get(db, box, connection_id)
        if rx.cache is not None
        else _load_entry(db, box, connection_id, 0.0)
    )
    info, secrets, touched = entry.info, entry.secrets, entry.touched
    if info.platform is not platform or info.status != "active":
        raise NotFound(f"connection {connection_id} has no active {platform} receiver")
    if platform is Source.WOOCOMMERCE and is_woo_ping(headers, body):
        return Received("ping", None)
    plain = [s for _, s in secrets]
    try:
        if platform is Source.STRIPE:
            matched = verify_stripe(
                body,
                headers.get("stripe-signature"),
                plain,
                tolerance=rx.stripe_tolerance,
                now=now.timestamp(),
            )
        else:
            name = "x-shopify-hmac-sha256" if platform is Source.SHOPIFY else "x-wc-webhook-signature"
            matched = verify_base64_hmac(body, headers.get(name), plain)
        parsed = parse_delivery(platform, info.account, headers, body, "pending", now)
    except SignatureRejected as exc:
        _count(db, writer, connection_id, ["received", f"rejected:{exc.reason}"], now)
        raise
    except (MalformedPayload, AccountMismatch) as exc:
        _count(db, writer, connection_id, ["received", "verified", f"rejected:{exc.reason}"], now)
        raise
    except WefirstError:
        raise
    secret_id = secrets[matched][0]
    last = touched.get(secret_id)
    touch = last is None or as_utc(last) < now - _MATCH_TOUCH
    if touch:
        touched[secret_id] = now
    item = Pending(
        connection_id=connection_id,
        key=_delivery_key(platform, headers, body, parsed),
        topic=parsed.topic[:100],
        headers={k: v for k, v in headers.items() if k not in _DROPPED_HEADERS},
        body=body,
        now=now,
        counters=["received", "verified"],
        touch_secret=secret_id if touch else None,
    )
    return _submit(db, writer, item)


@dataclass
class Pending:
    """One thing to make durable before answering: a delivery (with its counters), or, when
    `body` is None, only counters (a rejection)."""

    connection_id: str
    now: datetime
    counters: list[str]
    key: str = ""
    topic: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    touch_secret: int | None = None
    result: Received | None = None


def store_many(conn: Connection, items: Sequence[Pending]) -> None:
    """Store a group of deliveries in the caller's transaction: one look-up for duplicates,
    one multi-row insert, one upsert per counter. Sets each item's `result`."""
    wanted: dict[str, set[str]] = {}
    for item in items:
        if item.body is not None:
            wanted.setdefault(item.connection_id, set()).add(item.key)
    existing: dict[tuple[str, str], str] = {}
    for connection_id, keys in wanted.items():
        for row in conn.execute(
            select(connector_deliveries.c.delivery_key, connector_deliveries.c.id).where(
                connector_deliveries.c.connection_id == connection_id,
                connector_deliveries.c.delivery_key.in_(sorted(keys)),
            )
        ):
            existing[(connection_id, row.delivery_key)] = row.id
    rows: list[dict[str, Any]] = []
    counts: dict[tuple[str, str], int] = {}
    last: dict[str, datetime] = {}
    for item in items:
        names = list(item.counters)
        if item.body is not None:
            found = existing.get((item.connection_id, item.key))
            if found is not None:
                names.append("duplicate")
                item.result = Received("duplicate", found, item.topic)
            else:
                delivery_id = new_id("dlv")
                existing[(item.connection_id, item.key)] = delivery_id
                rows.append(
                    {
                        "id": delivery_id,
                        "connection_id": item.connection_id,
                        "topic": item.topic,
                        "delivery_key": item.key,
                        "headers": item.headers,
                        "body": item.body,
                        "received_at": item.now,
                        "status": "queued",
                        "attempts": 0,
                    }
                )
                item.result = Received("queued", delivery_id, item.topic)
            if item.touch_secret is not None:
                accounts.mark_secret_matched(conn, item.touch_secret, item.now)
        for name in names:
            counts[(item.connection_id, name)] = counts.get((item.connection_id, name), 0) + 1
        last[item.connection_id] = max(item.now, last.get(item.connection_id, item.now))
    if rows:
        conn.execute(insert(connector_deliveries), rows)
    for (connection_id, name), n in sorted(counts.items()):
        bump(conn, connection_id, [name], last[connection_id], by=n)


class Deliveries:
    """The deliveries of one group-commit group, stored together before its commit: one
    look-up for duplicates and one multi-row insert however many receivers are waiting."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.items: list[Pending] = []

    def add(self, item: Pending) -> Pending:
        self.items.append(item)
        return item

    def flush(self) -> None:
        store_many(self.conn, self.items)


def _submit(db: Database, writer: GroupCommit | None, item: Pending) -> Received:
    """Stored before the answer: through the shared writer (every receiver still waits for
    the commit of its own group), or in a transaction of its own."""
    try:
        if writer is not None:
            writer.submit(lambda tx: tx.part(Deliveries).add(item), timeout=30.0)
        else:
            with db.write() as conn:
                store_many(conn, [item])
    except IntegrityError:
        # Only a concurrent copy of the same delivery winning the insert is a duplicate;
        # anything else must fail the request, never be acknowledged as stored.
        with db.read() as conn:
            found = conn.execute(
                select(connector_deliveries.c.id).where(
                    connector_deliveries.c.connection_id == item.connection_id,
                    connector_deliveries.c.delivery_key == item.key,
                )
            ).first()
        if item.body is None or found is None:
            raise
        with db.write() as conn:
            bump(conn, item.connection_id, [*item.counters, "duplicate"], item.now)
        return Received("duplicate", found.id, item.topic)
    assert item.result is not None or item.body is None
    return item.result or Received("queued", None)


def _count(
    db: Database, writer: GroupCommit | None, connection_id: str, names: Sequence[str], now: datetime
) -> None:
    _submit(db, writer, Pending(connection_id=connection_id, now=now, counters=list(names)))
