"""What the pledge engine takes (purchases, clicks, refunds) and gives back (per-line outcomes).

These are plain values: `ingest/` and the API turn the outside world's payloads into them, and
nothing here knows where an event came from beyond its `source` label."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Outcome = Literal[
    "pledged",
    "carried",
    "inactive",
    "over_cap",
    "no_rule",
    "duplicate",
    "test",
    "currency_mismatch",
    "tax_unknown",
]


@dataclass(frozen=True)
class Receipt:
    secret: str
    commitment: str


def new_receipt() -> Receipt:
    """The consumer keeps the secret; only its SHA-256 commitment goes into the public log."""
    secret = "rcpt_" + secrets.token_urlsafe(24)
    return Receipt(secret, commitment_of(secret))


def commitment_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def order_hash(salt: bytes, order_id: str) -> str:
    """Order numbers never appear in clear in the log: HMAC with the brand's secret salt."""
    return hmac.new(salt, order_id.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class LineIn:
    sku: str
    quantity: int
    unit_price: int
    line_id: str
    line_key: str | None = None  # business key from a connector; default order_hash:line_id
    tax: int | None = None  # the line's total tax (minor units), when the source sends it
    includes_tax: bool | None = None  # what the source says of this line's price (else the order's)


@dataclass(frozen=True)
class PurchaseIn:
    order_id: str
    currency: str
    occurred_at: datetime
    lines: list[LineIn]
    campaign_id: str | None = None
    test: bool = False
    source: str = "api"
    received_at: datetime | None = None  # when wefirst heard of it; default: now
    #: whether the lines' prices include tax, as the source says (Shopify `taxes_included`,
    #: WooCommerce `prices_include_tax`, the API's field); None: it did not say
    prices_include_tax: bool | None = None


@dataclass(frozen=True)
class ClickIn:
    campaign_id: str
    visitor: str  # a pseudonymous visitor commitment, never an IP or cookie in clear
    occurred_at: datetime
    publisher_id: str | None = None
    dedupe_key: str | None = None  # default: one click per visitor per UTC day
    received_at: datetime | None = None  # default: now


@dataclass(frozen=True)
class RefundLineIn:
    line_id: str
    quantity: int
    line_key: str | None = None


@dataclass(frozen=True)
class RefundIn:
    order_id: str
    refund_id: str
    lines: list[RefundLineIn]
    reason: Literal["refund", "cancel"] = "refund"
    occurred_at: datetime | None = None
    received_at: datetime | None = None  # default: now
    # a cancellation with no lines: every line of the order is reversed in full
    whole_order: bool = False


@dataclass(frozen=True)
class EventOutcome:
    outcome: Outcome
    campaign_id: str | None = None
    line_id: str | None = None
    units: int = 0
    money: int = 0
    currency: str | None = None
    pledge_id: str | None = None
    capped: bool = False
    receipt: Receipt | None = None

    def as_json(self, base_url: str) -> dict[str, Any]:
        out: dict[str, Any] = {"outcome": self.outcome, "campaign_id": self.campaign_id}
        if self.line_id is not None:
            out["line_id"] = self.line_id
        out["units"] = self.units
        out["money"] = {"amount": self.money, "currency": self.currency} if self.currency else None
        out["pledge_id"] = self.pledge_id
        out["capped"] = self.capped
        if self.receipt is not None:
            out["receipt"] = {
                "secret": self.receipt.secret,
                "commitment": self.receipt.commitment,
                "url": f"{base_url.rstrip('/')}/receipts#{self.receipt.secret}",
                "api_url": f"{base_url.rstrip('/')}/v1/receipts/{self.receipt.secret}",
            }
        return out


@dataclass(frozen=True)
class ReversalOutcome:
    outcome: Literal["reversed", "duplicate", "nothing_to_reverse", "not_found"]
    line_id: str
    campaign_id: str | None = None
    pledge_id: str | None = None
    units: int = 0
    money: int = 0
    currency: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "line_id": self.line_id,
            "campaign_id": self.campaign_id,
            "pledge_id": self.pledge_id,
            "units": self.units,
            "money": {"amount": self.money, "currency": self.currency} if self.currency else None,
        }


def outcomes_summary(results: Iterable[EventOutcome]) -> dict[str, int]:
    summary: dict[str, int] = {}
    for r in results:
        summary[r.outcome] = summary.get(r.outcome, 0) + 1
    return summary
