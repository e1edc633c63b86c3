"""The verdict on a promise (ledger/verdict.py): one denominator (owed), paid means confirmed,
late by the payment schedule, and the schedule's absence stated rather than guessed."""

from __future__ import annotations

from datetime import date
from typing import Any

from wefirst.ledger.balances import Balance
from wefirst.ledger.verdict import (
    DEFAULT_WITHIN_DAYS,
    Standing,
    payment_terms,
    schedule,
    verdict,
)


def balance(
    pledged: int = 0,
    *,
    units: int | None = None,
    gmin: int = 0,
    confirmed: int = 0,
    unconfirmed: int = 0,
    disputed: int = 0,
    delivered: int = 0,
) -> Balance:
    return Balance(
        campaign_id="cmp_x",
        currency="EUR",
        pledged_units=pledged // 30 if units is None else units,
        pledged_money=pledged,
        paid_unconfirmed=unconfirmed,
        paid_confirmed=confirmed,
        paid_disputed=disputed,
        delivered_units=delivered,
        guaranteed_minimum=gmin,
    )


def definition(**extra: Any) -> dict[str, Any]:
    return {"starts_at": "2026-01-10T00:00:00Z", "ends_at": "2026-12-31T00:00:00Z", **extra}


MONTHLY: dict[str, Any] = {"payment_schedule": {"period": "month", "within_days": 15}}
PLEDGES = [(date(2026, 1, 20), 3_000), (date(2026, 2, 10), 9_000), (date(2026, 3, 5), 12_000)]


def judge(b: Balance, today: date, *, ended: bool = False, **extra: Any) -> Any:
    return verdict(b, PLEDGES, definition=definition(**extra), unit_cost=30, today=today, ended=ended)


def test_the_guaranteed_minimum_is_owed_when_larger_than_the_pledges() -> None:
    v = judge(balance(12_000, gmin=50_000, confirmed=6_000), date(2026, 3, 10))
    assert v.owed == 50_000
    assert v.paid_share == (6_000, 50_000)
    # what the minimum buys at 30 cents a unit is what should be delivered in the end
    assert v.owed_units == 50_000 // 30
    assert v.delivered_share == (0, 50_000 // 30)


def test_without_a_schedule_nothing_is_late_before_the_end_plus_the_default_delay() -> None:
    assert payment_terms(definition()).stated is False
    v = judge(balance(12_000), date(2026, 6, 1))
    assert (v.standing, v.due, v.late_amount) == (Standing.ON_TRACK, 0, 0)
    assert v.next_due is not None
    assert v.next_due.on == date(2027, 1, 30)  # Dec 31 + 30 days
    after = judge(balance(12_000, unconfirmed=2_000), date(2027, 2, 1))
    assert after.standing is Standing.LATE
    assert (after.due, after.late_amount, after.late_since) == (12_000, 10_000, date(2027, 1, 30))
    assert DEFAULT_WITHIN_DAYS == 30


def test_a_monthly_schedule_makes_each_month_due_fifteen_days_after_it_ends() -> None:
    dues = schedule(
        PLEDGES,
        owed=12_000,
        terms=payment_terms(MONTHLY),
        start=date(2026, 1, 10),
        end=date(2026, 12, 31),
        today=date(2026, 4, 20),
    )
    assert [(d.on, d.amount) for d in dues] == [
        (date(2026, 2, 15), 3_000),  # January's pledges
        (date(2026, 3, 15), 9_000),  # up to February
        (date(2026, 4, 15), 12_000),  # up to March
        (date(2027, 1, 15), 12_000),  # the end: everything owed
    ]
    late = judge(balance(12_000, confirmed=3_000), date(2026, 3, 20), **MONTHLY)
    assert late.standing is Standing.LATE
    assert (late.due, late.late_amount, late.late_since) == (9_000, 6_000, date(2026, 3, 15))
    # reported but not yet confirmed is the beneficiary's move, not a late brand
    waiting = judge(balance(12_000, confirmed=3_000, unconfirmed=6_000), date(2026, 3, 20), **MONTHLY)
    assert waiting.standing is Standing.AWAITING_CONFIRMATION
    assert waiting.late_amount == 0
    # a disputed payment is not paid
    disputed = judge(balance(12_000, confirmed=3_000, disputed=6_000), date(2026, 3, 20), **MONTHLY)
    assert disputed.standing is Standing.LATE
    assert disputed.disputed == 6_000


def test_quarters_and_early_ends() -> None:
    dues = schedule(
        PLEDGES,
        owed=12_000,
        terms=payment_terms({"payment_schedule": {"period": "quarter", "within_days": 0}}),
        start=date(2026, 1, 10),
        end=None,
        today=date(2026, 7, 2),
    )
    assert [(d.on, d.amount) for d in dues] == [(date(2026, 3, 31), 12_000), (date(2026, 6, 30), 12_000)]
    # a campaign ended early owes everything from the day it ended, plus the delay
    ended = judge(balance(12_000), date(2026, 5, 1), ended=True)
    assert ended.next_due is not None
    assert ended.next_due.on == date(2026, 5, 31)


def test_kept_only_when_over_paid_confirmed_and_delivered() -> None:
    assert (
        judge(balance(12_000, confirmed=12_000, delivered=400), date(2026, 6, 1)).standing
        is Standing.ON_TRACK
    )
    kept = judge(balance(12_000, confirmed=12_000, delivered=400), date(2027, 2, 1))
    assert kept.standing is Standing.KEPT
    short = judge(balance(12_000, confirmed=12_000, delivered=399), date(2027, 2, 1))
    assert short.standing is Standing.ON_TRACK
    assert judge(balance(0), date(2026, 6, 1)).standing is Standing.NOTHING_YET


def test_unknown_schedules_fall_back_to_the_stated_default() -> None:
    for raw in ({"period": "fortnight"}, {"period": "month", "within_days": -1}, "monthly", None):
        terms = payment_terms({"payment_schedule": raw})
        assert (terms.period, terms.within_days, terms.stated) == ("campaign", DEFAULT_WITHIN_DAYS, False)
