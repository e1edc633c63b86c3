"""What a stored delivery keeps once it is processed: the facts reconciliation needs, not the
shopper.

A shop's order webhook carries the buyer's name, e-mail, postal addresses, phone, IP address,
browser and card details. We need them for none of our work: pledges come from the order id,
the lines (SKU, product, quantity, price), amounts, currency, times and the tax flag. The raw
bytes are kept until the delivery is processed (a crash must be able to re-read them), then
replaced by this minimised JSON, which still parses to the same sales and reversals, so
`connectors reconcile` and anyone reading the inbox later sees what was counted and why.

Two passes, because shops add fields faster than we read their changelogs: whole objects and
fields known to hold personal data are dropped by name, then any string left that still looks
like an e-mail address or an IP address is blanked. Pure: bytes in, bytes out."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

# Objects that describe a person or a device, wherever they appear (Shopify, WooCommerce, Stripe).
_DROP = frozenset(
    {
        # who
        "customer",
        "customer_details",
        "billing",
        "billing_address",
        "billing_details",
        "shipping",
        "shipping_address",
        "shipping_details",
        "default_address",
        "addresses",
        "collected_information",
        "first_name",
        "last_name",
        "individual_name",
        "business_name",
        "company",
        # how to reach them
        "email",
        "contact_email",
        "customer_email",
        "receipt_email",
        "phone",
        "address",
        # their device and visit
        "browser_ip",
        "client_details",
        "customer_ip_address",
        "customer_user_agent",
        "user_agent",
        "landing_site",
        "referring_site",
        "cart_token",
        "checkout_token",
        "token",
        "order_key",
        "order_status_url",
        "payment_url",
        "receipt_url",
        "success_url",
        "cancel_url",
        "_links",
        # what they typed, how they paid
        "note",
        "customer_note",
        "note_attributes",
        "payment_method_details",
        "payment_details",
        "card",
        "source",
    }
)
_EMAIL = re.compile(r"[^\s@\"'<>]+@[^\s@\"'<>]+\.[A-Za-z]{2,}")
REMOVED = "[removed]"


def minimise(raw: bytes) -> bytes | None:
    """The delivery body without personal data, as compact JSON; None when the body is not a
    JSON object (a sales report's CSV, a malformed body): the caller keeps nothing of it."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    # Python writes a float with the shortest digits that read back the same, so a price sent as
    # 24.99 is stored as 24.99 and the parsers (which read numbers as Decimal) see the same value.
    return json.dumps(_clean(value), separators=(",", ":"), ensure_ascii=False).encode()


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if not (isinstance(k, str) and k.lower() in _DROP)}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, str) and _personal(value):
        return REMOVED
    return value


def _personal(text: str) -> bool:
    if _EMAIL.search(text):
        return True
    candidate = text.strip()
    if 2 < len(candidate) <= 45 and ("." in candidate or ":" in candidate):
        try:
            ipaddress.ip_address(candidate)
        except ValueError:
            return False
        return True
    return False
