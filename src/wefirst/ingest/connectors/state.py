"""Per-line counters: where connector facts are recorded, and new sale lines pledged.

Every fact is recorded first (a sale line, a refund line, a cancellation, a cumulative Stripe
refund); new sale lines are pledged here at once. Reversals are settled afterwards, per order,
by `settling.py`, so the final pledges do not depend on the order in which the facts arrived.

Pledges and reversals are made only through `wefirst.pledges.engine`, in the caller's
transaction, with business line keys so that the ledger's own uniqueness backs ours up."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, select, update

from wefirst.domain.claims import ClaimWindow, claim_refusal
from wefirst.ingest.connectors.accounts import ConnectionInfo
from wefirst.ingest.connectors.mapping import ProductMapping, Resolved
from wefirst.ingest.connectors.records import (
    AmountRefund,
    NormalisedLine,
    OrderCancellation,
)
from wefirst.pledges import engine
from wefirst.pledges.batch import Batch
from wefirst.pledges.model import LineIn, PurchaseIn
from wefirst.store.tables_connectors import (
    connector_amount_refunds,
    connector_lines,
    connector_orders,
    connector_reversals,
)
from wefirst.store.tables_core import campaigns

MAX_LEDGER_KEY = 180
"""The ledger's keys are 255 characters and a reversal key wraps the line key with ~70 more."""


def business_key(line_key: str) -> str:
    """The key the ledger sees: the line key itself, or a stable hash-suffixed prefix when a
    long shop URL would not fit."""
    if len(line_key) <= MAX_LEDGER_KEY:
        return line_key
    return line_key[:120] + "#" + hashlib.sha256(line_key.encode("utf-8")).hexdigest()[:40]


@dataclass
class ApplyReport:
    new_lines: int = 0
    duplicate_lines: int = 0
    new_reversals: int = 0
    pledged_units: int = 0
    reversed_units: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "new_lines": self.new_lines,
            "duplicate_lines": self.duplicate_lines,
            "new_reversals": self.new_reversals,
            "pledged_units": self.pledged_units,
            "reversed_units": self.reversed_units,
            "outcomes": self.outcomes,
        }


@dataclass(frozen=True)
class Applying:
    """One delivery's facts being applied: the caller's transaction and connection, the
    delivery they came in, the time, the report they fill, and the caller's unit of work
    (`Batch`; None: each engine call is its own). Every step of applying needs all of them."""

    conn: Connection
    info: ConnectionInfo
    delivery_id: str
    now: datetime
    report: ApplyReport = field(default_factory=ApplyReport)
    batch: Batch | None = None


def ensure_orders(conn: Connection, connection_id: str, order_refs: Iterable[str], now: datetime) -> set[str]:
    """Records the orders not seen before; returns those that were already known."""
    refs = sorted(set(order_refs))
    if not refs:
        return set()
    known = {
        r.order_ref
        for r in conn.execute(
            select(connector_orders.c.order_ref).where(
                connector_orders.c.connection_id == connection_id, connector_orders.c.order_ref.in_(refs)
            )
        )
    }
    missing = [
        {"connection_id": connection_id, "order_ref": ref, "first_seen_at": now}
        for ref in refs
        if ref not in known
    ]
    if missing:
        conn.execute(insert(connector_orders), missing)
    return known


def ensure_order(conn: Connection, connection_id: str, order_ref: str, now: datetime) -> None:
    ensure_orders(conn, connection_id, [order_ref], now)


@dataclass(frozen=True)
class ClaimCheck:
    """The claim window for a delivery's new sale lines (`domain/claims.py`): a line of an
    order not known before this delivery, claiming a time outside the window around the
    delivery's receipt, is recorded as `claim_refused` and pledges nothing. Orders already
    known (a redelivery, an update of an order first seen in time) are not re-judged."""

    window: ClaimWindow
    received_at: datetime
    known_orders: frozenset[str]

    def refusal(self, line: NormalisedLine) -> str | None:
        if line.order_ref in self.known_orders:
            return None
        return claim_refusal(line.occurred_at, self.received_at, self.window)


