"""The verdict on a promise: one reading of a campaign's balance that the home page, the
campaign page, the scorecard, the widget and the exports all share, so that "40 % paid" means
the same thing wherever a person reads it (pure: no I/O).

- **Owed** is the denominator: the pledges, or the guaranteed minimum when it is larger.
- **Paid** means paid *and confirmed* by the beneficiary. A payment the brand reported but the
  beneficiary has not confirmed yet is *awaiting confirmation*; a disputed one is not paid.
- **Delivered** is counted in impact units against the units owed (the pledged units, or what
  the guaranteed minimum buys at the unit's cost when that is more).
- **Late** is judged against the payment schedule. With one, the pledges of each period fall
  due `within_days` after the period ends; without one, everything falls due
  `DEFAULT_WITHIN_DAYS` after the campaign ends (and the pages say so). The guaranteed minimum
  is due at the end either way. An amount is late when it is due and not even reported paid:
  a payment awaiting confirmation is the beneficiary's move, not a late brand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, Literal

from wefirst.domain.campaigns import DEFAULT_PAYMENT_WITHIN_DAYS
from wefirst.ledger.balances import Balance

DEFAULT_WITHIN_DAYS = DEFAULT_PAYMENT_WITHIN_DAYS  # one number for the verdict and the disclosure
Period = Literal["month", "quarter", "campaign"]
PERIODS: tuple[Period, ...] = ("month", "quarter", "campaign")


class Standing(StrEnum):
    NOTHING_YET = "nothing_yet"  # nothing promised so far
    ON_TRACK = "on_track"  # everything due is paid and confirmed (or nothing is due yet)
    AWAITING_CONFIRMATION = "awaiting_confirmation"  # reported paid, the beneficiary has not confirmed
    LATE = "late"  # an amount is due and not reported paid
    KEPT = "kept"  # the campaign is over, everything owed is paid, confirmed and delivered


@dataclass(frozen=True)
class PaymentTerms:
    period: Period
    within_days: int
    stated: bool  # False: the campaign states no schedule and the default applies


def payment_terms(definition: dict[str, Any]) -> PaymentTerms:
    """The campaign's payment schedule (`payment_schedule: {"period", "within_days"}`), or the
    default when it states none."""
    raw = definition.get("payment_schedule")
    if isinstance(raw, dict) and raw.get("period") in PERIODS:
        within = raw.get("within_days", DEFAULT_WITHIN_DAYS)
        if isinstance(within, int) and not isinstance(within, bool) and within >= 0:
            return PaymentTerms(raw["period"], within, True)
    return PaymentTerms("campaign", DEFAULT_WITHIN_DAYS, False)


@dataclass(frozen=True)
class Due:
    """From `on`, `amount` (cumulative) must have been paid."""

    on: date
    amount: int


def _period_ends(start: date, last: date, period: Period) -> list[date]:
    """The last day of each month or quarter that began on or after `start`'s period and
    ended on or before `last`."""
    if period == "campaign":
        return []
    step = 1 if period == "month" else 3
    month = start.month if period == "month" else 3 * ((start.month - 1) // 3) + 1
    year = start.year
    out: list[date] = []
    while True:
        month += step
        if month > 12:
            year, month = year + 1, month - 12
        end = date(year, month, 1) - timedelta(days=1)
        if end > last:
            return out
        out.append(end)


def schedule(
    pledged_by_day: list[tuple[date, int]],
    *,
    owed: int,
    terms: PaymentTerms,
    start: date,
    end: date | None,
    today: date,
) -> list[Due]:
    """The due dates known today with the cumulative amount due on each, in date order.
    `pledged_by_day` is the running total of pledges per day (ascending)."""

    def pledged_on(day: date) -> int:
        total = 0
        for d, value in pledged_by_day:
            if d > day:
                break
            total = value
        return total

    last = min(today, end) if end is not None else today
    out = [
        Due(p_end + timedelta(days=terms.within_days), pledged_on(p_end))
        for p_end in _period_ends(start, last, terms.period)
        if end is None or p_end < end
    ]
    if end is not None:
        out.append(Due(end + timedelta(days=terms.within_days), owed))
    return out


def due_for(day: date, terms: PaymentTerms, end: date | None) -> date | None:
    """When a pledge made on `day` must be paid: `within_days` after its month or quarter ends
    (or after the campaign ends, if sooner), else after the campaign ends; None for an
    open-ended campaign without a schedule."""
    final = end + timedelta(days=terms.within_days) if end is not None else None
    if terms.period == "campaign":
        return final
    ends = _period_ends(day, date(day.year + 1, 12, 31), terms.period)
    period_end = ends[0] if ends else None
    if period_end is None or (end is not None and period_end >= end):
        return final
    return period_end + timedelta(days=terms.within_days)


@dataclass(frozen=True)
class Verdict:
    standing: Standing
    currency: str
    owed: int
    pledged: int
    guaranteed_minimum: int
    paid_confirmed: int
    awaiting_confirmation: int
    disputed: int
    due: int  # what must have been paid by today
    late_amount: int
    late_since: date | None
    next_due: Due | None
    owed_units: int
    pledged_units: int
    delivered_units: int
    terms: PaymentTerms

    @property
    def paid_share(self) -> tuple[int, int]:
        """Never over 100 %: a payment above what is owed is shown apart (`paid_beyond_owed`)."""
        return min(self.paid_confirmed, self.owed), self.owed

    @property
    def delivered_share(self) -> tuple[int, int]:
        """Never over 100 %: units beyond the pledges are shown apart (funded otherwise), and a
        refund after a delivery can leave more delivered than is still owed."""
        return min(self.delivered_units, self.owed_units), self.owed_units

    def as_json(self) -> dict[str, Any]:
        def m(amount: int) -> dict[str, Any]:
            return {"amount": amount, "currency": self.currency}

        return {
            "standing": self.standing.value,
            "owed": m(self.owed),
            "paid_confirmed": m(self.paid_confirmed),
            "awaiting_confirmation": m(self.awaiting_confirmation),
            "disputed": m(self.disputed),
            "due": m(self.due),
            "late": m(self.late_amount),
            "late_since": self.late_since.isoformat() if self.late_since else None,
            "next_due": (
                {"date": self.next_due.on.isoformat(), "amount": m(self.next_due.amount)}
                if self.next_due
                else None
            ),
            "owed_units": self.owed_units,
            "delivered_units": self.delivered_units,
            "payment_schedule": {
                "period": self.terms.period,
                "within_days": self.terms.within_days,
                "stated": self.terms.stated,
            },
        }


def owed_units(balance: Balance, unit_cost: int) -> int:
    """The units the beneficiary should deliver in the end: the pledged units, or what the
    guaranteed minimum buys when that is more."""
    bought = balance.guaranteed_minimum // unit_cost if unit_cost > 0 else 0
    return max(balance.pledged_units, bought)


def verdict(
    balance: Balance,
    pledged_by_day: list[tuple[date, int]],
    *,
    definition: dict[str, Any],
    unit_cost: int,
    today: date,
    ended: bool,
) -> Verdict:
    terms = payment_terms(definition)
    start = date.fromisoformat(str(definition["starts_at"])[:10])
    end_text = definition.get("ends_at")
    end = date.fromisoformat(str(end_text)[:10]) if end_text else None
    if ended and (end is None or end > today):
        end = today  # ended early: what is owed falls due from the day it ended
    dues = schedule(pledged_by_day, owed=balance.owed, terms=terms, start=start, end=end, today=today)
    reported = balance.paid_confirmed + balance.paid_unconfirmed  # disputed is not paid
    past = [d for d in dues if d.on <= today]
    due = max((d.amount for d in past), default=0)
    late_since = next((d.on for d in past if d.amount > reported), None)
    upcoming = next((d for d in dues if d.on > today), None)
    units = owed_units(balance, unit_cost)
    over = end is not None and end <= today
    if balance.owed == 0:
        standing = Standing.NOTHING_YET
    elif due > reported:
        standing = Standing.LATE
    elif balance.paid_unconfirmed > 0:
        standing = Standing.AWAITING_CONFIRMATION
    elif over and balance.paid_confirmed >= balance.owed and balance.delivered_units >= units:
        standing = Standing.KEPT
    else:
        standing = Standing.ON_TRACK
    return Verdict(
        standing=standing,
        currency=balance.currency,
        owed=balance.owed,
        pledged=balance.pledged_money,
        guaranteed_minimum=balance.guaranteed_minimum,
        paid_confirmed=balance.paid_confirmed,
        awaiting_confirmation=balance.paid_unconfirmed,
        disputed=balance.paid_disputed,
        due=due,
        late_amount=max(due - reported, 0),
        late_since=late_since,
        next_due=upcoming,
        owed_units=units,
        pledged_units=balance.pledged_units,
        delivered_units=balance.delivered_units,
        terms=terms,
    )
