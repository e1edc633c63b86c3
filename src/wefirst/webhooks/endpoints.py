"""A brand's webhook endpoints: every event of every area goes to each active one. The secret
is shown once, at creation or rotation; after a rotation the previous secret keeps signing
beside the new one for a grace period, so the receiver can switch without losing a delivery.

Secrets are sealed at rest with the app's secret box (issue 13 #7), bound to their endpoint, so
a database dump does not let anyone sign events a brand's receiver would trust. Rows written
before that hold the `whsec_` text itself: they are read as they are and sealed by the upkeep
pass (`seal_legacy`)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from wefirst.domain.clock import as_utc, rfc3339
from wefirst.domain.ids import new_id
from wefirst.errors import Conflict, FieldError, NotFound
from wefirst.secretbox import SecretBox
from wefirst.store.tables_webhooks import webhook_endpoints
from wefirst.webhooks.signing import new_secret

ROTATION_GRACE = timedelta(hours=24)
SEALED = "sealed:"
_CLEAR = "whsec_"


def _seal(box: SecretBox, endpoint_id: str, secret: str) -> str:
    return SEALED + base64.b64encode(box.seal(secret, bound_to=f"webhook_endpoint:{endpoint_id}")).decode()


def _open(box: SecretBox, endpoint_id: str, stored: str) -> str:
    if stored.startswith(_CLEAR):
        return stored  # written before secrets were sealed; `seal_legacy` seals it
    blob = base64.b64decode(stored.removeprefix(SEALED))
    return box.open(blob, bound_to=f"webhook_endpoint:{endpoint_id}")


def seal_legacy(conn: Connection, box: SecretBox) -> int:
    """Seal secrets stored in clear by earlier versions; returns endpoints changed."""
    e = webhook_endpoints.c
    rows = conn.execute(
        select(e.id, e.secret, e.previous_secret).where(
            e.secret.startswith(_CLEAR) | e.previous_secret.startswith(_CLEAR)
        )
    ).all()
    for row in rows:
        previous = row.previous_secret
        if previous is not None and previous.startswith(_CLEAR):
            previous = _seal(box, row.id, previous)
        secret = _seal(box, row.id, row.secret) if row.secret.startswith(_CLEAR) else row.secret
        conn.execute(
            update(webhook_endpoints).where(e.id == row.id).values(secret=secret, previous_secret=previous)
        )
    return len(rows)


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


def create(conn: Connection, box: SecretBox, brand_id: str, url: str, now: datetime) -> dict[str, Any]:
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
            id=endpoint_id,
            brand_id=brand_id,
            url=url,
            secret=_seal(box, endpoint_id, secret),
            active=True,
            created_at=now,
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


def rotate(
    conn: Connection, box: SecretBox, brand_id: str, endpoint_id: str, now: datetime
) -> dict[str, Any]:
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
        .values(
            secret=_seal(box, endpoint_id, secret),
            previous_secret=row.secret,  # sealed to this endpoint too (or clear, sealed later)
            previous_until=now + ROTATION_GRACE,
        )
    )
    return {**_json(row, secret), "previous_secret_valid_until": rfc3339(now + ROTATION_GRACE)}


def active_ids(conn: Connection, brand_id: str) -> list[str]:
    e = webhook_endpoints.c
    return list(
        conn.execute(select(e.id).where(e.brand_id == brand_id, e.active.is_(True)).order_by(e.seq)).scalars()
    )


def is_active(conn: Connection, endpoint_id: str) -> bool:
    e = webhook_endpoints.c
    return conn.execute(select(e.seq).where(e.id == endpoint_id, e.active.is_(True))).first() is not None


def signing(conn: Connection, box: SecretBox, endpoint_id: str, now: datetime) -> Endpoint | None:
    """The endpoint as an attempt needs it (None once deactivated: its deliveries stop)."""
    row = conn.execute(select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)).first()
    if row is None or not row.active:
        return None
    keys = [_open(box, row.id, row.secret)]
    if row.previous_secret and row.previous_until is not None and as_utc(row.previous_until) > now:
        keys.append(_open(box, row.id, row.previous_secret))
    return Endpoint(row.id, row.brand_id, row.url, tuple(keys))
