"""Feed the demo's balances through the real receivers.

`replay_fixtures` registers a Shopify shop, a WooCommerce site, a Stripe account and a
retailer for a demo brand, then sends the spec's sample deliveries to the running server,
each signed with that connection's own secret: a paid order, a test order (ignored), a
refund, a redelivery (dropped), a WooCommerce ping, order and partial refund, a Stripe
Checkout sale and partial refund, and a retailer's weekly report. The samples are renamed to
the demo's invented brand and moved to recent dates so they fall inside its campaign."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import httpx
import stripe

from wefirst.ingest.connectors.signatures import b64_hmac_sha256

_RENAMES = (
    ("P&G Purifier", "Clairo Purifier"),
    ("P&G", "Clairo"),
    ("PG-PURIFIER", "CLAIRO-PURIFIER"),
    ("pg-purifier", "clairo-purifier"),
    ("pg-brandstore-demo", "doudou-demo"),
    ("pg-demo", "doudou"),
    ("PAMPERS", "DOUDOU"),
    ("Pampers", "Doudou"),
    ("pampers", "doudou"),
    ("ARIEL", "LESSIVE"),
    ("Ariel", "Lessive"),
)
SHOP = "doudou-demo.myshopify.com"
WOO_SITE = "https://boutique.doudou.example/"
STRIPE_ACCOUNT = "acct_1DoudouDemoAcct"
RETAILER = "RETAILCO-FR"


def rename_for_demo(text: str) -> str:
    """The spec's samples name real brands; the demo only invented ones."""
    for old, new in _RENAMES:
        text = text.replace(old, new)
    return text


def demo_text(name: str) -> str:
    data = resources.files("wefirst.ingest.connectors") / "demo_data"
    return rename_for_demo((data / name).read_text("utf-8"))


def _ok(r: httpx.Response, *expected: int) -> dict[str, Any]:
    if r.status_code not in (expected or (200, 201)):
        raise RuntimeError(f"{r.request.method} {r.request.url} → {r.status_code}: {r.text}")
    body: dict[str, Any] = r.json()
    return body


def _iso(dt: datetime, offset_hours: int = 0) -> str:
    local = dt.astimezone(UTC) + timedelta(hours=offset_hours)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + (f"+{offset_hours:02d}:00" if offset_hours else "")


def _php_json(doc: Any) -> bytes:
    """WooCommerce's `wp_json_encode`: compact, `\\/` and `\\uXXXX` escapes."""
    return json.dumps(doc, separators=(",", ":")).replace("/", "\\/").encode()


def _shopify(now: datetime) -> dict[str, bytes]:
    order = json.loads(demo_text("shopify_orders_create.json"))
    test = json.loads(demo_text("shopify_orders_create_test_order.json"))
    refund = json.loads(demo_text("shopify_refunds_create.json"))
    # sales inside the 72 h claim window (older orders are refused like back-dated purchases)
    sold = now - timedelta(hours=66)
    for doc in (order, test):
        for key in ("created_at", "processed_at", "updated_at"):
            doc[key] = _iso(sold, 1)
    for key in ("created_at", "processed_at"):
        refund[key] = _iso(now - timedelta(days=2), 1)
    compact = {"separators": (",", ":"), "ensure_ascii": False}
    return {
        name: json.dumps(doc, **compact).encode()  # type: ignore[arg-type]
        for name, doc in (("order", order), ("test", test), ("refund", refund))
    }


def _woo(now: datetime) -> dict[str, bytes]:
    created = json.loads(demo_text("woocommerce_order_created.json"))
    updated = json.loads(demo_text("woocommerce_order_updated_partial_refund.json"))
    sold = now - timedelta(hours=54)
    for doc in (created, updated):
        for key in ("date_created_gmt", "date_paid_gmt"):
            doc[key] = _iso(sold)
        doc["date_modified_gmt"] = _iso(sold + timedelta(seconds=2))
    updated["date_modified_gmt"] = _iso(now - timedelta(days=1))
    return {"created": _php_json(created), "updated": _php_json(updated)}


def _stripe(now: datetime) -> dict[str, bytes]:
    session = json.loads(demo_text("stripe_checkout_session_completed.json"))
    refund = json.loads(demo_text("stripe_charge_refunded.json"))
    sold = int((now - timedelta(hours=42)).timestamp())
    session["created"] = sold + 90
    session["data"]["object"]["created"] = sold
    session["data"]["object"]["expires_at"] = sold + 86_400
    refund["created"] = int((now - timedelta(days=1)).timestamp())
    refund["data"]["object"]["created"] = sold
    return {
        "session": json.dumps(session, indent=2).encode(),
        "refund": json.dumps(refund, indent=2).encode(),
    }


def _report(now: datetime) -> bytes:
    monday = (now - timedelta(days=now.weekday() + 7)).date()
    sunday = monday + timedelta(days=6)
    week = monday.isocalendar()
    text = demo_text("retail_sales_report_csv.txt")
    text = text.replace("RETAILCO-FR-2026-W11", f"RETAILCO-FR-{week.year}-W{week.week:02d}")
    text = text.replace("2026-03-09,2026-03-15", f"{monday},{sunday}")
    return text.encode()


