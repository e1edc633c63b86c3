"""Every fixture replayed through the real receivers (FastAPI app, migrated database, the
lead's event services): accepted when signed, rejected when any byte is broken, idempotent
on redelivery, and reversing on refunds, whatever order they come in."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from wefirst.domain.clock import utcnow
from wefirst.ingest.connectors.minimise import minimise
from wefirst.ingest.connectors.signatures import b64_hmac_sha256
from wefirst.store.tables_connectors import connector_deliveries, connector_lines
from wefirst.store.tables_core import pledges
from wefirst.store.tables_tlog import tlog_entries

from connectors.connectors_support import (
    SHOP,
    SHOPIFY_SECRET,
    WOO_SECRET,
    WOO_SITE,
    Delivery,
    World,
    load,
    restamp_stripe,
    sign_shopify,
    sign_stripe,
    woo_refund,
)
from factories import auth


def _deliveries(world: World) -> int:
    with world.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(connector_deliveries)).scalar() or 0)


# ------------------------------------------------------------------ Shopify


def test_shopify_order_then_refund(world: World) -> None:
    r = world.post("shopify", load("shopify/orders_create"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "queued"
    assert r.json()["topic"] == "orders/create"
    # processed after the ack: 2 PAMPERS packs = 2 vaccines; the purifier and Ariel match no rule
    assert world.net_units() == 2
    status = world.status("shopify")
    assert status["units"] == {"counted": 4, "reversed": 0}
    assert status["pledged_units"] == 2
    assert status["lines"]["by_outcome"] == {"no_rule": 2, "pledged": 1}
    assert status["deliveries"]["by_status"] == {"processed": 1}

    r = world.post("shopify", load("shopify/refunds_create"))
    assert r.status_code == 200, r.text
    assert world.net_units() == 1
    assert world.status("shopify")["units"] == {"counted": 4, "reversed": 1}
    # every counted line points at the delivery it came from, which keeps the order's facts
    # but not the shopper (issue 13 #10)
    with world.db.read() as conn:
        refs = {r.delivery_id for r in conn.execute(select(connector_lines.c.delivery_id))}
        stored = conn.execute(
            select(connector_deliveries.c.id, connector_deliveries.c.body).order_by(
                connector_deliveries.c.seq
            )
        ).all()
    assert refs == {stored[0].id}
    assert bytes(stored[0].body) == minimise(load("shopify/orders_create").body)
    # the pledge and its reversal are in the transparency log like any other, with no order
    # number or customer in clear
    with world.db.read() as conn:
        entries = [json.loads(bytes(r.data)) for r in conn.execute(select(tlog_entries.c.data))]
    kinds = sorted(e["kind"] for e in entries if e["kind"] in ("pledge", "pledge_reversal"))
    assert kinds == ["pledge", "pledge_reversal"]
    pledge = next(e for e in entries if e["kind"] == "pledge")
    assert pledge["source"] == "shopify"
    assert pledge["sku"] == "PAMPERS-BABYDRY-S3-52"
    logged = json.dumps(entries)
    assert "6104829372541" not in logged
    assert "claire" not in logged.lower()


def test_shopify_test_order_never_pledges(world: World) -> None:
    r = world.post("shopify", load("shopify/orders_create_test_order"))
    assert r.status_code == 200, r.text
    assert world.net_units() == 0
    status = world.status("shopify")
    assert status["deliveries"]["by_status"] == {"ignored": 1}
    assert status["lines"]["count"] == 0


def test_shopify_redelivery_and_second_topic_pledge_once(world: World) -> None:
    order = load("shopify/orders_create")
    assert world.post("shopify", order).json()["status"] == "queued"
    again = world.post("shopify", order)
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    # the same fact through orders/paid, another event id: the business keys dedupe it
    paid = sign_shopify(order.body, "orders/paid", "paid-event-1")
    assert world.post("shopify", paid).json()["status"] == "queued"
    assert world.net_units() == 2
    status = world.status("shopify")
    assert status["deliveries"]["duplicates"] == 1
    assert status["deliveries"]["received"] == 3
    assert _deliveries(world) == 2
    with world.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(pledges)).scalar() == 1


def test_shopify_refund_before_order_is_held_then_applied(world: World) -> None:
    assert world.post("shopify", load("shopify/refunds_create")).status_code == 200
    assert world.net_units() == 0
    assert world.status("shopify")["held_reversals"] == 1
    assert world.post("shopify", load("shopify/orders_create")).status_code == 200
    assert world.net_units() == 1
    assert world.status("shopify")["held_reversals"] == 0


def test_shopify_cancel_and_refund_never_reverse_more_than_counted(world: World) -> None:
    order = json.loads(load("shopify/orders_create").body)
    cancelled = json.dumps(
        order | {"cancelled_at": "2026-03-15T08:00:00+01:00", "financial_status": "refunded"}
    ).encode()
    world.post("shopify", load("shopify/orders_create"))
    world.post("shopify", sign_shopify(cancelled, "orders/cancelled", "cancel-1"))
    world.post("shopify", load("shopify/refunds_create"))
    assert world.net_units() == 0
    assert world.status("shopify")["units"] == {"counted": 4, "reversed": 4}


def test_shopify_bad_signature_is_401_and_stores_only_a_counter(world: World) -> None:
    delivery = load("shopify/orders_create")
    body = delivery.body
    for i in range(0, len(body), max(1, len(body) // 24)):
        broken = body[:i] + bytes([body[i] ^ 0x20]) + body[i + 1 :]
        r = world.post("shopify", delivery, body=broken)
        assert r.status_code == 401, (i, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["reason"] == "bad_signature"
    signature = delivery.headers["X-Shopify-Hmac-Sha256"]
    for i in range(len(signature)):
        flipped = "A" if signature[i] != "A" else "B"
        headers = {**delivery.headers, "X-Shopify-Hmac-Sha256": signature[:i] + flipped + signature[i + 1 :]}
        assert world.post("shopify", delivery, headers=headers).status_code == 401
    missing = {k: v for k, v in delivery.headers.items() if k != "X-Shopify-Hmac-Sha256"}
    r = world.post("shopify", delivery, headers=missing)
    assert r.status_code == 401
    assert r.json()["reason"] == "missing_signature"
    assert _deliveries(world) == 0
    assert world.net_units() == 0
    rejected = world.status("shopify")["deliveries"]["rejected_by_reason"]
    assert rejected["missing_signature"] == 1
    assert rejected["bad_signature"] > 24


def test_shopify_malformed_body_is_400_with_the_field(world: World) -> None:
    body = (
        b'{"id": 1, "currency": "EUR", "line_items": "nope", "test": false, '
        b'"processed_at": "2026-03-14T10:21:07+01:00"}'
    )
    r = world.post("shopify", sign_shopify(body, "orders/create", "bad-1"))
    assert r.status_code == 400
    problem = r.json()
    assert problem["errors"] == [{"field": "$.line_items", "reason": "expected an array, got a string"}]
    assert problem["status"] == 400
    assert _deliveries(world) == 0
    assert world.status("shopify")["deliveries"]["rejected_by_reason"] == {"malformed": 1}


def test_other_shop_and_wrong_receiver_are_refused(world: World) -> None:
    other = sign_shopify(
        load("shopify/orders_create").body, "orders/create", "e-1", shop="someone-else.myshopify.com"
    )
    r = world.post("shopify", other)
    assert r.status_code == 400
    assert "someone-else" in r.json()["detail"]
    assert world.status("shopify")["deliveries"]["rejected_by_reason"] == {"account_mismatch": 1}
    delivery = load("shopify/orders_create")
    r = world.client.post(
        "/v1/connectors/con_doesnotexist/shopify", content=delivery.body, headers=delivery.headers
    )
    assert r.status_code == 404
    r = world.client.post(
        f"/v1/connectors/{world.connections['stripe']}/shopify",
        content=delivery.body,
        headers=delivery.headers,
    )
    assert r.status_code == 404


def test_secret_rotation_through_the_api(world: World) -> None:
    con = world.connections["shopify"]
    r = world.client.post(
        f"/v1/connectors/{con}/secrets", json={"secret": "new-shopify-secret"}, headers=auth(world.brand.key)
    )
    assert r.status_code == 201, r.text
    old_id, new_id = (s["id"] for s in r.json()["secrets"])
    assert "new-shopify-secret" not in r.text
    assert SHOPIFY_SECRET not in r.text
    body = load("shopify/orders_create").body
    assert world.post("shopify", sign_shopify(body, "orders/create", "a")).status_code == 200
    new = sign_shopify(body, "orders/paid", "b", secret="new-shopify-secret")
    assert world.post("shopify", new).status_code == 200
    third = world.client.post(
        f"/v1/connectors/{con}/secrets", json={"secret": "third"}, headers=auth(world.brand.key)
    )
    assert third.status_code == 409
    r = world.client.post(f"/v1/connectors/{con}/secrets/{old_id}/retire", headers=auth(world.brand.key))
    assert r.status_code == 200, r.text
    assert [s["active"] for s in r.json()["secrets"]] == [False, True]
    assert r.json()["secrets"][1]["last_matched_at"] is not None
    old = sign_shopify(body, "orders/updated", "c")
    assert world.post("shopify", old).status_code == 401
    last = world.client.post(f"/v1/connectors/{con}/secrets/{new_id}/retire", headers=auth(world.brand.key))
    assert last.status_code == 409


def test_connections_are_behind_the_tenant_wall(world: World, client: object, admin_key: str) -> None:
    from factories import make_brand

    other = make_brand(world.client, world.db, admin_key, name="Other")
    con = world.connections["shopify"]
    assert world.client.get(f"/v1/connectors/{con}", headers=auth(other.key)).status_code == 404
    assert world.client.get(f"/v1/connectors/{con}/status", headers=auth(other.key)).status_code == 404
    listed = world.client.get("/v1/connectors", headers=auth(other.key)).json()["data"]
    assert listed == []
    mine = world.client.get(f"/v1/connectors/{con}", headers=auth(world.brand.key))
    assert mine.json()["webhook_url"] == f"http://testserver/v1/connectors/{con}/shopify"
    taken = world.client.post(
        "/v1/connectors",
        headers=auth(other.key),
        json={"platform": "shopify", "account": SHOP, "secret": "x"},
    )
    assert taken.status_code == 409


def test_bad_connection_requests(world: World) -> None:
    cases: list[tuple[dict[str, object], str]] = [
        ({"platform": "shopify", "account": "not a shop", "secret": "s"}, "account"),
        ({"platform": "shopify", "account": SHOP.replace("pg", "xx")}, "secret"),
        ({"platform": "woocommerce", "account": "ftp://x/", "secret": "s"}, "account"),
        (
            {"platform": "stripe", "account": "acct_2", "secret": "s", "credentials": {"password": "x"}},
            "credentials",
        ),
        ({"platform": "shopify", "account": SHOP, "secret": "s"}, "account"),  # taken
    ]
    for body, field in cases:
        r = world.client.post("/v1/connectors", json=body, headers=auth(world.brand.key))
        assert r.status_code in (409, 422), r.text
        assert any(e["field"] == field for e in r.json()["errors"]), (body, r.text)


# ------------------------------------------------------------------ WooCommerce


def test_woo_ping_is_200_and_nothing_else(world: World) -> None:
    ping = load("woocommerce/ping")
    r = world.post("woocommerce", ping)
    assert r.status_code == 200
    assert _deliveries(world) == 0
    assert world.status("woocommerce")["deliveries"]["received"] == 0
    # a body that only looks like a ping but comes with WooCommerce headers is verified
    r = world.post("woocommerce", ping, headers={"X-WC-Webhook-Topic": "order.created"})
    assert r.status_code == 401
    # a signed order from another site (staging posting to production) is refused
    delivery = load("woocommerce/order_created")
    headers = {**delivery.headers, "X-WC-Webhook-Source": "https://staging.pg-demo.example/"}
    r = world.post("woocommerce", delivery, headers=headers)
    assert r.status_code == 400
    assert WOO_SITE in r.json()["detail"]


def test_woo_order_then_partial_refund_from_the_refunds_api(world: World) -> None:
    assert world.post("woocommerce", load("woocommerce/order_created")).status_code == 200
    assert world.net_units() == 3
    r = world.post("woocommerce", load("woocommerce/order_updated_partial_refund"))
    assert r.status_code == 200, r.text
    assert world.net_units() == 2
    assert world.woo_refunds.calls == [("4817", "4861")]
    # a later update listing the same refund does not fetch or reverse it again
    body = json.loads(load("woocommerce/order_updated_partial_refund").body)
    body["date_modified_gmt"] = "2026-03-20T08:00:00"
    from wefirst.ingest.connectors.signatures import b64_hmac_sha256

    raw = json.dumps(body).encode()
    headers = {
        **load("woocommerce/order_updated_partial_refund").headers,
        "X-WC-Webhook-Signature": b64_hmac_sha256("wefirst-fixture-woo-secret", raw),
    }
    assert world.post("woocommerce", Delivery("u", raw, headers)).status_code == 200
    assert world.net_units() == 2
    assert world.woo_refunds.calls == [("4817", "4861")]


def test_woo_update_alone_counts_the_sale_and_the_refund(world: World) -> None:
    """Woo builds payloads at send time: the first delivery we get may already carry the
    refund. Sale and refund both count from it."""
    assert world.post("woocommerce", load("woocommerce/order_updated_partial_refund")).status_code == 200
    assert world.net_units() == 2
    assert world.post("woocommerce", load("woocommerce/order_created")).status_code == 200
    assert world.net_units() == 2


def test_woo_refunds_api_down_counts_the_sale_and_retries_the_refund(world: World) -> None:
    world.woo_refunds.refunds.clear()
    world.post("woocommerce", load("woocommerce/order_updated_partial_refund"))
    status = world.status("woocommerce")
    assert status["deliveries"]["by_status"] == {"queued": 1}
    assert world.net_units() == 3  # what the delivery says by itself is applied already
    world.woo_refunds.refunds[("4817", "4861")] = woo_refund()
    url = f"/v1/connectors/{world.connections['woocommerce']}/process"
    r = world.client.post(url, headers=auth(world.brand.key))
    assert r.json()["counts"] == {"processed": 1}
    assert world.net_units() == 2
    # a refunds API answer we cannot read fails the delivery (and says why)
    body = json.loads(load("woocommerce/order_updated_partial_refund").body)
    body["refunds"].append({"id": 4999, "reason": "", "total": "-1.00"})
    raw = json.dumps(body).encode()
    world.woo_refunds.refunds[("4817", "4999")] = {"id": 4999, "line_items": "?"}
    headers = {
        **load("woocommerce/order_updated_partial_refund").headers,
        "X-WC-Webhook-Signature": b64_hmac_sha256(WOO_SECRET, raw),
    }
    world.post("woocommerce", Delivery("bad-refund", raw, headers))
    assert world.status("woocommerce")["deliveries"]["by_status"] == {"failed": 1, "processed": 1}
    assert world.net_units() == 2


def test_woo_deleted_order_reverses_what_was_counted(world: World) -> None:
    from wefirst.ingest.connectors.signatures import b64_hmac_sha256

    world.post("woocommerce", load("woocommerce/order_created"))
    body = b'{"id":4817}'
    headers = {
        **load("woocommerce/order_created").headers,
        "X-WC-Webhook-Topic": "order.deleted",
        "X-WC-Webhook-Event": "deleted",
        "X-WC-Webhook-Signature": b64_hmac_sha256("wefirst-fixture-woo-secret", body),
    }
    assert world.post("woocommerce", Delivery("d", body, headers)).status_code == 200
    assert world.net_units() == 0


# ------------------------------------------------------------------ Stripe


def test_stripe_checkout_line_items_then_partial_refund(world: World) -> None:
    r = world.post("stripe", restamp_stripe(load("stripe/checkout_session_completed")))
    assert r.status_code == 200, r.text
    assert world.net_units() == 2
    http: Any = world.line_items.client._requestor._client
    assert http.requests == [
        (
            "GET",
            "/v1/checkout/sessions/cs_live_b1Kw9EfIrStPaMpErSdEmO0a1NqR7sT4uV8wX2yZ3aB5cD6eF7gH8iJ"
            "/line_items",
        )
    ]
    r = world.post("stripe", restamp_stripe(load("stripe/charge_refunded")))
    assert r.status_code == 200, r.text
    assert world.net_units() == 1  # 24.99 € refunded = one PAMPERS pack
    # a redelivered event changes nothing, and does not call Stripe again
    world.post("stripe", restamp_stripe(load("stripe/checkout_session_completed")))
    assert world.net_units() == 1
    assert len(http.requests) == 1


def test_stripe_cumulative_refunds_in_any_order(world: World) -> None:
    refund = json.loads(load("stripe/charge_refunded").body)
    bigger = json.loads(json.dumps(refund))
    bigger["id"] = "evt_second_refund"
    bigger["data"]["object"]["amount_refunded"] = 4998
    bigger["data"]["previous_attributes"]["amount_refunded"] = 2499
    # the larger cumulative refund arrives first, then the smaller, then the sale
    assert world.post("stripe", sign_stripe(json.dumps(bigger).encode())).status_code == 200
    assert world.post("stripe", restamp_stripe(load("stripe/charge_refunded"))).status_code == 200
    assert world.net_units() == 0
    assert world.status("stripe")["held_reversals"] == 1  # the charge waits for its session
    world.post("stripe", restamp_stripe(load("stripe/checkout_session_completed")))
    assert world.net_units() == 0  # 49.98 € = both PAMPERS packs
    assert world.status("stripe")["held_reversals"] == 0
    assert world.status("stripe")["units"] == {"counted": 3, "reversed": 2}


def test_stripe_stale_signature_and_test_mode(world: World) -> None:
    r = world.post("stripe", load("stripe/checkout_session_completed"))
    assert r.status_code == 401
    assert r.json()["reason"] == "stale_timestamp"
    assert _deliveries(world) == 0
    # a test-mode event is stored and acknowledged, and never pledges
    event = json.loads(load("stripe/checkout_session_completed").body)
    event["livemode"] = False
    assert world.post("stripe", sign_stripe(json.dumps(event).encode())).status_code == 200
    assert world.net_units() == 0
    assert world.status("stripe")["deliveries"]["by_status"] == {"ignored": 1}


def test_stripe_line_items_unavailable_retries_then_fails(world: World) -> None:
    event = json.loads(load("stripe/checkout_session_completed").body)
    event["id"] = "evt_unknown_session"
    event["data"]["object"]["id"] = "cs_live_not_recorded"
    assert world.post("stripe", sign_stripe(json.dumps(event).encode())).status_code == 200
    status = world.status("stripe")["deliveries"]["by_status"]
    assert status == {"queued": 1}
    url = f"/v1/connectors/{world.connections['stripe']}/process"
    for _ in range(3):
        assert world.client.post(url, headers=auth(world.brand.key)).json()["counts"] == {"queued": 1}
    assert world.client.post(url, headers=auth(world.brand.key)).json()["counts"] == {"failed": 1}
    assert world.status("stripe")["deliveries"]["by_status"] == {"failed": 1}
    day = world.client.get(
        f"/v1/connectors/{world.connections['stripe']}/reconciliation",
        params={"day": utcnow().date().isoformat()},
        headers=auth(world.brand.key),
    ).json()
    (stuck,) = day["unprocessed_deliveries"]
    assert stuck["status"] == "failed"
    assert "gave up after 5 attempts" in stuck["note"]
    assert world.net_units() == 0


def test_mapping_rules_are_validated(world: World, admin_key: str) -> None:
    from factories import make_beneficiary, make_brand, make_campaign

    other = make_brand(world.client, world.db, admin_key, name="Other")
    ben = make_beneficiary(world.client, world.db, admin_key, name="Other NGO")
    foreign = make_campaign(world.client, other, ben.id)
    url = f"/v1/connectors/{world.connections['shopify']}/mappings"
    r = world.client.put(
        url,
        headers=auth(world.brand.key),
        json={"rules": [{"kind": "sku", "pattern": "PAMPERS-*", "campaign_id": foreign}]},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "rules[0].campaign_id"
    r = world.client.put(
        url,
        headers=auth(world.brand.key),
        json={"rules": [{"kind": "gtin", "pattern": "2000001003528", "sku": "X"}]},
    )
    assert r.status_code == 422
    r = world.client.put(
        url,
        headers=auth(world.brand.key),
        json={"rules": [{"kind": "sku", "pattern": "PG-*", "campaign_id": world.campaign_id}]},
    )
    assert r.status_code == 200
    assert r.json()["mappings"] == [
        {"kind": "sku", "pattern": "PG-*", "campaign_id": world.campaign_id, "sku": None}
    ]
    # only PG-* now counts for this shop: the PAMPERS packs are outside the mapping
    world.post("shopify", load("shopify/orders_create"))
    assert world.net_units() == 0
    assert world.status("shopify")["lines"]["by_outcome"] == {"no_rule": 1, "unmapped": 2}
