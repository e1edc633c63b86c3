"""Webhook signature checks over the raw body bytes, before any parsing.

Every check takes the connection's *active* secrets (two during a rotation) and returns the
index of the one that matched, so the service can tell when the old secret is no longer used
and retire it. Comparisons are constant-time; Stripe's check goes through the official SDK."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Sequence

import stripe

from wefirst.ingest.connectors.errors import SignatureRejected

STRIPE_TOLERANCE_SECONDS = 300
"""Stripe's own default (`Webhook.DEFAULT_TOLERANCE`): older timestamps are replays."""


def b64_hmac_sha256(secret: str, raw_body: bytes) -> str:
    """Shopify's and WooCommerce's scheme: base64 (not hex) of HMAC-SHA256 over the body."""
    digest = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def stripe_v1(secret: str, timestamp: int, raw_body: bytes) -> str:
    """Stripe's `v1`: hex HMAC-SHA256 of `"<t>." + body`, keyed by the whole `whsec_…` string."""
    msg = str(timestamp).encode("ascii") + b"." + raw_body
    return hmac.new(secret.encode("utf-8"), msg, hashlib.sha256).hexdigest()


def _require_secrets(secrets: Sequence[str]) -> None:
    if not secrets or not all(secrets):
        raise SignatureRejected("no_secret", "this connection has no active signing secret")


def verify_base64_hmac(raw_body: bytes, header_value: str | None, secrets: Sequence[str]) -> int:
    """Shopify `X-Shopify-Hmac-Sha256` and WooCommerce `X-WC-Webhook-Signature`.

    The header is compared as text, not decoded: base64 has spare bits in its last character,
    so decoding would accept several spellings of one signature."""
    _require_secrets(secrets)
    if not header_value:
        raise SignatureRejected("missing_signature", "the signature header is missing")
    received = header_value.strip().encode("utf-8")
    matched = -1
    for index, secret in enumerate(secrets):
        expected = b64_hmac_sha256(secret, raw_body).encode("ascii")
        if hmac.compare_digest(expected, received) and matched < 0:
            matched = index
    if matched < 0:
        raise SignatureRejected("bad_signature", "the signature does not match the body")
    return matched


verify_shopify = verify_base64_hmac
verify_woocommerce = verify_base64_hmac


def parse_stripe_header(header_value: str) -> tuple[int, list[str]]:
    """`t=<unix>,v1=<hex>[,v1=<hex>…]`; other schemes (`v0`) are ignored as Stripe advises."""
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header_value.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep:
            raise SignatureRejected("malformed_signature", f"bad Stripe-Signature item {item!r}")
        if name == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit():
                raise SignatureRejected("malformed_signature", "bad or repeated t= timestamp")
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None:
        raise SignatureRejected("malformed_signature", "Stripe-Signature has no t= timestamp")
    if not signatures:
        raise SignatureRejected("malformed_signature", "Stripe-Signature has no v1 signature")
    return timestamp, signatures


def verify_stripe(
    raw_body: bytes,
    header_value: str | None,
    secrets: Sequence[str],
    *,
    tolerance: int | None = STRIPE_TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Verify with `stripe.WebhookSignature.verify_header` for each active secret.

    The SDK raises one exception type for every failure, so the header shape and the timestamp
    age are checked here to count rejections by reason; the HMAC itself is the SDK's. As in the
    SDK, future timestamps are not rejected (clock skew), only those older than `tolerance`."""
    _require_secrets(secrets)
    if not header_value:
        raise SignatureRejected("missing_signature", "the Stripe-Signature header is missing")
    timestamp, _ = parse_stripe_header(header_value)
    try:
        payload = raw_body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Stripe signs text; bytes that are not UTF-8 were not produced by Stripe.
        raise SignatureRejected("bad_signature", "the signature does not match the body") from exc
    matched = -1
    for index, secret in enumerate(secrets):
        try:
            stripe.WebhookSignature.verify_header(payload, header_value, secret, tolerance=None)
        except stripe.SignatureVerificationError:
            continue
        matched = index
        break
    if matched < 0:
        raise SignatureRejected("bad_signature", "no v1 signature matches the body")
    current = time.time() if now is None else now
    if tolerance is not None and timestamp < current - tolerance:
        raise SignatureRejected("stale_timestamp", f"signature timestamp is more than {tolerance} s old")
    return matched
