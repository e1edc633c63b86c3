"""WooCommerce order webhooks and refund objects → normalised lines (spec section 2).

WooCommerce has no event id and builds the payload at send time, so the business state is
the truth: units count when an order is seen `processing` or `completed`, and are reversed
when it is seen void. Refund quantities are not in the webhook; the service fetches each new
refund from the REST API and parses it here with `parse_refund`."""

from __future__ import annotations

from collections.abc import Sequence
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

ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})
DELETED_TOPIC = "order.deleted"
TOPICS = ORDER_TOPICS | {DELETED_TOPIC}
COUNTED_STATUSES = frozenset({"processing", "completed"})
VOID_STATUSES = frozenset({"cancelled", "refunded", "failed", "trash"})


def sale_key(source: str, order_id: str, line_id: str) -> str:
    return f"woo:{source}:{order_id}:{line_id}"


_LINES = LineFormat(Source.WOOCOMMERCE, sale_key, "variation_id")


def cancel_prefix(source: str, order_id: str) -> str:
    return f"woo:{source}:cancel:{order_id}"


def parse(raw_body: bytes, *, topic: str, source: str, raw_ref: str, received_at: datetime) -> ParsedDelivery:
    """Parse a verified delivery; `source` is `X-WC-Webhook-Source`, the tenant key."""
    body = p.load_object(raw_body)
    if topic == DELETED_TOPIC:
        order_id = p.ident(body, "id", "$")
        return ParsedDelivery(
            source=Source.WOOCOMMERCE,
            account=source,
            topic=topic,
            is_test=False,
            occurred_at=received_at,
            order_ref=order_id,
            cancellation=OrderCancellation(order_id, cancel_prefix(source, order_id), received_at),
        )
    if topic not in ORDER_TOPICS:
        return ParsedDelivery(
            source=Source.WOOCOMMERCE,
            account=source,
            topic=topic,
            is_test=False,
            occurred_at=received_at,
            ignored=f"topic {topic!r} is not used",
        )
    return _order(body, topic=topic, source=source, raw_ref=raw_ref)


def _order(body: p.JsonObject, *, topic: str, source: str, raw_ref: str) -> ParsedDelivery:
    order_id = p.ident(body, "id", "$")
    status = p.string(body, "status", "$")
    currency = p.currency(body, "currency", "$")
    key = "date_paid_gmt" if body.get("date_paid_gmt") else "date_created_gmt"
    occurred_at = p.timestamp(body, key, "$", naive_is_utc=True)
    lines = order_lines(
        body, source=source, order_id=order_id, currency=currency, occurred_at=occurred_at, raw_ref=raw_ref
    )
    refund_ids = tuple(
        p.ident(r, "id", f"$.refunds[{i}]")
        for i, r in enumerate(p.objects(body, "refunds", "$", required=False))
    )
    counts = status in COUNTED_STATUSES
    void = status in VOID_STATUSES
    cancellation = None
    if void:
        when_key = "date_modified_gmt" if body.get("date_modified_gmt") else key
        cancellation = OrderCancellation(
            order_id,
            cancel_prefix(source, order_id),
            p.timestamp(body, when_key, "$", naive_is_utc=True),
        )
    ignored = None
    if not counts and not void and not refund_ids:
        ignored = f"order status {status!r} is not a sale yet"
    return ParsedDelivery(
        source=Source.WOOCOMMERCE,
        account=source,
        topic=topic,
        is_test=False,
        occurred_at=occurred_at,
        order_ref=order_id,
        sales=lines if counts else (),
        cancellation=cancellation,
        refund_ids_to_fetch=refund_ids,
        ignored=ignored,
        known_lines=lines,
    )


def order_lines(
    body: p.JsonObject,
    *,
    source: str,
    order_id: str,
    currency: str,
    occurred_at: datetime,
    raw_ref: str,
) -> tuple[NormalisedLine, ...]:
    return sale_lines(
        body,
        _LINES,
        account=source,
        order_id=order_id,
        currency=currency,
        occurred_at=occurred_at,
        is_test=False,
        raw_ref=raw_ref,
        # a line's `price` is its `total` over the quantity, and WooCommerce keeps `total`
        # before tax whatever the store's `prices_include_tax` (that flag says how prices were
        # typed in the shop); its tax is the line's `total_tax`
        includes_tax=False,
    )


def parse_refund(
    refund: p.JsonObject,
    *,
    source: str,
    order_id: str,
    raw_ref: str,
    known_lines: Sequence[NormalisedLine] = (),
    currency: str | None = None,
) -> tuple[NormalisedLine, ...]:
    """A `GET /wp-json/wc/v3/orders/<id>/refunds/<refund_id>` response → reversal lines.

    Each refund line names the order line it refunds in the meta `_refunded_item_id`; when a
    plugin strips it, the product and variation ids are matched against the order's lines, and
    an ambiguous match is an error rather than a guess."""
    path = "$refund"
    refund_id = p.ident(refund, "id", path)
    when_key = "date_created_gmt" if refund.get("date_created_gmt") else "date_created"
    occurred_at = p.timestamp(refund, when_key, path, naive_is_utc=True)
    out: list[NormalisedLine] = []
    for i, item in enumerate(p.objects(refund, "line_items", path, required=False)):
        ipath = f"{path}.line_items[{i}]"
        rli_id = p.ident(item, "id", ipath)
        qty = p.integer(item, "quantity", ipath)
        if qty > 0:
            raise MalformedPayload(f"{ipath}.quantity", "refund quantities are negative")
        if qty == 0:
            continue  # amount-only refund of this line
        product = ProductRef(
            sku=p.opt_string(item, "sku", ipath),
            product_id=p.opt_ident(item, "product_id", ipath),
            variant_id=p.opt_ident(item, "variation_id", ipath),
        )
        line_id = _refunded_item(item, ipath, product, known_lines)
        unit = None
        if currency is not None and item.get("refund_total") is not None:
            total = abs(p.decimal(item, "refund_total", ipath))
            unit = p.minor_units(total / -qty, currency, f"{ipath}.refund_total")
        out.append(
            NormalisedLine(
                source=Source.WOOCOMMERCE,
                account=source,
                external_id=refund_id,
                line_key=f"woo:{source}:refund:{refund_id}:{rli_id}",
                sku=product.sku,
                quantity_delta=qty,
                unit_price_minor=unit,
                currency=currency,
                occurred_at=occurred_at,
                is_test=False,
                raw_ref=raw_ref,
                order_ref=order_id,
                line_ref=line_id,
                target_line_key=sale_key(source, order_id, line_id),
                product=product,
            )
        )
    return tuple(out)


def _refunded_item(
    item: p.JsonObject, path: str, product: ProductRef, known: Sequence[NormalisedLine]
) -> str:
    for j, meta in enumerate(p.objects(item, "meta_data", path, required=False)):
        if meta.get("key") == "_refunded_item_id":
            value = meta.get("value")
            text = str(value) if isinstance(value, int | str) else ""
            if not text.isascii() or not text.isdigit() or text == "0":
                raise MalformedPayload(f"{path}.meta_data[{j}].value", "not an order line id")
            return str(int(text))
    matches = {
        line.line_ref
        for line in known
        if product.product_id is not None
        and line.product.product_id == product.product_id
        and line.product.variant_id == product.variant_id
    }
    if len(matches) == 1:
        return matches.pop()
    problem = "matches several order lines" if matches else "matches no order line"
    raise MalformedPayload(f"{path}.meta_data", f"no _refunded_item_id and the product {problem}")
