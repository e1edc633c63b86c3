"""The API's event bodies (purchases, clicks, refunds) and their translation into the pledge
engine's inputs. Validation happens here, at the edge, so the engine only sees values that
already make sense; errors name the field (RFC 9457 through the API's one handler)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, IPvAnyAddress, model_validator

from wefirst.catalog.models import Currency, Instant, MoneyIn, Strict
from wefirst.pledges.model import LineIn, PurchaseIn, RefundIn, RefundLineIn

Text = Annotated[str, Field(min_length=1, max_length=200)]


class PurchaseLineBody(Strict):
    line_id: Text | None = Field(None, description="Your line id; default: its position, 1-based.")
    sku: Text
    quantity: Annotated[int, Field(ge=1, le=100_000)]
    unit_price: MoneyIn
    tax: MoneyIn | None = Field(
        None,
        description=(
            "The line's total tax (all units). With `prices_include_tax`, it lets a percentage "
            "of the price with (or without) tax be computed from a price on the other basis."
        ),
    )


class PurchaseBody(Strict):
    order_id: Text
    currency: Currency
    occurred_at: Instant
    lines: Annotated[list[PurchaseLineBody], Field(min_length=1, max_length=500)]
    campaign_id: str | None = None
    test: bool = False
    prices_include_tax: bool | None = Field(
        None,
        description=(
            "Whether `unit_price` includes tax. A percent_of_sale rule with a `price_basis` "
            "other than as_reported counts nothing for a line whose basis is not known "
            "(outcome `tax_unknown`; docs/connectors.md, 'Tax basis')."
        ),
    )

    @model_validator(mode="after")
    def _consistent(self) -> PurchaseBody:
        ids = [line.line_id or str(i + 1) for i, line in enumerate(self.lines)]
        if len(set(ids)) != len(ids):
            raise ValueError("lines: line ids must be unique within an order")
        for line in self.lines:
            if line.unit_price.currency != self.currency:
                raise ValueError("lines: every unit_price.currency must equal the order currency")
            if line.tax is not None and line.tax.currency != self.currency:
                raise ValueError("lines: every tax.currency must equal the order currency")
        return self

    def to_purchase(self, received_at: datetime) -> PurchaseIn:
        return PurchaseIn(
            order_id=self.order_id,
            currency=self.currency,
            occurred_at=self.occurred_at,
            lines=[
                LineIn(
                    line.sku,
                    line.quantity,
                    line.unit_price.amount,
                    line.line_id or str(i + 1),
                    tax=line.tax.amount if line.tax is not None else None,
                )
                for i, line in enumerate(self.lines)
            ],
            campaign_id=self.campaign_id,
            test=self.test,
            received_at=received_at,
            prices_include_tax=self.prices_include_tax,
        )


class ClickBody(Strict):
    campaign_id: Text
    publisher_id: Text | None = None
    visitor: Annotated[
        str,
        Field(
            min_length=16,
            max_length=128,
            pattern=r"^[A-Za-z0-9_\-]+$",
            description="A pseudonymous visitor commitment.",
        ),
    ]
    visitor_ip: Annotated[
        IPvAnyAddress | None,
        Field(
            description=(
                "Brand keys only: the reader's IP address as the brand's server saw it. The "
                "per-network limits then apply to the reader's network (IPv4 /24, IPv6 /48) "
                "instead of to the API key as a whole. Only its keyed network pseudonym is stored."
            ),
        ),
    ] = None


class RefundLineBody(Strict):
    line_id: Text
    quantity: Annotated[int, Field(ge=1, le=100_000)]


class RefundBody(Strict):
    order_id: Text
    refund_id: Text | None = None
    reason: Literal["refund", "cancel"] = "refund"
    lines: Annotated[list[RefundLineBody], Field(max_length=500, default_factory=list)]
    occurred_at: Instant | None = None

    @model_validator(mode="after")
    def _something(self) -> RefundBody:
        if not self.lines and self.reason != "cancel":
            raise ValueError("lines: a refund needs lines (or reason 'cancel' for a whole order)")
        return self

    def to_refund(self, refund_id: str, received_at: datetime) -> RefundIn:
        return RefundIn(
            order_id=self.order_id,
            refund_id=refund_id,
            lines=[RefundLineIn(line.line_id, line.quantity) for line in self.lines],
            reason=self.reason,
            occurred_at=self.occurred_at,
            received_at=received_at,
            whole_order=self.reason == "cancel" and not self.lines,
        )
