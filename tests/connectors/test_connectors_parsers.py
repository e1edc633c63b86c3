"""Platform payloads → normalised records, from the spec's fixtures, and malformed bodies →
`MalformedPayload` naming the field (never a KeyError or ValueError)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from wefirst.ingest.connectors import shopify, stripe_events, woocommerce
from wefirst.ingest.connectors.clients import fixture_line_items
from wefirst.ingest.connectors.errors import AccountMismatch, MalformedPayload
from wefirst.ingest.connectors.records import ParsedDelivery, Source

from connectors.connectors_support import ASSETS, load

SHOP = "pg-brandstore-demo.myshopify.com"
WOO = "https://boutique.pg-demo.example/"
NOW = datetime(2026, 3, 20, tzinfo=UTC)


def _json(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(load(name).body)
    return result


def _bytes(value: Any) -> bytes:
    return json.dumps(value).encode()


# ---------------------------------------------------------------- Shopify


def test_shopify_paid_order_create_counts_every_line() -> None:
    parsed = shopify.parse(
        load("shopify/orders_create").body, topic="orders/create", shop=SHOP, raw_ref="dlv_1"
    )
    assert parsed.source is Source.SHOPIFY
    assert not parsed.is_test
    assert parsed.ignored is None
    assert parsed.order_ref == "6104829372541"
    assert [(s.sku, s.quantity_delta, s.unit_price_minor) for s in parsed.sales] == [
        ("PAMPERS-BABYDRY-S3-52", 2, 2499),
        ("PG-PURIFIER-OF-WATER-240", 1, 3990),
        ("ARIEL-PODS-ALLIN1-30", 1, 1249),
    ]
    first = parsed.sales[0]
    assert first.line_key == f"shopify:{SHOP}:6104829372541:15830291746941"
    assert first.currency == "EUR"
    assert first.raw_ref == "dlv_1"
    assert first.occurred_at == datetime(2026, 3, 14, 9, 21, 7, tzinfo=UTC)  # +01:00 → UTC
    assert first.product.variant_id == "48123456789012"
    assert parsed.cancellation is None


def test_shopify_test_order_is_flagged_by_body_or_header() -> None:
    parsed = shopify.parse(
        load("shopify/orders_create_test_order").body, topic="orders/create", shop=SHOP, raw_ref="r"
    )
    assert parsed.is_test
    assert all(s.is_test for s in parsed.sales)
    live = shopify.parse(
        load("shopify/orders_create").body, topic="orders/create", shop=SHOP, raw_ref="r", test_header=True
    )
    assert live.is_test


def test_shopify_unpaid_create_waits_for_orders_paid() -> None:
    order = _json("shopify/orders_create") | {"financial_status": "pending"}
    created = shopify.parse(_bytes(order), topic="orders/create", shop=SHOP, raw_ref="r")
    assert created.sales == ()
    assert created.ignored is not None
    assert "pending" in created.ignored
    paid = shopify.parse(_bytes(order), topic="orders/paid", shop=SHOP, raw_ref="r")
    assert len(paid.sales) == 3
    # the same business keys either way: the pair counts once
    paid_create = shopify.parse(
        load("shopify/orders_create").body, topic="orders/create", shop=SHOP, raw_ref="r"
    )
    assert [s.line_key for s in paid.sales] == [s.line_key for s in paid_create.sales]


def test_shopify_cancelled_order_is_a_cancellation_not_a_sale() -> None:
    order = _json("shopify/orders_create") | {
        "cancelled_at": "2026-03-15T08:00:00+01:00",
        "financial_status": "refunded",
    }
    parsed = shopify.parse(_bytes(order), topic="orders/cancelled", shop=SHOP, raw_ref="r")
    assert parsed.sales == ()
    assert parsed.cancellation is not None
    assert parsed.cancellation.key_prefix == f"shopify:{SHOP}:cancel:6104829372541"
    assert parsed.cancellation.occurred_at == datetime(2026, 3, 15, 7, tzinfo=UTC)


def test_shopify_refund_reverses_the_refunded_line() -> None:
    parsed = shopify.parse(
        load("shopify/refunds_create").body, topic="refunds/create", shop=SHOP, raw_ref="r"
    )
    assert parsed.order_ref == "6104829372541"
    (line,) = parsed.reversals
    assert line.line_key == f"shopify:{SHOP}:refund:1029384756123:612345678901"
    assert line.target_line_key == f"shopify:{SHOP}:6104829372541:15830291746941"
    assert line.quantity_delta == -1
    assert (line.unit_price_minor, line.currency, line.sku) == (2499, "EUR", "PAMPERS-BABYDRY-S3-52")


def test_shopify_amount_only_refund_reverses_nothing() -> None:
    refund = _json("shopify/refunds_create") | {"refund_line_items": []}
    parsed = shopify.parse(_bytes(refund), topic="refunds/create", shop=SHOP, raw_ref="r")
    assert parsed.reversals == ()
    assert parsed.ignored is not None


def test_shopify_unused_topic_is_acknowledged_and_ignored() -> None:
    parsed = shopify.parse(
        load("shopify/orders_create").body, topic="orders/fulfilled", shop=SHOP, raw_ref="r"
    )
    assert parsed.sales == ()
    assert parsed.ignored is not None


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(doc))
    target = copy
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    result: dict[str, Any] = copy
    return result


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("id",), _DELETE, "$.id"),
        (("id",), 1.5, "$.id"),
        (("id",), True, "$.id"),
        (("id",), -3, "$.id"),
        (("currency",), "EURO", "$.currency"),
        (("currency",), None, "$.currency"),
        (("line_items",), {}, "$.line_items"),
        (("line_items", 0), "x", "$.line_items[0]"),
        (("line_items", 0, "quantity"), "2", "$.line_items[0].quantity"),
        (("line_items", 0, "quantity"), 0, "$.line_items[0].quantity"),
        (("line_items", 1, "price"), "abc", "$.line_items[1].price"),
        (("line_items", 1, "price"), "NaN", "$.line_items[1].price"),
        (("line_items", 1, "sku"), 42, "$.line_items[1].sku"),
        (("processed_at",), "2026-03-14T10:21:07", "$.processed_at"),
        (("processed_at",), "yesterday", "$.processed_at"),
        (("test",), "false", "$.test"),
    ],
)
def test_shopify_malformed_orders(path: tuple[Any, ...], value: Any, field: str) -> None:
    body = _bytes(_set(_json("shopify/orders_create"), path, value))
    with pytest.raises(MalformedPayload) as err:
        shopify.parse(body, topic="orders/create", shop=SHOP, raw_ref="r")
    assert err.value.field == field
    assert err.value.status == 400
    assert err.value.problem()["errors"][0]["field"] == field


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not JSON"),
        (b"[1]", "an array"),
        (b"\xff{}", "UTF-8"),
        (b'{"id": NaN}', "NaN"),
        (b'{"a":1', "not JSON"),
        (b"null", "null"),
        (b"[" * 100_000, ""),
    ],
)
def test_unreadable_bodies(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayload) as err:
        shopify.parse(body, topic="orders/create", shop=SHOP, raw_ref="r")
    assert reason in err.value.detail


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("refund_line_items", 0, "quantity"), -1, "$.refund_line_items[0].quantity"),
        (("refund_line_items", 0, "line_item_id"), None, "$.refund_line_items[0].line_item_id"),
        (("order_id",), _DELETE, "$.order_id"),
        (("refund_line_items",), "all", "$.refund_line_items"),
        (("transactions", 0, "test"), "no", "$.transactions[0].test"),
    ],
)
def test_shopify_malformed_refunds(path: tuple[Any, ...], value: Any, field: str) -> None:
    body = _bytes(_set(_json("shopify/refunds_create"), path, value))
    with pytest.raises(MalformedPayload) as err:
        shopify.parse(body, topic="refunds/create", shop=SHOP, raw_ref="r")
    assert err.value.field == field


# ---------------------------------------------------------------- WooCommerce


def _woo(name: str, topic: str) -> ParsedDelivery:
    return woocommerce.parse(load(name).body, topic=topic, source=WOO, raw_ref="r", received_at=NOW)


def test_woo_processing_order_counts_its_lines_in_utc() -> None:
    parsed = _woo("woocommerce/order_created", "order.created")
    assert [(s.sku, s.quantity_delta, s.unit_price_minor) for s in parsed.sales] == [
        ("PAMPERS-BABYDRY-S3-52", 3, 1950),
        ("PG-PURIFIER-OF-WATER-240", 1, 3000),
    ]
    assert parsed.sales[0].line_key == f"woo:{WOO}:4817:391"
    assert parsed.sales[0].occurred_at == datetime(2026, 3, 14, 10, 5, 44, tzinfo=UTC)
    assert parsed.refund_ids_to_fetch == ()
    assert parsed.cancellation is None


def test_woo_update_with_refund_asks_for_the_refund_and_keeps_the_sale_keys() -> None:
    created = _woo("woocommerce/order_created", "order.created")
    updated = _woo("woocommerce/order_updated_partial_refund", "order.updated")
    assert updated.refund_ids_to_fetch == ("4861",)
    assert [s.line_key for s in updated.sales] == [s.line_key for s in created.sales]


def test_woo_refund_object_gives_negative_units_on_the_refunded_line() -> None:
    refund = json.loads((ASSETS / "woocommerce" / "refund_4861_api.json").read_bytes())
    (line,) = woocommerce.parse_refund(refund, source=WOO, order_id="4817", raw_ref="r", currency="EUR")
    assert line.line_key == f"woo:{WOO}:refund:4861:396"
    assert line.target_line_key == f"woo:{WOO}:4817:391"
    assert (line.quantity_delta, line.unit_price_minor) == (-1, 1950)
    assert line.occurred_at == datetime(2026, 3, 19, 8, 12, 1, tzinfo=UTC)


def test_woo_refund_without_meta_falls_back_to_a_unique_product_match() -> None:
    refund = json.loads((ASSETS / "woocommerce" / "refund_4861_api.json").read_bytes())
    refund["line_items"][0]["meta_data"] = []
    known = _woo("woocommerce/order_created", "order.created").sales
    (line,) = woocommerce.parse_refund(refund, source=WOO, order_id="4817", raw_ref="r", known_lines=known)
    assert line.target_line_key == f"woo:{WOO}:4817:391"
    ambiguous = known + tuple(
        type(s)(**{**{f: getattr(s, f) for f in s.__slots__}, "line_ref": "999"}) for s in known[:1]
    )
    with pytest.raises(MalformedPayload, match="several order lines"):
        woocommerce.parse_refund(refund, source=WOO, order_id="4817", raw_ref="r", known_lines=ambiguous)
    with pytest.raises(MalformedPayload, match="no order line"):
        woocommerce.parse_refund(refund, source=WOO, order_id="4817", raw_ref="r")


@pytest.mark.parametrize(
    ("path", "value", "match"),
    [
        (("line_items", 0, "quantity"), 1, "negative"),
        (("line_items", 0, "meta_data", 0, "value"), "abc", "not an order line id"),
        (("line_items", 0, "meta_data", 0, "value"), 3.5, "not an order line id"),
        (("date_created_gmt",), _DELETE, "date_created"),
        (("id",), None, "id"),
    ],
)
def test_woo_malformed_refund_objects(path: tuple[Any, ...], value: Any, match: str) -> None:
    refund = json.loads((ASSETS / "woocommerce" / "refund_4861_api.json").read_bytes())
    refund = _set(refund, path, value)
    if path == ("date_created_gmt",):
        refund.pop("date_created")
    with pytest.raises(MalformedPayload, match=match):
        woocommerce.parse_refund(refund, source=WOO, order_id="4817", raw_ref="r")


def test_woo_void_statuses_cancel_and_pending_waits() -> None:
    order = _json("woocommerce/order_created")
    for status in ("cancelled", "refunded", "failed"):
        parsed = woocommerce.parse(
            _bytes(order | {"status": status}),
            topic="order.updated",
            source=WOO,
            raw_ref="r",
            received_at=NOW,
        )
        assert parsed.sales == ()
        assert parsed.cancellation is not None
        assert parsed.cancellation.key_prefix == f"woo:{WOO}:cancel:4817"
    pending = woocommerce.parse(
        _bytes(order | {"status": "pending"}), topic="order.created", source=WOO, raw_ref="r", received_at=NOW
    )
    assert pending.sales == ()
    assert pending.cancellation is None
    assert pending.ignored


def test_woo_deleted_body_is_just_an_id() -> None:
    parsed = woocommerce.parse(
        b'{"id":4817}', topic="order.deleted", source=WOO, raw_ref="r", received_at=NOW
    )
    assert parsed.cancellation is not None
    assert parsed.order_ref == "4817"
    with pytest.raises(MalformedPayload, match=r"\$\.id"):
        woocommerce.parse(b"{}", topic="order.deleted", source=WOO, raw_ref="r", received_at=NOW)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("status",), None, "$.status"),
        (("line_items", 0, "price"), "19,5", "$.line_items[0].price"),
        (("line_items", 0, "price"), None, "$.line_items[0].price"),
        (("date_paid_gmt",), "14/03/2026", "$.date_paid_gmt"),
        (("refunds", 0), 4861, "$.refunds[0]"),
    ],
)
def test_woo_malformed_orders(path: tuple[Any, ...], value: Any, field: str) -> None:
    order = _json("woocommerce/order_updated_partial_refund")
    with pytest.raises(MalformedPayload) as err:
        woocommerce.parse(
            _bytes(_set(order, path, value)), topic="order.updated", source=WOO, raw_ref="r", received_at=NOW
        )
    assert err.value.field == field


# ---------------------------------------------------------------- Stripe

ACCOUNT = "acct_1WeFirstDemoAcct"


def _stripe(body: bytes) -> ParsedDelivery:
    return stripe_events.parse(body, account=ACCOUNT, raw_ref="r")


def test_stripe_checkout_completed_asks_for_line_items_then_counts_them() -> None:
    parsed = _stripe(load("stripe/checkout_session_completed").body)
    assert parsed.checkout is not None
    assert not parsed.is_test
    session = "cs_live_b1Kw9EfIrStPaMpErSdEmO0a1NqR7sT4uV8wX2yZ3aB5cD6eF7gH8iJ"
    assert parsed.checkout.session_id == session
    assert parsed.order_ref == "pi_3T0wEfIrStPaMpEr0k1X2y3Z"
    body = (ASSETS / "stripe" / "checkout_session_line_items.json").read_text("utf-8")
    client = fixture_line_items({session: body})
    items = client.list_line_items(session)
    lines = stripe_events.checkout_lines(parsed.checkout, items, account=ACCOUNT, is_test=False, raw_ref="r")
    assert [(s.sku, s.quantity_delta, s.unit_price_minor, s.currency) for s in lines] == [
        ("PAMPERS-BABYDRY-S3-52", 2, 2499, "EUR"),
        ("PG-PURIFIER-OF-WATER-240", 1, 3990, "EUR"),
    ]
    assert lines[0].line_key == f"stripe:{ACCOUNT}:{session}:li_1T0wEfIrStLiNe0001"
    assert lines[0].product.lookup_key == "PAMPERS-BABYDRY-S3-52"
    assert lines[0].order_ref == "pi_3T0wEfIrStPaMpEr0k1X2y3Z"


def test_stripe_line_items_malformed() -> None:
    parsed = _stripe(load("stripe/checkout_session_completed").body)
    assert parsed.checkout is not None
    with pytest.raises(MalformedPayload, match="quantity"):
        stripe_events.checkout_lines(
            parsed.checkout, [{"id": "li_1", "quantity": 0}], account=ACCOUNT, is_test=False, raw_ref="r"
        )
    with pytest.raises(MalformedPayload, match="price"):
        stripe_events.checkout_lines(
            parsed.checkout, [{"id": "li_1", "quantity": 1}], account=ACCOUNT, is_test=False, raw_ref="r"
        )


def test_stripe_unpaid_and_test_mode_sessions() -> None:
    event = _json("stripe/checkout_session_completed")
    event["data"]["object"]["payment_status"] = "unpaid"
    assert _stripe(_bytes(event)).checkout is None
    event["type"] = "checkout.session.async_payment_succeeded"
    assert _stripe(_bytes(event)).checkout is not None
    event["livemode"] = False
    assert _stripe(_bytes(event)).is_test


def test_stripe_charge_refunded_is_a_cumulative_amount() -> None:
    parsed = _stripe(load("stripe/charge_refunded").body)
    (refund,) = parsed.amount_refunds
    assert refund.reversal_key == f"stripe:{ACCOUNT}:refund:ch_3T0wEfIrStPaMpEr0q9R8s7T"
    assert (refund.cumulative_minor, refund.charge_amount_minor) == (2499, 8988)
    assert not refund.fully_refunded
    assert refund.currency == "EUR"
    assert refund.order_ref == "pi_3T0wEfIrStPaMpEr0k1X2y3Z"


def test_units_for_refund_walks_lines_in_order() -> None:
    lines = [("a", 2, 2499), ("b", 1, 3990)]
    assert stripe_events.units_for_refund(lines, 2499, False) == {"a": 1, "b": 0}
    assert stripe_events.units_for_refund(lines, 2498, False) == {"a": 0, "b": 0}
    assert stripe_events.units_for_refund(lines, 4998 + 3989, False) == {"a": 2, "b": 0}
    assert stripe_events.units_for_refund(lines, 8988, False) == {"a": 2, "b": 1}
    assert stripe_events.units_for_refund(lines, 100, True) == {"a": 2, "b": 1}
    assert stripe_events.units_for_refund([("z", 3, None)], 5000, False) == {"z": 0}


@pytest.mark.parametrize(
    ("path", "value", "match"),
    [
        (("data", "object", "amount_refunded"), 9000, "between 0 and amount"),
        (("data", "object", "amount_refunded"), -1, "between 0 and amount"),
        (("data", "object", "amount_refunded"), "2499", "integer"),
        (("data", "object", "currency"), "xx", "currency"),
        (("data",), [], "object"),
        (("livemode",), None, "true or false"),
        (("created",), 10**12, "out of range"),
    ],
)
def test_stripe_malformed_events(path: tuple[Any, ...], value: Any, match: str) -> None:
    event = _set(_json("stripe/charge_refunded"), path, value)
    with pytest.raises(MalformedPayload, match=match):
        _stripe(_bytes(event))


def _intent(metadata: dict[str, str], livemode: bool = True) -> bytes:
    return _bytes(
        {
            "id": "evt_pi",
            "object": "event",
            "type": "payment_intent.succeeded",
            "livemode": livemode,
            "created": 1773498729,
            "data": {
                "object": {
                    "id": "pi_1",
                    "object": "payment_intent",
                    "amount_received": 8988,
                    "currency": "eur",
                    "created": 1773498700,
                    "metadata": metadata,
                }
            },
        }
    )


def test_payment_intent_counts_only_metadata_skus() -> None:
    assert _stripe(_intent({})).sales == ()
    parsed = _stripe(_intent({"wefirst_items": "PAMPERS-BABYDRY-S3-52:2:2499, PG-X:1"}))
    assert [(s.line_key, s.sku, s.quantity_delta, s.unit_price_minor) for s in parsed.sales] == [
        (f"stripe:{ACCOUNT}:pi_1:0", "PAMPERS-BABYDRY-S3-52", 2, 2499),
        (f"stripe:{ACCOUNT}:pi_1:1", "PG-X", 1, None),
    ]
    assert _stripe(_intent({"wefirst_items": "A:1"}, livemode=False)).is_test


@pytest.mark.parametrize("items", ["PAMPERS", "A:0", "A:-1", "A:1:x", ":1", "A:1,", "A:9999999"])
def test_payment_intent_bad_item_metadata(items: str) -> None:
    with pytest.raises(MalformedPayload, match="wefirst_items"):
        _stripe(_intent({"wefirst_items": items}))


def test_stripe_connect_event_for_another_account_is_refused() -> None:
    event = _json("stripe/charge_refunded") | {"account": "acct_someone_else"}
    with pytest.raises(AccountMismatch):
        _stripe(_bytes(event))


def test_stripe_unused_event_type_is_ignored() -> None:
    event = _json("stripe/charge_refunded") | {"type": "charge.captured"}
    parsed = _stripe(_bytes(event))
    assert parsed.ignored is not None
    assert parsed.amount_refunds == ()
