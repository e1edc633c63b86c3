"""Where a brand wants its voice alerts sent: endpoints and their signing secrets."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Connection, insert, select, update

from wefirst.domain.clock import rfc3339, utcnow
from wefirst.domain.ids import new_id
from wefirst.errors import NotFound
from wefirst.store.tables_voice import voice_alert_endpoints
from wefirst.voice.alerts import Endpoint
from wefirst.voice.brand_settings import brand_exists


def endpoint_json(row: Any, secret: str | None = None) -> dict[str, Any]:
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


def create_endpoint(conn: Connection, brand_id: str, url: str) -> dict[str, Any]:
    brand_exists(conn, brand_id)
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint_id = new_id("hook")
    conn.execute(
        insert(voice_alert_endpoints).values(
            id=endpoint_id, brand_id=brand_id, url=url, secret=secret, active=True, created_at=utcnow()
        )
    )
    row = conn.execute(select(voice_alert_endpoints).where(voice_alert_endpoints.c.id == endpoint_id)).one()
    return endpoint_json(row, secret)


def list_endpoints(conn: Connection, brand_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(voice_alert_endpoints)
        .where(voice_alert_endpoints.c.brand_id == brand_id)
        .order_by(voice_alert_endpoints.c.seq)
    ).all()
    return [endpoint_json(r) for r in rows]


def delete_endpoint(conn: Connection, brand_id: str, endpoint_id: str) -> None:
    done = conn.execute(
        update(voice_alert_endpoints)
        .where(voice_alert_endpoints.c.id == endpoint_id, voice_alert_endpoints.c.brand_id == brand_id)
        .values(active=False)
    )
    if done.rowcount == 0:
        raise NotFound(f"alert endpoint {endpoint_id} does not exist")


def active_endpoints(conn: Connection, brand_id: str) -> list[Endpoint]:
    rows = conn.execute(
        select(voice_alert_endpoints).where(
            voice_alert_endpoints.c.brand_id == brand_id, voice_alert_endpoints.c.active.is_(True)
        )
    ).all()
    return [Endpoint(r.id, r.brand_id, r.url, (r.secret,)) for r in rows]
