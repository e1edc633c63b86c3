"""Chart of accounts and the balanced postings of each transaction kind (pure).

Two commodities per campaign: its currency, and `UNITS` (impact units). Amounts are debit-
positive. Every transaction's postings sum to zero per commodity — a property test holds it."""

from __future__ import annotations

from dataclasses import dataclass

UNITS = "UNITS"

COMMITMENTS = "brand:commitments"  # what the brand has promised (debit)
OWED = "beneficiary:owed"  # promised but not yet reported paid
PAID_UNCONFIRMED = "beneficiary:paid_unconfirmed"  # reported paid, awaiting the beneficiary
PAID_CONFIRMED = "beneficiary:paid_confirmed"
PAID_DISPUTED = "beneficiary:paid_disputed"
FUNDED = "impact:funded"  # units promised (debit)
TO_DELIVER = "impact:to_deliver"
DELIVERED = "impact:delivered"
# Units a beneficiary delivered beyond what this campaign's pledges fund, acknowledged with a
# reason: kept apart so a share delivered can never read over 100 %.
FUNDED_OTHERWISE = "impact:funded_otherwise"
DELIVERED_BEYOND = "impact:delivered_beyond"


@dataclass(frozen=True)
class Posting:
    account: str
    commodity: str
    amount: int


def _pair(debit: str, credit: str, commodity: str, amount: int) -> list[Posting]:
    if amount == 0:
        return []
    return [Posting(debit, commodity, amount), Posting(credit, commodity, -amount)]


def pledge(currency: str, money: int, units: int) -> list[Posting]:
    return _pair(COMMITMENTS, OWED, currency, money) + _pair(FUNDED, TO_DELIVER, UNITS, units)


def pledge_reversal(currency: str, money: int, units: int) -> list[Posting]:
    return _pair(OWED, COMMITMENTS, currency, money) + _pair(TO_DELIVER, FUNDED, UNITS, units)


def settlement_reported(currency: str, money: int) -> list[Posting]:
    return _pair(OWED, PAID_UNCONFIRMED, currency, money)


def settlement_confirmed(currency: str, money: int) -> list[Posting]:
    return _pair(PAID_UNCONFIRMED, PAID_CONFIRMED, currency, money)


def settlement_disputed(currency: str, money: int) -> list[Posting]:
    return _pair(PAID_UNCONFIRMED, PAID_DISPUTED, currency, money)


def delivery_reported(units: int, beyond: int = 0) -> list[Posting]:
    """`units` delivered in all, of which `beyond` exceed what the pledges fund."""
    return _pair(TO_DELIVER, DELIVERED, UNITS, units - beyond) + _pair(
        FUNDED_OTHERWISE, DELIVERED_BEYOND, UNITS, beyond
    )


def is_balanced(postings: list[Posting]) -> bool:
    totals: dict[str, int] = {}
    for p in postings:
        totals[p.commodity] = totals.get(p.commodity, 0) + p.amount
    return all(v == 0 for v in totals.values())
