"""What each platform says of its prices' tax reaches the engine (issue 12: a percentage's tax
basis is taken from the source): Shopify's `taxes_included` and its lines' `tax_lines`,
WooCommerce's line `price` (before tax, whatever `prices_include_tax`) and `total_tax`, Stripe's
`tax_behavior` and `amount_tax`; a line that says nothing stays unknown (None), never 0; a
malformed flag names its field; the minimised delivery kept after processing still says it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from wefirst.ingest.connectors import shopify, stripe_events, woocommerce
from wefirst.ingest.connectors.errors import MalformedPayload
from wefirst.ingest.connectors.minimise import minimise

from connectors.connectors_support import ASSETS, load

SHOP = "pg-brandstore-demo.myshopify.com"
WOO = "https://boutique.pg-demo.example/"
NOW = datetime(2026, 3, 20, tzinfo=UTC)


def _shopify(body: bytes) -> list[tuple[int | None, bool | None, int | None]]:
    parsed = shopify.parse(body, topic="orders/create", shop=SHOP, raw_ref="r")
    return [(s.unit_price_minor, s.includes_tax, s.tax_minor) for s in parsed.sales]


def test_shopify_says_its_prices_include_tax_and_each_lines_tax() -> None:
    body = load("shopify/orders_create").body
    assert _shopify(body) == [(2499, True, 833), (3990, True, 665), (1249, True, 208)]
    minimised = minimise(body)
    assert minimised is not None
    assert _shopify(minimised) == _shopify(body)  # what reconciliation re-reads says the same


def test_shopify_without_the_flag_or_tax_lines_leaves_the_basis_unknown() -> None:
    order = json.loads(load("shopify/orders_create").body)
    del order["taxes_included"]
    for item in order["line_items"]:
        del item["tax_lines"]
    assert {(b, t) for _p, b, t in _shopify(json.dumps(order).encode())} == {(None, None)}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda o: o.update(taxes_included="yes"), "$.taxes_included"),
        (
            lambda o: o["line_items"][0]["tax_lines"][0].update(price="lots"),
            "$.line_items[0].tax_lines[0].price",
        ),
    ],
)
def test_a_malformed_tax_field_is_named(change: object, field: str) -> None:
    order = json.loads(load("shopify/orders_create").body)
    change(order)  # type: ignore[operator]
    with pytest.raises(MalformedPayload) as err:
        shopify.parse(json.dumps(order).encode(), topic="orders/create", shop=SHOP, raw_ref="r")
    assert err.value.field == field


def test_woocommerce_line_prices_are_before_tax_with_the_lines_tax() -> None:
    """The fixture's store types prices with tax (`prices_include_tax: true`), but a line's
    `price` is its `total` over the quantity, which WooCommerce keeps before tax."""
    body = load("woocommerce/order_created").body
    assert json.loads(body)["prices_include_tax"] is True
    parsed = woocommerce.parse(body, topic="order.created", source=WOO, raw_ref="r", received_at=NOW)
    assert [(s.unit_price_minor, s.includes_tax, s.tax_minor) for s in parsed.sales] == [
        (1950, False, 1170),
        (3000, False, 600),
    ]


def test_stripe_tax_behavior_and_amount() -> None:
    parsed = stripe_events.parse(
        load("stripe/checkout_session_completed").body, account="acct_1", raw_ref="r"
    )
    assert parsed.checkout is not None
    items = json.loads((ASSETS / "stripe" / "checkout_session_line_items.json").read_text("utf-8"))["data"]
    lines = stripe_events.checkout_lines(parsed.checkout, items, account="acct_1", is_test=False, raw_ref="r")
    assert [(s.includes_tax, s.tax_minor) for s in lines] == [(True, 0), (True, 0)]
    items[0]["price"]["tax_behavior"] = "unspecified"
    del items[0]["amount_tax"]
    lines = stripe_events.checkout_lines(parsed.checkout, items, account="acct_1", is_test=False, raw_ref="r")
    assert (lines[0].includes_tax, lines[0].tax_minor) == (None, None)
