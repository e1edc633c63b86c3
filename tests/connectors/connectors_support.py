"""Fixture loading for the connector tests. Bodies are read as bytes, never re-encoded,
because their signatures are over those exact bytes. (A uniquely named module, since every
test folder has a `conftest`.)"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from wefirst.ingest.connectors.clients import InMemoryWooRefunds, SDKLineItems
from wefirst.store.db import Database
from wefirst.store.tables_core import pledge_reversals, pledges

from factories import Tenant, auth

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "connectors"

SHOPIFY_SECRET = "wefirst-fixture-shopify-secret"
WOO_SECRET = "wefirst-fixture-woo-secret"
STRIPE_SECRET = "whsec_wefirstFixtureSecretNotReal123"


@dataclass(frozen=True)
class Delivery:
    name: str
    body: bytes
    headers: dict[str, str]


def load(relative: str) -> Delivery:
    """`shopify/orders_create` → the body file and its `.headers.json`."""
    folder = ASSETS / Path(relative).parent
    stem = Path(relative).name
    body_path = next(p for p in folder.iterdir() if p.stem == stem and ".headers" not in p.name)
    headers_path = folder / f"{stem}.headers.json"
    headers = json.loads(headers_path.read_text("utf-8")) if headers_path.exists() else {}
    return Delivery(relative, body_path.read_bytes(), headers)


SIGNED = {
    "shopify/orders_create": ("X-Shopify-Hmac-Sha256", SHOPIFY_SECRET),
    "shopify/orders_create_test_order": ("X-Shopify-Hmac-Sha256", SHOPIFY_SECRET),
    "shopify/refunds_create": ("X-Shopify-Hmac-Sha256", SHOPIFY_SECRET),
    "woocommerce/order_created": ("X-WC-Webhook-Signature", WOO_SECRET),
    "woocommerce/order_updated_partial_refund": ("X-WC-Webhook-Signature", WOO_SECRET),
    "stripe/checkout_session_completed": ("Stripe-Signature", STRIPE_SECRET),
    "stripe/charge_refunded": ("Stripe-Signature", STRIPE_SECRET),
}


# ------------------------------------------------------------------ HTTP helpers

SHOP = "pg-brandstore-demo.myshopify.com"
WOO_SITE = "https://boutique.pg-demo.example/"
STRIPE_ACCOUNT = "acct_1WeFirstDemoAcct"
SESSION_ID = "cs_live_b1Kw9EfIrStPaMpErSdEmO0a1NqR7sT4uV8wX2yZ3aB5cD6eF7gH8iJ"


def line_items_body() -> str:
    return (ASSETS / "stripe" / "checkout_session_line_items.json").read_text("utf-8")


def woo_refund() -> dict[str, object]:
    value: dict[str, object] = json.loads((ASSETS / "woocommerce" / "refund_4861_api.json").read_bytes())
    return value


def restamp_stripe(delivery: Delivery, secret: str = STRIPE_SECRET, timestamp: int | None = None) -> Delivery:
    """Fixture Stripe headers are from 2026-03: sign the same bytes now, with the SDK."""
    import stripe

    header = stripe.WebhookSignature.generate_signature_header(
        delivery.body.decode("utf-8"), secret, timestamp=timestamp
    )
    return Delivery(delivery.name, delivery.body, {**delivery.headers, "Stripe-Signature": header})


def sign_shopify(
    body: bytes, topic: str, event_id: str, secret: str = SHOPIFY_SECRET, shop: str = SHOP
) -> Delivery:
    from wefirst.ingest.connectors.signatures import b64_hmac_sha256

    return Delivery(
        topic,
        body,
        {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": b64_hmac_sha256(secret, body),
            "X-Shopify-Shop-Domain": shop,
            "X-Shopify-Event-Id": event_id,
            "X-Shopify-Webhook-Id": event_id + "-w",
        },
    )


def sign_stripe(body: bytes, secret: str = STRIPE_SECRET) -> Delivery:
    return restamp_stripe(Delivery("stripe", body, {"Content-Type": "application/json"}), secret)


@dataclass
class World:
    """A brand with a PAMPERS-* campaign (1 vaccine per pack) and one connection per
    platform, signed with the fixture secrets; call-backs served from the fixtures."""

    client: TestClient
    db: Database
    brand: Tenant
    campaign_id: str
    connections: dict[str, str]
    woo_refunds: InMemoryWooRefunds
    line_items: SDKLineItems

    def post(
        self,
        platform: str,
        delivery: Delivery,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Response:
        r: Response = self.client.post(
            f"/v1/connectors/{self.connections[platform]}/{platform}",
            content=delivery.body if body is None else body,
            headers=delivery.headers if headers is None else headers,
        )
        return r

    def net_units(self) -> int:
        with self.db.read() as conn:
            pledged = conn.execute(
                select(func.coalesce(func.sum(pledges.c.units), 0)).where(
                    pledges.c.campaign_id == self.campaign_id
                )
            ).scalar()
            reversed_ = conn.execute(
                select(func.coalesce(func.sum(pledge_reversals.c.units), 0))
                .select_from(pledge_reversals.join(pledges, pledges.c.id == pledge_reversals.c.pledge_id))
                .where(pledges.c.campaign_id == self.campaign_id)
            ).scalar()
        return int(pledged or 0) - int(reversed_ or 0)

    def status(self, platform: str) -> dict[str, Any]:
        r = self.client.get(
            f"/v1/connectors/{self.connections[platform]}/status", headers=auth(self.brand.key)
        )
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result
