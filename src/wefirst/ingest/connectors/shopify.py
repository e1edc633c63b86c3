"""Shopify order and refund webhooks → normalised lines (spec section 1).

`orders/create` is not a sale: units count on `orders/paid`, or on `orders/create|updated`
when the order is already paid; the business line key makes the pair count once."""

from __future__ import annotations

from datetime import datetime

from wefirst.ingest.connectors import _payload as p
from wefirst.ingest.connectors.errors import MalformedPayload
from wefirst.ingest.connectors.lines import LineFormat, sale_lines
from wefirst.ingest.connectors.records import (
    NormalisedLine,
    OrderCancellation,
    ParsedDelivery,
    ProductRef,
    Source,
)

ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/paid", "orders/cancelled"})
REFUND_TOPIC = "refunds/create"
TOPICS = ORDER_TOPICS | {REFUND_TOPIC}

PAID_STATES = frozenset({"paid", "partially_refunded", "refunded"})
"""Financial states that prove the order was paid once; refunds then reverse what counted."""


def sale_key(shop: str, order_id: str, line_id: str) -> str:
    return f"shopify:{shop}:{order_id}:{line_id}"


_LINES = LineFormat(Source.SHOPIFY, sale_key, "variant_id")


def parse(
    raw_body: bytes, *, topic: str, shop: str, raw_ref: str, test_header: bool = False
) -> ParsedDelivery:
    """Parse a verified delivery. `test_header` is `X-Shopify-Test: true`."""
    body = p.load_object(raw_body)
    if topic == REFUND_TOPIC:
        return _refund(body, shop=shop, raw_ref=raw_ref, test_header=test_header)
    if topic in ORDER_TOPICS:
        return _order(body, topic=topic, shop=shop, raw_ref=raw_ref, test_header=test_header)
    # A subscription we did not ask for: acknowledge so Shopify does not retry, count nothing.
    return ParsedDelivery(
        source=Source.SHOPIFY,
        account=shop,
        topic=topic,
        is_test=test_header,
        occurred_at=_when(body, "updated_at", "created_at"),
        ignored=f"topic {topic!r} is not used",
    )


def _when(body: p.JsonObject, *keys: str) -> datetime:
    for key in keys:
        if body.get(key):
            return p.timestamp(body, key, "$")
    raise MalformedPayload(f"$.{keys[0]}", "is missing")


def _order(body: p.JsonObject, *, topic: str, shop: str, raw_ref: str, test_header: bool) -> ParsedDelivery:
    order_id = p.ident(body, "id", "$")
    is_test = p.boolean(body, "test", "$", default=False) or test_header
    currency = p.currency(body, "currency", "$")
    status = p.opt_string(body, "financial_status", "$")
    occurred_at = _when(body, "processed_at", "created_at")
    lines = sale_lines(
        body,
        _LINES,
        account=shop,
        order_id=order_id,
        currency=currency,
        occurred_at=occurred_at,
        is_test=is_test,
        raw_ref=raw_ref,
        # Shopify's line `price` is the shop's price, with tax when the shop's are
        includes_tax=_taxes_included(body),
    )
    cancelled = topic == "orders/cancelled" or body.get("cancelled_at") is not None
    cancellation = None
    if cancelled:
        when = _when(body, "cancelled_at", "updated_at", "created_at")
        cancellation = OrderCancellation(
            order_ref=order_id, key_prefix=f"shopify:{shop}:cancel:{order_id}", occurred_at=when
        )
    counts = topic == "orders/paid" or (status in PAID_STATES and topic != "orders/cancelled")
    ignored = None
    if not counts and cancellation is None:
        ignored = f"order not paid yet (financial_status={status!r})"
    return ParsedDelivery(
        source=Source.SHOPIFY,
        account=shop,
        topic=topic,
        is_test=is_test,
        occurred_at=occurred_at,
        order_ref=order_id,
        sales=lines if counts else (),
        cancellation=cancellation,
        ignored=ignored,
    )


def _taxes_included(body: p.JsonObject) -> bool | None:
    return p.boolean(body, "taxes_included", "$") if body.get("taxes_included") is not None else None


def _refund(body: p.JsonObject, *, shop: str, raw_ref: str, test_header: bool) -> ParsedDelivery:
    refund_id = p.ident(body, "id", "$")
    order_id = p.ident(body, "order_id", "$")
    occurred_at = _when(body, "created_at", "processed_at")
    transactions = p.objects(body, "transactions", "$", required=False)
    is_test = test_header or any(
        p.boolean(t, "test", f"$.transactions[{i}]", default=False) for i, t in enumerate(transactions)
    )
    reversals: list[NormalisedLine] = []
    for i, rli in enumerate(p.objects(body, "refund_line_items", "$", required=False)):
        path = f"$.refund_line_items[{i}]"
        rli_id = p.ident(rli, "id", path)
        line_id = p.ident(rli, "line_item_id", path)
        qty = p.integer(rli, "quantity", path)
        if qty < 0:
            raise MalformedPayload(f"{path}.quantity", "a refunded quantity is never negative")
        if qty == 0:
            continue  # an amount-only adjustment on the line: no units to reverse
        item = p.opt_obj(rli, "line_item", path) or {}
        sku = p.opt_string(item, "sku", f"{path}.line_item")
        currency, unit = _refund_unit_price(rli, qty, path)
        reversals.append(
            NormalisedLine(
                source=Source.SHOPIFY,
                account=shop,
                external_id=refund_id,
                line_key=f"shopify:{shop}:refund:{refund_id}:{rli_id}",
                sku=sku,
                quantity_delta=-qty,
                unit_price_minor=unit,
                currency=currency,
                occurred_at=occurred_at,
                is_test=is_test,
                raw_ref=raw_ref,
                order_ref=order_id,
                line_ref=line_id,
                target_line_key=sale_key(shop, order_id, line_id),
                product=ProductRef(
                    sku=sku,
                    product_id=p.opt_ident(item, "product_id", f"{path}.line_item"),
                    variant_id=p.opt_ident(item, "variant_id", f"{path}.line_item"),
                ),
            )
        )
    return ParsedDelivery(
        source=Source.SHOPIFY,
        account=shop,
        topic=REFUND_TOPIC,
        is_test=is_test,
        occurred_at=occurred_at,
        order_ref=order_id,
        reversals=tuple(reversals),
        ignored=None if reversals else "refund of an amount only: no units to reverse",
    )


def _refund_unit_price(rli: p.JsonObject, qty: int, path: str) -> tuple[str | None, int | None]:
    """Refund lines carry `subtotal` as a JSON number and its currency only in `subtotal_set`."""
    money = p.opt_obj(p.opt_obj(rli, "subtotal_set", path) or {}, "shop_money", path)
    if money is None or "subtotal" not in rli:
        return None, None
    currency = p.currency(money, "currency_code", f"{path}.subtotal_set.shop_money")
    subtotal = p.decimal(rli, "subtotal", path)
    return currency, p.minor_units(subtotal / qty, currency, f"{path}.subtotal")