def replay_fixtures(
    target: str | httpx.Client,
    *,
    brand_key: str,
    campaign_id: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Connect a shop, a site, a Stripe account and a retailer for the brand owning
    `campaign_id`, and replay signed deliveries through the receivers of `target` (a base URL
    or a client; FastAPI's TestClient is one). The server must serve call-backs from the bundled recordings
    (`connectors_fake_remote`). Returns the connection ids and their status figures."""
    if isinstance(target, str):
        with httpx.Client(base_url=target, timeout=30) as http:
            return replay_fixtures(http, brand_key=brand_key, campaign_id=campaign_id, now=now)
    http = target
    now = now or datetime.now(UTC)
    auth = {"Authorization": f"Bearer {brand_key}"}
    send = _Sender.connect(http, auth, campaign_id)
    ids = send.ids
    s = _shopify(now)
    send.shopify(s["order"], "orders/create", "demo-evt-order")
    send.shopify(s["order"], "orders/create", "demo-evt-order")  # a redelivery: dropped
    send.shopify(s["test"], "orders/create", "demo-evt-test")  # a test order: never pledges
    send.shopify(s["refund"], "refunds/create", "demo-evt-refund")
    send.woo_ping()
    w = _woo(now)
    send.woo(w["created"], "order.created")
    send.woo(w["updated"], "order.updated")
    st = _stripe(now)
    send.stripe_event(st["session"])
    send.stripe_event(st["refund"])
    report = _ok(
        http.post(
            f"/v1/connectors/{ids['retail']}/sales-reports",
            content=_report(now),
            headers={**auth, "Content-Type": "text/csv"},
        ),
        201,
    )
    statuses: dict[str, Any] = {}
    for platform, connection_id in ids.items():
        _ok(http.post(f"/v1/connectors/{connection_id}/process", headers=auth))
        statuses[platform] = _ok(http.get(f"/v1/connectors/{connection_id}/status", headers=auth))
    return {"connections": ids, "status": statuses, "sales_report": report}


@dataclass(frozen=True)
class _Sender:
    """The demo's four connections and their signing secrets, and one method per platform that
    signs a body as that platform does and posts it to its receiver."""

    http: httpx.Client
    ids: dict[str, str]  # platform -> connection id
    keys: dict[str, str]  # platform -> webhook secret

    @classmethod
    def connect(cls, http: httpx.Client, auth: dict[str, str], campaign_id: str) -> _Sender:
        keys = {p: f"demo-{p}-" + secrets.token_urlsafe(18) for p in ("shopify", "woocommerce")}
        keys["stripe"] = "whsec_" + secrets.token_urlsafe(24)
        specs = {"shopify": SHOP, "woocommerce": WOO_SITE, "stripe": STRIPE_ACCOUNT, "retail": RETAILER}
        ids: dict[str, str] = {}
        for platform, account in specs.items():
            name = f"Doudou demo {platform}"
            body: dict[str, Any] = {"platform": platform, "account": account, "name": name}
            if platform in keys:
                body["secret"] = keys[platform]
            ids[platform] = _ok(http.post("/v1/connectors", json=body, headers=auth), 201)["id"]
        _ok(
            http.put(
                f"/v1/connectors/{ids['retail']}/mappings",
                headers=auth,
                json={"rules": [{"kind": "sku", "pattern": "DOUDOU-*", "campaign_id": campaign_id}]},
            )
        )
        return cls(http, ids, keys)

    def shopify(self, body: bytes, topic: str, event: str) -> None:
        _ok(
            self.http.post(
                f"/v1/connectors/{self.ids['shopify']}/shopify",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Shopify-Topic": topic,
                    "X-Shopify-Shop-Domain": SHOP,
                    "X-Shopify-API-Version": "2026-01",
                    "X-Shopify-Event-Id": event,
                    "X-Shopify-Webhook-Id": secrets.token_hex(8),
                    "X-Shopify-Hmac-Sha256": b64_hmac_sha256(self.keys["shopify"], body),
                },
            )
        )

    def woo_ping(self) -> None:
        """WooCommerce's unsigned test ping, sent when a webhook is saved."""
        _ok(
            self.http.post(
                f"/v1/connectors/{self.ids['woocommerce']}/woocommerce",
                content=b"webhook_id=12",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        )

    def woo(self, body: bytes, topic: str) -> None:
        _ok(
            self.http.post(
                f"/v1/connectors/{self.ids['woocommerce']}/woocommerce",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-WC-Webhook-Source": WOO_SITE,
                    "X-WC-Webhook-Topic": topic,
                    "X-WC-Webhook-Resource": "order",
                    "X-WC-Webhook-Event": topic.split(".")[1],
                    "X-WC-Webhook-ID": "12",
                    "X-WC-Webhook-Delivery-ID": secrets.token_hex(16),
                    "X-WC-Webhook-Signature": b64_hmac_sha256(self.keys["woocommerce"], body),
                },
            )
        )

    def stripe_event(self, body: bytes) -> None:
        header = stripe.WebhookSignature.generate_signature_header(body.decode(), self.keys["stripe"])
        _ok(
            self.http.post(
                f"/v1/connectors/{self.ids['stripe']}/stripe",
                content=body,
                headers={"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": header},
            )
        )


def demo_step(ctx: Any) -> None:
    """Adapter for `wefirst.demo.EXTRA_STEPS` (takes the demo's `DemoContext`).

    Turns on the bundled call-back recordings on the running app's settings object (the demo
    has no network), then replays into the vaccine campaign of the diaper brand."""
    ctx.settings.connectors_fake_remote = True
    result = replay_fixtures(ctx.base_url, brand_key=ctx.keys["brand1"], campaign_id=ctx.ids["vaccine"])
    ctx.ids.update({f"connection_{p}": cid for p, cid in result["connections"].items()})
    ctx.urls["Shopify receiver"] = f"{ctx.base_url}/v1/connectors/{result['connections']['shopify']}/shopify"
