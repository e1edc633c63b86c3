"""Order line items → normalised sale lines, for the platforms whose orders carry them in
`line_items[]` with `id`, `sku`, `quantity`, `price` and product ids (Shopify, WooCommerce).
One parser, so both platforms validate lines and name bad fields the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from wefirst.ingest.connectors import _payload as p
from wefirst.ingest.connectors.records import NormalisedLine, ProductRef, Source


@dataclass(frozen=True)
class LineFormat:
    """What differs between the platforms' line items, fixed per platform: kept apart from
    each order's own facts so a call names only the latter."""

    source: Source
    line_key: Callable[[str, str, str], str]  # (account, order id, line id) -> the line's key
    variant_field: str  # Shopify's `variant_id`, WooCommerce's `variation_id`


def sale_lines(
    body: p.JsonObject,
    fmt: LineFormat,
    *,
    account: str,
    order_id: str,
    currency: str,
    occurred_at: datetime,
    is_test: bool,
    raw_ref: str,
    includes_tax: bool | None = None,
) -> tuple[NormalisedLine, ...]:
    """`price` is a decimal string or a JSON number (WooCommerce's is the line total over the
    quantity, after discounts and before tax, and may not be whole cents: it is rounded half
    even to minor units). `includes_tax` is what the platform says of that price; the line's
    tax is read where the platform puts it (docs/connectors.md, "Tax basis")."""
    lines: list[NormalisedLine] = []
    for i, item in enumerate(p.objects(body, "line_items", "$")):
        path = f"$.line_items[{i}]"
        line_id = p.ident(item, "id", path)
        quantity = p.quantity(item, "quantity", path)
        sku = p.opt_string(item, "sku", path)
        price = p.minor_units(p.decimal(item, "price", path), currency, f"{path}.price")
        tax = line_tax(item, currency, path)
        lines.append(
            NormalisedLine(
                source=fmt.source,
                account=account,
                external_id=order_id,
                line_key=fmt.line_key(account, order_id, line_id),
                sku=sku,
                quantity_delta=quantity,
                unit_price_minor=price,
                currency=currency,
                occurred_at=occurred_at,
                is_test=is_test,
                raw_ref=raw_ref,
                order_ref=order_id,
                line_ref=line_id,
                product=ProductRef(
                    sku=sku,
                    product_id=p.opt_ident(item, "product_id", path),
                    variant_id=p.opt_ident(item, fmt.variant_field, path),
                ),
                includes_tax=includes_tax,
                tax_minor=tax,
            )
        )
    return tuple(lines)


def line_tax(item: p.JsonObject, currency: str, path: str) -> int | None:
    """The line's total tax in minor units: WooCommerce's `total_tax`, or the sum of Shopify's
    `tax_lines[].price`; None when the line carries neither (the tax is then unknown, not 0)."""
    if item.get("total_tax") is not None:
        return p.minor_units(p.decimal(item, "total_tax", path), currency, f"{path}.total_tax")
    if "tax_lines" not in item:
        return None
    total = 0
    for j, tl in enumerate(p.objects(item, "tax_lines", path)):
        tpath = f"{path}.tax_lines[{j}]"
        total += p.minor_units(p.decimal(tl, "price", tpath), currency, f"{tpath}.price")
    return total
