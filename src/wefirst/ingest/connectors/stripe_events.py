"""Stripe snapshot events → normalised lines (spec section 3).

Checkout sales count on `checkout.session.completed` (or `…async_payment_succeeded` for
delayed methods) with line items fetched from the API; `payment_intent.succeeded` counts only
for custom integrations that list SKUs in `metadata.wefirst_items`, so a Checkout payment is
never counted twice; `charge.refunded` carries a cumulative refunded amount."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from wefirst.ingest.connectors import _payload as p
from wefirst.ingest.connectors.errors import AccountMismatch, MalformedPayload
from wefirst.ingest.connectors.records import (
    AmountRefund,
    CheckoutToFetch,
    NormalisedLine,
    ParsedDelivery,
    ProductRef,
    Source,
)

CHECKOUT_TYPES = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
ITEMS_METADATA_KEY = "wefirst_items"
"""[wefirst proposal] `SKU:QTY[:UNIT_AMOUNT]` entries separated by commas, e.g.
`PAMPERS-BABYDRY-S3-52:2:2499,PG-PURIFIER-OF-WATER-240:1`."""
_ITEM = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._/-]{0,99}):([1-9][0-9]{0,5})(?::([0-9]{1,12}))?$")


def sale_key(account: str, session_or_intent: str, line_id: str) -> str:
    return f"stripe:{account}:{session_or_intent}:{line_id}"


def parse(raw_body: bytes, *, account: str, raw_ref: str) -> ParsedDelivery:
    event = p.load_object(raw_body)
    event_id = p.string(event, "id", "$")
    kind = p.string(event, "type", "$")
    livemode = p.boolean(event, "livemode", "$")
    created = p.unix_time(event, "created", "$")
    event_account = event.get("account")
    if isinstance(event_account, str) and account.startswith("acct_") and event_account != account:
        raise AccountMismatch(f"event for {event_account}, connection is {account}")
    data = p.obj(event, "data", "$")
    obj = p.obj(data, "object", "$.data")
    path = "$.data.object"
    base: dict[str, Any] = {
        "source": Source.STRIPE,
        "account": account,
        "topic": kind,
        "is_test": not livemode,
        "occurred_at": created,
        "event_id": event_id,
    }
    if kind in CHECKOUT_TYPES:
        session_id = p.string(obj, "id", path)
        status = p.string(obj, "payment_status", path)
        order_ref = _intent_id(obj, path) or session_id
        if kind == "checkout.session.completed" and status == "unpaid":
            return ParsedDelivery(
                **base, order_ref=order_ref, ignored="unpaid session: counted on async_payment_succeeded"
            )
        fetch = CheckoutToFetch(
            session_id=session_id,
            order_ref=order_ref,
            currency=p.currency(obj, "currency", path),
            occurred_at=p.unix_time(obj, "created", path),
        )
        return ParsedDelivery(**base, order_ref=order_ref, checkout=fetch)
    if kind == "charge.refunded":
        return ParsedDelivery(**base, **_charge_refunded(obj, account=account, path=path))
    if kind == "payment_intent.succeeded":
        return _payment_intent(obj, base, account=account, raw_ref=raw_ref, path=path)
    return ParsedDelivery(**base, ignored=f"event type {kind!r} is not used")


def _intent_id(obj: p.JsonObject, path: str) -> str | None:
    value = obj.get("payment_intent")
    if isinstance(value, dict):  # expanded
        return p.string(value, "id", f"{path}.payment_intent")
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise MalformedPayload(f"{path}.payment_intent", "expected an id")
    return value


def _charge_refunded(obj: p.JsonObject, *, account: str, path: str) -> dict[str, Any]:
    charge_id = p.string(obj, "id", path)
    amount = p.integer(obj, "amount", path)
    refunded = p.integer(obj, "amount_refunded", path)
    if amount < 0 or not 0 <= refunded <= amount:
        raise MalformedPayload(f"{path}.amount_refunded", "must be between 0 and amount")
    order_ref = _intent_id(obj, path) or charge_id
    refund = AmountRefund(
        reversal_key=f"stripe:{account}:refund:{charge_id}",
        order_ref=order_ref,
        charge_id=charge_id,
        cumulative_minor=refunded,
        charge_amount_minor=amount,
        fully_refunded=p.boolean(obj, "refunded", path) or refunded == amount,
        currency=p.currency(obj, "currency", path),
        occurred_at=p.unix_time(obj, "created", path),
    )
    return {"order_ref": order_ref, "amount_refunds": (refund,)}


def _payment_intent(
    obj: p.JsonObject, base: dict[str, Any], *, account: str, raw_ref: str, path: str
) -> ParsedDelivery:
    intent_id = p.string(obj, "id", path)
    metadata = p.string_map(obj, "metadata", path)
    spec = metadata.get(ITEMS_METADATA_KEY)
    if not spec:
        return ParsedDelivery(
            **base, order_ref=intent_id, ignored="no wefirst_items metadata (Checkout counts the session)"
        )
    currency = p.currency(obj, "currency", path)
    lines: list[NormalisedLine] = []
    for n, entry in enumerate(spec.split(",")):
        match = _ITEM.match(entry.strip())
        if match is None:
            raise MalformedPayload(
                f"{path}.metadata.{ITEMS_METADATA_KEY}", f"item {n} {entry!r} is not SKU:QTY[:UNIT]"
            )
        sku, qty, unit = match.group(1), int(match.group(2)), match.group(3)
        lines.append(
            NormalisedLine(
                source=Source.STRIPE,
                account=account,
                external_id=intent_id,
                line_key=sale_key(account, intent_id, str(n)),
                sku=sku,
                quantity_delta=qty,
                unit_price_minor=int(unit) if unit is not None else None,
                currency=currency,
                occurred_at=p.unix_time(obj, "created", path),
                is_test=base["is_test"],
                raw_ref=raw_ref,
                order_ref=intent_id,
                line_ref=str(n),
                product=ProductRef(sku=sku),
            )
        )
    return ParsedDelivery(**base, order_ref=intent_id, sales=tuple(lines))


def checkout_lines(
    fetch: CheckoutToFetch,
    items: Sequence[Mapping[str, Any]],
    *,
    account: str,
    is_test: bool,
    raw_ref: str,
) -> tuple[NormalisedLine, ...]:
    """Line items (price and product expanded) → sale lines, in the API's order, which is also
    the order in which amount-only refunds reverse units."""
    lines: list[NormalisedLine] = []
    for i, item in enumerate(p.seq_of_objects(list(items), "$line_items")):
        path = f"$line_items[{i}]"
        line_id = p.string(item, "id", path)
        qty = p.quantity(item, "quantity", path)
        price = p.obj(item, "price", path)
        lookup_key = p.opt_string(price, "lookup_key", f"{path}.price")
        product = price.get("product")
        metadata: dict[str, str] = {}
        product_id: str | None = None
        if isinstance(product, dict):
            metadata = p.string_map(product, "metadata", f"{path}.price.product")
            product_id = p.string(product, "id", f"{path}.price.product")
        elif isinstance(product, str):
            product_id = product
        unit = price.get("unit_amount")
        if isinstance(unit, bool) or not isinstance(unit, int):
            total = p.integer(item, "amount_total", path)
            unit = total // qty
        sku = metadata.get("sku") or lookup_key
        lines.append(
            NormalisedLine(
                source=Source.STRIPE,
                account=account,
                external_id=fetch.session_id,
                line_key=sale_key(account, fetch.session_id, line_id),
                sku=sku,
                quantity_delta=qty,
                unit_price_minor=unit,
                currency=fetch.currency,
                occurred_at=fetch.occurred_at,
                is_test=is_test,
                raw_ref=raw_ref,
                order_ref=fetch.order_ref,
                line_ref=line_id,
                product=ProductRef(
                    sku=metadata.get("sku"),
                    product_id=product_id,
                    lookup_key=lookup_key,
                    metadata=metadata,
                ),
                # a price's `tax_behavior` says whether `unit_amount` includes tax
                includes_tax={"inclusive": True, "exclusive": False}.get(str(price.get("tax_behavior"))),
                tax_minor=p.opt_integer(item, "amount_tax", path),
            )
        )
    return tuple(lines)


def units_for_refund(
    lines: Sequence[tuple[str, int, int | None]], cumulative_minor: int, fully_refunded: bool
) -> dict[str, int]:
    """[wefirst proposal] Units to reverse per line for a cumulative refunded amount.

    `lines` are `(line_key, units, unit_price_minor)` in the session's order. Each line takes
    `floor(remaining / unit price)` units, capped at its units; a full refund takes them all.
    A pure function of the cumulative amount, so redeliveries and reordering cannot drift."""
    out: dict[str, int] = {}
    remaining = cumulative_minor
    for key, units, unit_price in lines:
        if fully_refunded:
            out[key] = units
            continue
        if not unit_price or unit_price <= 0 or remaining <= 0:
            out[key] = 0
            continue
        take = min(units, remaining // unit_price)
        out[key] = take
        remaining -= take * unit_price
    return out
