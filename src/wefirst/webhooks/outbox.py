"""Deliveries as rows: queued in the transaction of the change they report, claimed by one
worker at a time, finished with every attempt recorded, re-queued on replay.

Retry schedule: the first attempt as soon as a worker is free, then 10 s, 20 s, 40 s ...
doubling up to an hour between attempts, `max_attempts` in all (30 by default: about a day);
then the delivery is `failed` and stays replayable."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from wefirst.domain.clock import as_utc, rfc3339
from wefirst.domain.ids import new_id
from wefirst.errors import NotFound
from wefirst.store.tables_webhooks import webhook_attempts, webhook_deliveries
from wefirst.webhooks import endpoints
from wefirst.webhooks.transport import Outcome

FIRST_DELAY = timedelta(seconds=10)
MAX_DELAY = timedelta(hours=1)
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def backoff(attempts_made: int) -> timedelta:
    """The wait after the `attempts_made`-th failed attempt (counting from 1)."""
    delay: timedelta = FIRST_DELAY * (2 ** min(max(attempts_made - 1, 0), 20))
    return min(delay, MAX_DELAY)


def event_body(event_id: str, event_type: str, data: dict[str, Any], at: datetime) -> str:
    """The Standard Webhooks payload shape: type, timestamp, data (and the id, for logs)."""
    doc = {
        "id": event_id,
        "type": event_type,
        "timestamp": as_utc(at).astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(doc, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def enqueue(
    conn: Connection,
    brand_id: str,
    event_type: str,
    data: dict[str, Any],
    now: datetime,
    only: Collection[str] | None = None,
) -> list[str]:
    """Queue one event for every active endpoint of the brand (or those of them in `only`:
    a brand's voice alert rules pick endpoints), in the caller's transaction; returns the
    delivery ids (none when the brand has no endpoint)."""
    targets = endpoints.active_ids(conn, brand_id)
    if only is not None:
        targets = [t for t in targets if t in only]
    if not targets:
        return []
    event_id = new_id("evt")
    body = event_body(event_id, event_type, data, now)
    ids = [new_id("dly") for _ in targets]
    rows = [
        {
            "id": delivery_id,
            "endpoint_id": endpoint_id,
            "brand_id": brand_id,
            "event_id": event_id,
            "event_type": event_type,
            "body": body,
            "state": PENDING,
            "attempts": 0,
            "next_at": now,
            "created_at": now,
        }
        for delivery_id, endpoint_id in zip(ids, targets, strict=True)
    ]
    conn.execute(insert(webhook_deliveries), rows)
    return ids


def replay(conn: Connection, brand_id: str, delivery_id: str, now: datetime) -> dict[str, Any]:
    """Queue the delivery's event again for its endpoint (a new delivery, same `webhook-id`,
    so a receiver that already has it can tell); the worker sends it, the caller never waits."""
    d = webhook_deliveries.c
    row = conn.execute(select(webhook_deliveries).where(d.id == delivery_id, d.brand_id == brand_id)).first()
    if row is None or not endpoints.is_active(conn, row.endpoint_id):
        raise NotFound(f"delivery {delivery_id} does not exist (or its endpoint was removed)")
    new = new_id("dly")
    conn.execute(
        insert(webhook_deliveries).values(
            id=new,
            endpoint_id=row.endpoint_id,
            brand_id=brand_id,
            event_id=row.event_id,
            event_type=row.event_type,
            body=row.body,
            state=PENDING,
            attempts=0,
            next_at=now,
            replay_of=delivery_id,
            created_at=now,
        )
    )
    return {"delivery_id": new, "replay_of": delivery_id, "event_id": row.event_id, "state": PENDING}


@dataclass(frozen=True)
class Claimed:
    id: str
    endpoint_id: str
    event_id: str
    body: str
    attempts: int


def claim(conn: Connection, owner: str, now: datetime, lease: timedelta, limit: int) -> list[Claimed]:
    """Take up to `limit` due deliveries for `owner` until `now + lease`. On PostgreSQL rows
    another worker is claiming are skipped (`SKIP LOCKED`); on SQLite the write transaction
    is exclusive. A lease that ran out (its worker died) can be claimed again."""
    d = webhook_deliveries.c
    due = (
        select(d.id, d.endpoint_id, d.event_id, d.body, d.attempts)
        .where(
            d.state == PENDING,
            d.next_at <= now,
            or_(d.lease_until.is_(None), d.lease_until < now),
        )
        .order_by(d.next_at, d.seq)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    rows = conn.execute(due).all()
    if rows:
        conn.execute(
            update(webhook_deliveries)
            .where(d.id.in_([r.id for r in rows]))
            .values(lease_owner=owner, lease_until=now + lease)
        )
    return [Claimed(r.id, r.endpoint_id, r.event_id, r.body, int(r.attempts)) for r in rows]


def finish(
    conn: Connection, claimed: Claimed, owner: str, outcome: Outcome, now: datetime, max_attempts: int
) -> str:
    """Record the attempt and move the delivery on; returns its new state."""
    number = claimed.attempts + 1
    if outcome.ok:
        state, next_at = DELIVERED, None
    elif number >= max_attempts:
        state, next_at = FAILED, None
    else:
        state, next_at = PENDING, now + backoff(number)
    conn.execute(
        insert(webhook_attempts).values(
            delivery_id=claimed.id,
            attempt=number,
            attempted_at=now,
            status=outcome.status,
            category=outcome.category.value,
            duration_ms=outcome.duration_ms,
            ok=outcome.ok,
            next_at=next_at,
        )
    )
    d = webhook_deliveries.c
    conn.execute(
        update(webhook_deliveries)
        .where(d.id == claimed.id, and_(d.lease_owner == owner))
        .values(state=state, attempts=number, next_at=next_at, lease_owner=None, lease_until=None)
    )
    return state


def drop(conn: Connection, claimed: Claimed) -> None:
    """The endpoint was removed: the delivery ends without an attempt."""
    conn.execute(
        update(webhook_deliveries)
        .where(webhook_deliveries.c.id == claimed.id)
        .values(state=FAILED, next_at=None, lease_owner=None, lease_until=None)
    )


def attempts(conn: Connection, brand_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """The brand's attempts, newest first."""
    a, d = webhook_attempts.c, webhook_deliveries.c
    rows = conn.execute(
        select(
            a.delivery_id,
            a.attempt,
            a.attempted_at,
            a.status,
            a.category,
            a.ok,
            a.next_at,
            a.duration_ms,
            d.endpoint_id,
            d.event_id,
            d.event_type,
        )
        .select_from(webhook_attempts.join(webhook_deliveries, d.id == a.delivery_id))
        .where(d.brand_id == brand_id)
        .order_by(a.seq.desc())
        .limit(limit)
    ).all()
    return [
        {
            "delivery_id": r.delivery_id,
            "endpoint_id": r.endpoint_id,
            "event_id": r.event_id,
            "event_type": r.event_type,
            "attempt": r.attempt,
            "attempted_at": rfc3339(r.attempted_at),
            "status": r.status,
            "error": None if r.ok else r.category,
            "ok": r.ok,
            "duration_ms": r.duration_ms,
            "next_at": rfc3339(r.next_at) if r.next_at else None,
        }
        for r in rows
    ]


def deliveries(conn: Connection, brand_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """The brand's deliveries, newest first, with their state."""
    d = webhook_deliveries.c
    rows = conn.execute(
        select(webhook_deliveries).where(d.brand_id == brand_id).order_by(d.seq.desc()).limit(limit)
    ).all()
    return [
        {
            "id": r.id,
            "endpoint_id": r.endpoint_id,
            "event_id": r.event_id,
            "event_type": r.event_type,
            "state": r.state,
            "attempts": r.attempts,
            "next_at": rfc3339(r.next_at) if r.next_at else None,
            "replay_of": r.replay_of,
            "created_at": rfc3339(r.created_at),
        }
        for r in rows
    ]