CLAIM_REFUSED = "claim_refused"
_CHUNK = 500  # keys per IN (…) list, well under every driver's parameter limit


def record_sales(
    a: Applying,
    mapping: ProductMapping,
    lines: Sequence[NormalisedLine],
    *,
    on_line: Callable[[int], None] | None = None,
    claim: ClaimCheck | None = None,
    received_at: datetime | None = None,
) -> set[str]:
    """Insert the lines not seen before and pledge them; returns the orders touched. Day caps
    count on `received_at` (the delivery's receipt), whatever day the line claims.
    Set-based (one look-up and one multi-row insert per chunk), since a retailer report can
    hold thousands of lines."""
    conn, info, report = a.conn, a.info, a.report
    fresh: list[tuple[NormalisedLine, Resolved]] = []
    for start in range(0, len(lines), _CHUNK):
        chunk = lines[start : start + _CHUNK]
        seen = {
            r.line_key
            for r in conn.execute(
                select(connector_lines.c.line_key).where(
                    connector_lines.c.connection_id == info.id,
                    connector_lines.c.line_key.in_([line.line_key for line in chunk]),
                )
            )
        }
        rows: list[dict[str, Any]] = []
        for offset, line in enumerate(chunk):
            position = start + offset
            if on_line is not None:
                on_line(position + 1)
            if line.line_key in seen:
                report.duplicate_lines += 1
                continue
            seen.add(line.line_key)
            resolved = mapping.resolve(line.product, line.sku)
            refused = claim.refusal(line) if claim is not None else None
            rows.append(
                {
                    "connection_id": info.id,
                    "line_key": line.line_key,
                    "order_ref": line.order_ref,
                    "line_ref": line.line_ref,
                    "position": position,
                    "sku": resolved.sku,
                    "campaign_id": resolved.campaign_id,
                    "quantity": line.quantity_delta,
                    "reversed": 0,
                    "unit_price": line.unit_price_minor,
                    "currency": line.currency,
                    "occurred_at": line.occurred_at,
                    "outcome": CLAIM_REFUSED if refused else "unmapped",
                    "pledged_units": 0,
                    "reversed_units": 0,
                    "delivery_id": a.delivery_id,
                }
            )
            report.new_lines += 1
            if refused:
                report.outcomes[CLAIM_REFUSED] = report.outcomes.get(CLAIM_REFUSED, 0) + 1
            elif resolved.mapped and resolved.sku:
                fresh.append((line, resolved))
            else:
                report.outcomes["unmapped"] = report.outcomes.get("unmapped", 0) + 1
        if rows:
            conn.execute(insert(connector_lines), rows)
    _pledge(a, fresh, received_at)
    return {line.order_ref for line in lines}


def _currency(conn: Connection, campaign_id: str | None, line: NormalisedLine) -> str:
    if line.currency:
        return line.currency
    if campaign_id is not None:
        value = conn.execute(select(campaigns.c.definition).where(campaigns.c.id == campaign_id)).scalar()
        if isinstance(value, dict) and isinstance(value.get("currency"), str):
            return str(value["currency"])
    return "EUR"  # retail reports carry units, not money; per-unit rules ignore it


