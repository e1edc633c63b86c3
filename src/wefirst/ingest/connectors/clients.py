"""The two platform APIs processing needs, each behind a small Protocol.

Stripe Checkout events carry no line items and WooCommerce webhooks carry no refunded
quantities, so processing calls back. Real clients talk to the platforms; the fakes serve
recorded responses so tests and the demo run without a network, through the same code path
(the Stripe fake is a real `stripe.HTTPClient`, so the official SDK still does the parsing)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import stripe

from wefirst.ingest.connectors._payload import load_object
from wefirst.outbound import OutboundPolicy


class StripeLineItems(Protocol):
    def list_line_items(self, session_id: str) -> list[Mapping[str, Any]]: ...


class WooRefunds(Protocol):
    def get_refund(self, order_id: str, refund_id: str) -> Mapping[str, Any]: ...


class RemoteUnavailableError(Exception):
    """The platform API did not answer usefully; the delivery stays queued for a retry."""


class SDKLineItems:
    """Line items through the official SDK, with price and product expanded (spec §3)."""

    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client

    def list_line_items(self, session_id: str) -> list[Mapping[str, Any]]:
        try:
            page = self.client.v1.checkout.sessions.line_items.list(
                session_id, {"expand": ["data.price.product"], "limit": 100}
            )
            return [item.to_dict() for item in page.auto_paging_iter()]
        except stripe.StripeError as exc:
            raise RemoteUnavailableError(f"Stripe line items for {session_id}: {exc}") from exc


class FixtureHTTP(stripe.HTTPClient):
    """A `stripe.HTTPClient` that answers GETs from recorded bodies keyed by URL path.

    An unknown path gets Stripe's own 404 error shape, so the SDK raises as it would live."""

    name = "wefirst-fixture"

    def __init__(self, responses: Mapping[str, str]) -> None:
        super().__init__()
        self.responses = dict(responses)
        self.requests: list[tuple[str, str]] = []

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        path = urlsplit(url).path
        self.requests.append((method.upper(), path))
        body = self.responses.get(path)
        if body is None or method.lower() != "get":
            error = {"error": {"type": "invalid_request_error", "message": f"No such: {path}"}}
            return json.dumps(error), 404, {}
        return body, 200, {}

    def close(self) -> None:
        return None


def fixture_line_items(responses: Mapping[str, str]) -> SDKLineItems:
    """`responses` maps `cs_…` session ids to recorded line-item list bodies."""
    by_path = {f"/v1/checkout/sessions/{sid}/line_items": body for sid, body in responses.items()}
    return SDKLineItems(stripe.StripeClient("sk_test_fixture", http_client=FixtureHTTP(by_path)))


class HTTPWooRefunds:
    """`GET /wp-json/wc/v3/orders/<id>/refunds/<refund_id>` with a read-only consumer key."""

    def __init__(
        self,
        site: str,
        consumer_key: str,
        consumer_secret: str,
        client: httpx.Client | None = None,
        policy: OutboundPolicy | None = None,
    ) -> None:
        self.site = site.rstrip("/")
        self.auth = (consumer_key, consumer_secret)
        # the site is the brand's: Basic auth only over https, never to a private address
        self.client = client or (policy or OutboundPolicy()).client(timeout=10.0)

    def get_refund(self, order_id: str, refund_id: str) -> Mapping[str, Any]:
        url = f"{self.site}/wp-json/wc/v3/orders/{order_id}/refunds/{refund_id}"
        try:
            response = self.client.get(url, auth=self.auth)
        except httpx.HTTPError as exc:
            # the category, never the exception's text (it names hosts and addresses)
            raise RemoteUnavailableError(f"WooCommerce refund {refund_id}: {type(exc).__name__}") from exc
        if response.status_code != 200:
            status = response.status_code
            raise RemoteUnavailableError(f"WooCommerce refund {refund_id}: HTTP {status}")
        return load_object(response.content)


class InMemoryWooRefunds:
    """Refund objects keyed by (order id, refund id); a missing one is 'not available yet'."""

    def __init__(self, refunds: Mapping[tuple[str, str], Mapping[str, Any]] | None = None) -> None:
        self.refunds: dict[tuple[str, str], Mapping[str, Any]] = dict(refunds or {})
        self.calls: list[tuple[str, str]] = []

    def get_refund(self, order_id: str, refund_id: str) -> Mapping[str, Any]:
        self.calls.append((order_id, refund_id))
        refund = self.refunds.get((order_id, refund_id))
        if refund is None:
            raise RemoteUnavailableError(f"no refund {refund_id} on order {order_id}")
        return refund
