"""What brands and beneficiaries send about money and impact after the pledge (a payment
reported, a decision on it, a delivery), as validated request bodies. Shared by the JSON API
and the consoles, which read the same fields from a form."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from wefirst.catalog.models import Day, Instant, MoneyIn, Strict

Reason = Annotated[str, Field(min_length=3, max_length=500)]


class SettlementIn(Strict):
    amount: MoneyIn
    external_reference: Annotated[
        str, Field(min_length=1, max_length=200, description="Bank transfer or receipt reference.")
    ]
    paid_at: Instant
    beyond_owed_reason: Reason | None = Field(
        None, description="Why a payment exceeds what is still owed; required when it does."
    )


class DecisionIn(Strict):
    note: Annotated[str, Field(max_length=1000)] | None = Field(
        None, description="Required to dispute: what is missing or wrong."
    )
    amount: MoneyIn | None = Field(
        None, description="To confirm part of the payment: the amount received (default: all of it)."
    )
    bank_reference: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None, description="The bank statement line the confirmation is read from (required for a part)."
    )


class DeliveryIn(Strict):
    units: Annotated[int, Field(ge=1, le=10**12)]
    period_start: Day
    period_end: Day
    evidence_url: Annotated[str, Field(max_length=1000, pattern=r"^https://\S+$")]
    note: Annotated[str, Field(max_length=1000)] | None = None
    beyond_funded_reason: Reason | None = Field(
        None,
        description="Why units beyond what this campaign's pledges fund were delivered (who funded "
        "them); required when they are.",
    )

    @model_validator(mode="after")
    def _period(self) -> DeliveryIn:
        if self.period_end < self.period_start:
            raise ValueError("period_end: must not be before period_start")
        return self