def _pledge(
    a: Applying, fresh: Sequence[tuple[NormalisedLine, Resolved]], received_at: datetime | None = None
) -> None:
    conn, info, report = a.conn, a.info, a.report
    groups: dict[tuple[str, str | None, datetime], list[tuple[NormalisedLine, Resolved]]] = {}
    for line, resolved in fresh:
        groups.setdefault((line.order_ref, resolved.campaign_id, line.occurred_at), []).append(
            (line, resolved)
        )
    for (order_ref, campaign_id, occurred_at), members in groups.items():
        purchase = PurchaseIn(
            order_id=order_ref,
            currency=_currency(conn, campaign_id, members[0][0]),
            occurred_at=occurred_at,
            lines=[
                LineIn(
                    sku=resolved.sku or "",
                    quantity=line.quantity_delta,
                    unit_price=line.unit_price_minor or 0,
                    line_id=line.line_ref,
                    line_key=business_key(line.line_key),
                    tax=line.tax_minor,
                    includes_tax=line.includes_tax,
                )
                for line, resolved in members
            ],
            campaign_id=campaign_id,
            source=info.platform.value,
            received_at=received_at,
        )
        results = engine.apply_purchase(
            conn, brand_id=info.brand_id, purchase=purchase, livemode=info.livemode, batch=a.batch
        )
        updates: list[dict[str, Any]] = []
        for line, _ in members:
            mine = [r for r in results if r.line_id == line.line_ref]
            pledged = [r for r in mine if r.outcome == "pledged"]
            outcome = "pledged" if pledged else (mine[0].outcome if mine else "no_rule")
            units = sum(r.units for r in pledged)
            report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1
            report.pledged_units += units
            updates.append({"k": line.line_key, "o": outcome, "u": units})
        conn.execute(
            update(connector_lines)
            .where(
                connector_lines.c.connection_id == info.id,
                connector_lines.c.line_key == bindparam("k"),
            )
            .values(outcome=bindparam("o"), pledged_units=bindparam("u")),
            updates,
        )


def record_reversals(
    conn: Connection,
    connection_id: str,
    lines: Iterable[NormalisedLine],
    *,
    kind: str,
    delivery_id: str,
    report: ApplyReport,
) -> set[str]:
    orders: set[str] = set()
    for line in lines:
        orders.add(line.order_ref)
        if reversal_row(conn, connection_id, line.line_key) is not None:
            continue
        conn.execute(
            insert(connector_reversals).values(
                connection_id=connection_id,
                reversal_key=line.line_key,
                order_ref=line.order_ref,
                target_line_key=line.target_line_key,
                kind=kind,
                requested=-line.quantity_delta,
                applied=0,
                occurred_at=line.occurred_at,
                delivery_id=delivery_id,
            )
        )
        report.new_reversals += 1
    return orders


def reversal_row(conn: Connection, connection_id: str, key: str) -> Row[Any] | None:
    return conn.execute(
        select(connector_reversals).where(
            connector_reversals.c.connection_id == connection_id, connector_reversals.c.reversal_key == key
        )
    ).first()


def record_cancellation(
    conn: Connection, connection_id: str, cancel: OrderCancellation, now: datetime
) -> bool:
    """True when this is the first time the order is seen cancelled."""
    ensure_order(conn, connection_id, cancel.order_ref, now)
    result = conn.execute(
        update(connector_orders)
        .where(
            connector_orders.c.connection_id == connection_id,
            connector_orders.c.order_ref == cancel.order_ref,
            connector_orders.c.cancel_key.is_(None),
        )
        .values(cancel_key=cancel.key_prefix, cancelled_at=cancel.occurred_at)
    )
    return result.rowcount > 0


def record_amount_refund(conn: Connection, connection_id: str, refund: AmountRefund, now: datetime) -> None:
    """Keep the largest cumulative amount seen: Stripe's `amount_refunded` only grows."""
    ensure_order(conn, connection_id, refund.order_ref, now)
    row = conn.execute(
        select(connector_amount_refunds).where(
            connector_amount_refunds.c.connection_id == connection_id,
            connector_amount_refunds.c.charge_id == refund.charge_id,
        )
    ).first()
    if row is None:
        conn.execute(
            insert(connector_amount_refunds).values(
                connection_id=connection_id,
                charge_id=refund.charge_id,
                order_ref=refund.order_ref,
                reversal_key=refund.reversal_key,
                cumulative=refund.cumulative_minor,
                amount=refund.charge_amount_minor,
                fully_refunded=refund.fully_refunded,
                occurred_at=refund.occurred_at,
            )
        )
    elif refund.cumulative_minor > row.cumulative or (refund.fully_refunded and not row.fully_refunded):
        conn.execute(
            update(connector_amount_refunds)
            .where(
                connector_amount_refunds.c.connection_id == connection_id,
                connector_amount_refunds.c.charge_id == refund.charge_id,
            )
            .values(
                cumulative=max(row.cumulative, refund.cumulative_minor),
                fully_refunded=row.fully_refunded or refund.fully_refunded,
                occurred_at=refund.occurred_at,
            )
        )
