"""Settling an order: each open reversal takes what it asked for, capped at what its line
counted and has not yet reversed.

Because settling only looks at the recorded facts (`state.py`), the final pledges do not depend
on the order in which the facts arrived, and a refund that comes before its order simply waits
(it has no line to take from yet). A cancellation asks every line back in full; a cumulative
Stripe refund is turned into units per line (`stripe_events.units_for_refund`)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, exists, insert, select, update

from wefirst.ingest.connectors import state
from wefirst.ingest.connectors.stripe_events import units_for_refund
from wefirst.pledges import engine
from wefirst.pledges.model import RefundIn, RefundLineIn
from wefirst.store.tables_connectors import (
    connector_amount_refunds,
    connector_lines,
    connector_orders,
    connector_reversals,
)


def _refund_id(key: str, applied_after: int) -> str:
    """One id per increment of one reversal row, so a later increment (a larger cumulative
    Stripe refund) is a new reversal while a replay of the same one is a duplicate."""
    return "cx:" + hashlib.sha256(f"{key}@{applied_after}".encode()).hexdigest()[:32]


def settle(a: state.Applying, order_ref: str, *, cancel_new: bool = False) -> None:
    """Let each open reversal of the order take what it asks for, in the order they were
    recorded, from what its lines counted and have not yet given back. `cancel_new`: the order
    was first seen cancelled by this delivery (its order-level pledge is then reversed too)."""
    conn, info, now = a.conn, a.info, a.now
    if not _has_reversals(conn, info.id, order_ref):
        return  # the common case, a sale with nothing against it: one query
    lines = list(
        conn.execute(
            select(connector_lines)
            .where(
                connector_lines.c.connection_id == info.id,
                connector_lines.c.order_ref == order_ref,
            )
            .order_by(connector_lines.c.position, connector_lines.c.seq)
        )
    )
    order = conn.execute(
        select(connector_orders).where(
            connector_orders.c.connection_id == info.id, connector_orders.c.order_ref == order_ref
        )
    ).first()
    _derive_amount_rows(conn, info.id, order_ref, lines, a.delivery_id)
    if order is not None and order.cancel_key:
        _derive_cancel_rows(a, order, lines)
    capacity = {line.line_key: line.quantity - line.reversed for line in lines}
    by_key = {line.line_key: line for line in lines}
    rows = conn.execute(
        select(connector_reversals)
        .where(
            connector_reversals.c.connection_id == info.id,
            connector_reversals.c.order_ref == order_ref,
        )
        .order_by(connector_reversals.c.seq)
    ).all()
    took_any = False
    for row in rows:
        takes = _takes(row, lines, by_key, capacity)
        if takes:
            took_any = True
            _apply_reversal(a, order_ref, row, takes)
    if order is not None and order.cancel_key and (cancel_new or took_any):
        # the order-level pledge (a per-order rule) is reversed by the cancellation itself
        engine.apply_refund(
            conn,
            brand_id=info.brand_id,
            now=now,
            batch=a.batch,
            refund=RefundIn(
                order_id=order_ref,
                refund_id=_refund_id(order.cancel_key, 0),
                lines=[],
                reason="cancel",
                occurred_at=order.cancelled_at,
            ),
        )


def _takes(
    row: Row[Any], lines: Sequence[Row[Any]], by_key: dict[str, Row[Any]], capacity: dict[str, int]
) -> list[tuple[Row[Any], int]]:
    """What one reversal row takes now: from its target line, or (a cancellation) from every
    line of the order in turn; never more than it still asks for (all, for a cancellation) nor
    than a line has left in `capacity`, which is lowered by what is taken."""
    want = None if row.requested is None else row.requested - row.applied
    if want is not None and want <= 0:
        return []
    targets = [row.target_line_key] if row.target_line_key else [ln.line_key for ln in lines]
    takes: list[tuple[Row[Any], int]] = []
    for target in targets:
        room = capacity.get(target, 0)
        take = room if want is None else min(room, want)
        if take <= 0:
            continue
        takes.append((by_key[target], take))
        capacity[target] = room - take
        if want is not None:
            want -= take
    return takes


def _derive_cancel_rows(a: state.Applying, order: Row[Any], lines: Sequence[Row[Any]]) -> None:
    """A cancelled order asks every line back in full: one reversal row per line, made once."""
    for line in lines:
        key = f"{order.cancel_key}:{line.line_ref}"
        if state.reversal_row(a.conn, a.info.id, key) is None:
            a.conn.execute(
                insert(connector_reversals).values(
                    connection_id=a.info.id,
                    reversal_key=key,
                    order_ref=order.order_ref,
                    target_line_key=line.line_key,
                    kind="cancel",
                    requested=None,
                    applied=0,
                    occurred_at=order.cancelled_at or a.now,
                    delivery_id=a.delivery_id,
                )
            )


def _has_reversals(conn: Connection, connection_id: str, order_ref: str) -> bool:
    """Whether any refund, cancellation or Stripe amount refund concerns the order."""
    reversal = exists().where(
        connector_reversals.c.connection_id == connection_id, connector_reversals.c.order_ref == order_ref
    )
    amount = exists().where(
        connector_amount_refunds.c.connection_id == connection_id,
        connector_amount_refunds.c.order_ref == order_ref,
    )
    cancelled = exists().where(
        connector_orders.c.connection_id == connection_id,
        connector_orders.c.order_ref == order_ref,
        connector_orders.c.cancel_key.is_not(None),
    )
    return bool(conn.execute(select(reversal | amount | cancelled)).scalar())


def _derive_amount_rows(
    conn: Connection,
    connection_id: str,
    order_ref: str,
    lines: Sequence[Row[Any]],
    delivery_id: str,
) -> None:
    """Stripe refunds are money: turn the largest cumulative amount into units per line
    (`units_for_refund`), as targeted reversal rows whose request only ever grows."""
    refunds = conn.execute(
        select(connector_amount_refunds).where(
            connector_amount_refunds.c.connection_id == connection_id,
            connector_amount_refunds.c.order_ref == order_ref,
        )
    ).all()
    for refund in refunds:
        units = units_for_refund(
            [(ln.line_key, ln.quantity, ln.unit_price) for ln in lines],
            refund.cumulative,
            bool(refund.fully_refunded),
        )
        for line in lines:
            want = units.get(line.line_key, 0)
            key = f"{refund.reversal_key}:{line.line_ref}"
            row = state.reversal_row(conn, connection_id, key)
            if row is None and want > 0:
                conn.execute(
                    insert(connector_reversals).values(
                        connection_id=connection_id,
                        reversal_key=key,
                        order_ref=order_ref,
                        target_line_key=line.line_key,
                        kind="amount",
                        requested=want,
                        applied=0,
                        occurred_at=refund.occurred_at,
                        delivery_id=delivery_id,
                    )
                )
            elif row is not None and want > (row.requested or 0):
                conn.execute(
                    update(connector_reversals)
                    .where(connector_reversals.c.seq == row.seq)
                    .values(requested=want)
                )


def _apply_reversal(
    a: state.Applying, order_ref: str, row: Row[Any], takes: Sequence[tuple[Row[Any], int]]
) -> None:
    conn, info = a.conn, a.info
    total = sum(take for _, take in takes)
    conn.execute(
        update(connector_reversals)
        .where(connector_reversals.c.seq == row.seq)
        .values(applied=row.applied + total)
    )
    for line, take in takes:
        conn.execute(
            update(connector_lines)
            .where(connector_lines.c.seq == line.seq)
            .values(reversed=connector_lines.c.reversed + take)
        )
    pledged = [(line, take) for line, take in takes if line.outcome == "pledged"]
    if not pledged:
        return
    results = engine.apply_refund(
        conn,
        brand_id=info.brand_id,
        now=a.now,
        batch=a.batch,
        refund=RefundIn(
            order_id=order_ref,
            refund_id=_refund_id(row.reversal_key, row.applied + total),
            lines=[
                RefundLineIn(line_id=line.line_ref, quantity=take, line_key=state.business_key(line.line_key))
                for line, take in pledged
            ],
            reason="cancel" if row.kind == "cancel" else "refund",
            occurred_at=row.occurred_at,
        ),
    )
    for line, _ in pledged:
        units = sum(r.units for r in results if r.line_id == line.line_ref and r.outcome == "reversed")
        a.report.reversed_units += units
        if units:
            conn.execute(
                update(connector_lines)
                .where(connector_lines.c.seq == line.seq)
                .values(reversed_units=connector_lines.c.reversed_units + units)
            )
