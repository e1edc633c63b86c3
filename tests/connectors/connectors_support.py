"""Fixture loading for the connector tests. Bodies are read as bytes, never re-encoded,
because their signatures are over those exact bytes. (A uniquely named module, since every
test folder has a `conftest`.)"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

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
