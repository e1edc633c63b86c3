"""A brand's webhook endpoints: every event of every area goes to each active one. The secret
is shown once, at creation or rotation; after a rotation the previous secret keeps signing
beside the new one for a grace period, so the receiver can switch without losing a delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from wefirst.domain.clock import as_utc, rfc3339
from wefirst.domain.ids import new_id
from wefirst.errors import Conflict, FieldError, NotFound
from wefirst.store.tables_webhooks import webhook_endpoints
from wefirst.webhooks.signing import new_secret

ROTATION_GRACE = timedelta(hours=24)
#: Active endpoints per brand: each one is an outgoing request per event and a retry schedule.
MAX_ENDPOINTS_PER_BRAND = 10


@dataclass(frozen=True)
class Endpoint:
    id: str
    brand_id: str
    url: str
    secrets: tuple[str, ...]  # the current one first


def _json(row: Any, secret: str | None = None) -> dict[str, Any]:
    out = {
        "id": row.id,
        "brand_id": row.brand_id,
        "url": row.url,
        "active": row.active,
        "created_at": rfc3339(row.created_at),
    }
    if secret is not None:
        out["secret"] = secret  # shown once
    return out


def create(conn: Connection, brand_id: str, url: str, now: datetime) -> dict[str, Any]:
    e = webhook_endpoints.c
    active = conn.execute(
        select(func.count()).select_from(webhook_endpoints).where(e.brand_id == brand_id, e.active.is_(True))
    ).scalar_one()
    if active >= MAX_ENDPOINTS_PER_BRAND:
        raise Conflict(
            f"a brand has at most {MAX_ENDPOINTS_PER_BRAND} active webhook endpoints; delete one first",
            [FieldError("url", "too many endpoints")],
        )
    secret = new_secret()
    endpoint_id = new_id("hook")
    conn.execute(
        insert(webhook_endpoints).values(
            id=endpoint_id, brand_id=brand_id, url=url, secret=secret, active=True, created_at=now
        )
    )
    row = conn.execute(select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)).one()
    return _json(row, secret)


def listed(conn: Connection, brand_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(webhook_endpoints)
        .where(webhook_endpoints.c.brand_id == brand_id)
        .order_by(webhook_endpoints.c.seq)
    ).all()
    return [_json(r) for r in rows]


def deactivate(conn: Connection, brand_id: str, endpoint_id: str) -> None:
    done = conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.id == endpoint_id, webhook_endpoints.c.brand_id == brand_id)
        .values(active=False)
    )
    if done.rowcount == 0:
        raise NotFound(f"webhook endpoint {endpoint_id} does not exist")


def rotate(conn: Connection, brand_id: str, endpoint_id: str, now: datetime) -> dict[str, Any]:
    """A new secret (returned once); the old one signs too until `ROTATION_GRACE` has passed."""
    e = webhook_endpoints.c
    row = conn.execute(
        select(webhook_endpoints).where(e.id == endpoint_id, e.brand_id == brand_id, e.active.is_(True))
    ).first()
    if row is None:
        raise NotFound(f"webhook endpoint {endpoint_id} does not exist")
    secret = new_secret()
    conn.execute(
        update(webhook_endpoints)
        .where(e.id == endpoint_id)
        .values(secret=secret, previous_secret=row.secret, previous_until=now + ROTATION_GRACE)
    )
    return {**_json(row, secret), "previous_secret_valid_until": rfc3339(now + ROTATION_GRACE)}


def active_ids(conn: Connection, brand_id: str) -> list[str]:
    e = webhook_endpoints.c
    return list(
        conn.execute(select(e.id).where(e.brand_id == brand_id, e.active.is_(True)).order_by(e.seq)).scalars()
    )


def signing(conn: Connection, endpoint_id: str, now: datetime) -> Endpoint | None:
    """The endpoint as an attempt needs it (None once deactivated: its deliveries stop)."""
    row = conn.execute(select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)).first()
    if row is None or not row.active:
        return None
    keys = [row.secret]
    if row.previous_secret and row.previous_until is not None and as_utc(row.previous_until) > now:
        keys.append(row.previous_secret)
    return Endpoint(row.id, row.brand_id, row.url, tuple(keys))
