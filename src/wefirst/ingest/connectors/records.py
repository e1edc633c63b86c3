"""The normalised record every connector reduces its input to (spec section 0).

A delivery becomes a `ParsedDelivery`: sale lines (positive units), reversal lines (negative
units pointing at the sale line they reverse), an order-level cancellation, and amount-only
refunds (Stripe). Parsers produce these without I/O; the service turns them into pledges."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Source(StrEnum):
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"
    STRIPE = "stripe"
    RETAIL = "retail"


@dataclass(frozen=True, slots=True)
class ProductRef:
    """Everything a platform tells us about the product; mapping to a campaign uses the first
    that a connection's rules know (SKU, Stripe lookup key, product metadata)."""

    sku: str | None = None
    product_id: str | None = None
    variant_id: str | None = None
    lookup_key: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NormalisedLine:
    """One unit movement on one order line.

    `line_key` is the business idempotency key (spec tables). For a reversal,
    `target_line_key` is the sale line it reverses, and `quantity_delta` is negative."""

    source: Source
    account: str
    external_id: str
    line_key: str
    sku: str | None
    quantity_delta: int
    unit_price_minor: int | None
    currency: str | None
    occurred_at: datetime
    is_test: bool
    raw_ref: str
    order_ref: str
    line_ref: str
    target_line_key: str | None = None
    product: ProductRef = field(default_factory=ProductRef)
    #: whether `unit_price_minor` includes tax, as the platform says; None: it does not say
    includes_tax: bool | None = None
    tax_minor: int | None = None  # the line's total tax, when the platform sends it


@dataclass(frozen=True, slots=True)
class OrderCancellation:
    """The whole order is void: reverse every counted unit not yet reversed, on lines known now
    or counted later (a WooCommerce `order.deleted` body carries only the order id)."""

    order_ref: str
    key_prefix: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class AmountRefund:
    """Stripe refunds carry money, not items: the cumulative refunded amount of one charge.

    The service reverses `floor(amount / unit price)` units line by line in the session's line
    order; since the amount is cumulative, taking the largest one seen is order-independent."""

    reversal_key: str
    order_ref: str
    charge_id: str
    cumulative_minor: int
    charge_amount_minor: int
    fully_refunded: bool
    currency: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class CheckoutToFetch:
    """A paid Checkout Session whose line items must be fetched from the Stripe API."""

    session_id: str
    order_ref: str
    currency: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class ParsedDelivery:
    source: Source
    account: str
    topic: str
    is_test: bool
    occurred_at: datetime
    order_ref: str | None = None
    sales: tuple[NormalisedLine, ...] = ()
    reversals: tuple[NormalisedLine, ...] = ()
    cancellation: OrderCancellation | None = None
    amount_refunds: tuple[AmountRefund, ...] = ()
    refund_ids_to_fetch: tuple[str, ...] = ()
    checkout: CheckoutToFetch | None = None
    ignored: str | None = None
    """Why a well-formed delivery changes nothing (unpaid order, topic we do not use)."""
    known_lines: tuple[NormalisedLine, ...] = ()
    """Every line in the body, counted or not: refund lines without `_refunded_item_id` are
    matched against them."""
    event_id: str | None = None
    """The platform's event id when the body carries one (Stripe `evt_…`)."""
