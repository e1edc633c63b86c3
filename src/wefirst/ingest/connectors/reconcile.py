"""Per-connection figures and the daily reconciliation.

The counters answer "did the shop's deliveries reach us and were they believed"; the line
sums answer "what did they count and reverse". The daily check looks for the two failures
that matter to a donor: an order we saw that pledged nothing, and a pledge that no order we
saw explains."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from wefirst.domain.clock import as_utc, rfc3339
from wefirst.errors import invalid
from wefirst.ingest.connectors.accounts import ConnectionInfo
from wefirst.ingest.connectors.records import Source
from wefirst.ingest.connectors.state import business_key
from wefirst.store.tables_connectors import (
    connector_amount_refunds,
    connector_counters,
    connector_deliveries,
    connector_lines,
    connector_reconciliations,
    connector_reversals,
)
from wefirst.store.tables_core import campaigns, pledges

KEY_PREFIX = {
    Source.SHOPIFY: "shopify",
    Source.WOOCOMMERCE: "woo",
    Source.STRIPE: "stripe",
    Source.RETAIL: "retail",
}


def key_prefix(info: ConnectionInfo) -> str:
    return f"{KEY_PREFIX[info.platform]}:{info.account}:"


def status(conn: Connection, info: ConnectionInfo) -> dict[str, Any]:
    counters = {
        r.name: int(r._mapping["count"])
        for r in conn.execute(select(connector_counters).where(connector_counters.c.connection_id == info.id))
    }
    rejected = {name.split(":", 1)[1]: n for name, n in counters.items() if name.startswith("rejected:")}
    by_status = {
        r.status: int(r.n)
        for r in conn.execute(
            select(connector_deliveries.c.status, func.count().label("n"))
            .where(connector_deliveries.c.connection_id == info.id)
            .group_by(connector_deliveries.c.status)
        )
    }
    sums = conn.execute(
        select(
            func.coalesce(func.sum(connector_lines.c.quantity), 0),
            func.coalesce(func.sum(connector_lines.c.reversed), 0),
            func.coalesce(func.sum(connector_lines.c.pledged_units), 0),
            func.coalesce(func.sum(connector_lines.c.reversed_units), 0),
            func.count(),
        ).where(connector_lines.c.connection_id == info.id)
    ).one()
    outcomes = {
        r.outcome: int(r.n)
        for r in conn.execute(
            select(connector_lines.c.outcome, func.count().label("n"))
            .where(connector_lines.c.connection_id == info.id)
            .group_by(connector_lines.c.outcome)
        )
    }
    held = _held(conn, info.id)
    last = conn.execute(
        select(func.max(connector_deliveries.c.received_at)).where(
            connector_deliveries.c.connection_id == info.id
        )
    ).scalar()
    return {
        "object": "connection_status",
        "connection_id": info.id,
        "platform": info.platform.value,
        "deliveries": {
            "received": counters.get("received", 0),
            "verified": counters.get("verified", 0),
            "duplicates": counters.get("duplicate", 0),
            "rejected": sum(rejected.values()),
            "rejected_by_reason": dict(sorted(rejected.items())),
            "by_status": dict(sorted(by_status.items())),
            "last_received_at": rfc3339(last) if last else None,
        },
        "lines": {"count": int(sums[4]), "by_outcome": dict(sorted(outcomes.items()))},
        "units": {"counted": int(sums[0]), "reversed": int(sums[1])},
        "pledged_units": int(sums[2]),
        "reversed_units": int(sums[3]),
        "held_reversals": held,
    }


def _held(conn: Connection, connection_id: str) -> int:
    """Reversals still waiting for units (their order, or enough of it, not counted yet)."""
    counted = select(connector_lines.c.line_key).where(connector_lines.c.connection_id == connection_id)
    lines = int(
        conn.execute(
            select(func.count())
            .select_from(connector_reversals)
            .where(
                connector_reversals.c.connection_id == connection_id,
                connector_reversals.c.kind != "cancel",
                connector_reversals.c.target_line_key.is_not(None),
                connector_reversals.c.target_line_key.not_in(counted),
            )
        ).scalar()
        or 0
    )
    orders = select(connector_lines.c.order_ref).where(connector_lines.c.connection_id == connection_id)
    amounts = int(
        conn.execute(
            select(func.count())
            .select_from(connector_amount_refunds)
            .where(
                connector_amount_refunds.c.connection_id == connection_id,
                connector_amount_refunds.c.order_ref.not_in(orders),
            )
        ).scalar()
        or 0
    )
    pooled = int(
        conn.execute(
            select(func.count())
            .select_from(connector_reversals)
            .where(
                connector_reversals.c.connection_id == connection_id,
                connector_reversals.c.target_line_key.is_(None),
                connector_reversals.c.applied < connector_reversals.c.requested,
            )
        ).scalar()
        or 0
    )
    return lines + amounts + pooled


def reconcile_day(conn: Connection, info: ConnectionInfo, day: date, now: datetime) -> dict[str, Any]:
    if not date(2000, 1, 1) <= day <= date(2200, 1, 1):
        raise invalid("day", "a day between 2000-01-01 and 2200-01-01")
    start = datetime.combine(day, time(), UTC)
    end = start + timedelta(days=1)
    lines = conn.execute(
        select(connector_lines)
        .where(
            connector_lines.c.connection_id == info.id,
            connector_lines.c.occurred_at >= start,
            connector_lines.c.occurred_at < end,
        )
        .order_by(connector_lines.c.seq)
    ).all()
    orders: dict[str, list[Any]] = {}
    for line in lines:
        orders.setdefault(line.order_ref, []).append(line)
    without_pledges = [
        {"order_ref": ref, "lines": len(members), "outcomes": sorted({m.outcome for m in members})}
        for ref, members in orders.items()
        if not any(m.outcome == "pledged" for m in members)
    ]
    ours = {business_key(line.line_key) for line in lines}
    found = conn.execute(
        select(pledges.c.id, pledges.c.line_key, pledges.c.campaign_id)
        .join(campaigns, campaigns.c.id == pledges.c.campaign_id)
        .where(
            campaigns.c.brand_id == info.brand_id,
            pledges.c.source == info.platform.value,
            pledges.c.line_key.startswith(key_prefix(info), autoescape=True),
            pledges.c.occurred_at >= start,
            pledges.c.occurred_at < end,
        )
    ).all()
    orphans = [
        {"pledge_id": p.id, "campaign_id": p.campaign_id, "line_key": p.line_key}
        for p in found
        if p.line_key not in ours
    ]
    stuck = conn.execute(
        select(connector_deliveries.c.id, connector_deliveries.c.status, connector_deliveries.c.note).where(
            connector_deliveries.c.connection_id == info.id,
            connector_deliveries.c.status.in_(["queued", "failed"]),
            connector_deliveries.c.received_at < end,
        )
    ).all()
    flags = {
        "orders_without_pledges": without_pledges,
        "pledges_without_orders": orphans,
        "unprocessed_deliveries": [{"delivery_id": d.id, "status": d.status, "note": d.note} for d in stuck],
        "held_reversals": _held(conn, info.id),
    }
    conn.execute(
        delete(connector_reconciliations).where(
            connector_reconciliations.c.connection_id == info.id,
            connector_reconciliations.c.day == day.isoformat(),
        )
    )
    conn.execute(
        insert(connector_reconciliations).values(
            connection_id=info.id, day=day.isoformat(), flags=flags, ran_at=now
        )
    )
    return {
        "object": "connection_reconciliation",
        "connection_id": info.id,
        "day": day.isoformat(),
        "ran_at": rfc3339(as_utc(now)),
        "orders_seen": len(orders),
        "ok": not (without_pledges or orphans or stuck),
        **flags,
    }
