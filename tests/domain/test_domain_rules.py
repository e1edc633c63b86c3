"""Pledge arithmetic: carried remainders never drift, reversals never exceed, caps clamp."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wefirst.domain.campaigns import (
    Campaign,
    CampaignStatus,
    Caps,
    ImpactUnit,
    PercentOfSaleRule,
    PerClickRule,
    PerUnitRule,
    Rule,
    UnitLabel,
)
from wefirst.domain.money import Money, MoneyError
from wefirst.domain.rules import (
    DEN,
    MONEY_DEN,
    CapRoom,
    Carry,
    Draft,
    PurchaseLine,
    apply_caps,
    pledge_for_click,
    pledge_for_line,
    reversal_share,
)


def campaign(rules: tuple[Rule, ...], cost: int = 30, match_bps: int = 0) -> Campaign:
    unit = ImpactUnit(
        "iu_x",
        1,
        {"en": UnitLabel("dose", "doses")},
        Money(cost, "EUR"),
        "price list",
        date(2026, 1, 1),
        "funds",
    )
    return Campaign(
        "cmp_x",
        "brd_x",
        "ben_x",
        "c",
        "EUR",
        datetime(2026, 1, 1, tzinfo=UTC),
        None,
        CampaignStatus.active,
        rules,
        unit,
        Caps(),
        match_bps,
    )


lines = st.lists(st.tuples(st.integers(1, 50), st.integers(1, 100_000)), min_size=1, max_size=60)


@settings(max_examples=200)
@given(lines, st.integers(1, 10_000), st.integers(0, 20_000), st.integers(1, 5_000))
def test_percent_of_sale_sum_of_pledges_equals_rule_on_total(
    items: list[tuple[int, int]], bps: int, match: int, cost: int
) -> None:
    c = campaign((PercentOfSaleRule(bps),), cost=cost, match_bps=match)
    carry = Carry()
    money = units = 0
    for qty, price in items:
        draft, carry = pledge_for_line(c, PurchaseLine("ANY", qty, price), carry)
        assert draft is not None
        assert draft.money >= 0
        money += draft.money
        units += draft.units
    total = sum(q * p for q, p in items)
    exact_money = total * bps * (10_000 + match) // MONEY_DEN
    assert money == exact_money  # no drift at all, let alone one minor unit
    assert units == exact_money // cost
    assert abs(total * bps * (10_000 + match) / MONEY_DEN - money) < 1


@settings(max_examples=200)
@given(st.lists(st.integers(1, 20), min_size=1, max_size=80), st.integers(1, 5), st.integers(0, 15_000))
def test_per_unit_with_matching_never_drifts(qtys: list[int], per_item: int, match: int) -> None:
    c = campaign((PerUnitRule(("P-*",), per_item),), match_bps=match)
    carry = Carry()
    total_units = 0
    for q in qtys:
        draft, carry = pledge_for_line(c, PurchaseLine("P-1", q, 100), carry)
        assert draft is not None
        assert draft.money == draft.units * 30
        total_units += draft.units
    assert total_units == sum(qtys) * per_item * (10_000 + match) // DEN


def test_rules_pick_the_matching_line_rule_and_ignore_others() -> None:
    c = campaign((PerUnitRule(("PAMPERS-*",), 2), PercentOfSaleRule(500, ("ARIEL-*",))))
    d, _ = pledge_for_line(c, PurchaseLine("PAMPERS-S3", 3, 2499), Carry())
    assert d == Draft(6, 180, "per_unit")
    d, _ = pledge_for_line(c, PurchaseLine("ARIEL-30", 2, 1000), Carry())
    assert d is not None
    assert (d.money, d.rule) == (100, "percent_of_sale")
    assert pledge_for_line(c, PurchaseLine("OTHER", 1, 1), Carry())[0] is None
    assert pledge_for_click(c, Carry())[0] is None
    click = campaign((PerClickRule(1),))
    assert pledge_for_click(click, Carry())[0] == Draft(1, 30, "per_click")


@given(st.integers(0, 10_000), st.integers(1, 100), st.lists(st.integers(1, 30), max_size=20))
def test_reversals_never_exceed_what_was_counted(total: int, qty: int, parts: list[int]) -> None:
    done = 0
    reversed_total = 0
    for p in parts:
        share = reversal_share(total, qty, done, p)
        assert share >= 0
        reversed_total += share
        done = min(done + p, qty)
    assert reversed_total <= total
    if sum(parts) >= qty:
        assert reversed_total == total  # reversing every item returns exactly the pledge


@given(
    st.integers(0, 1000),
    st.integers(0, 1000),
    st.one_of(st.none(), st.integers(-5, 500)),
    st.one_of(st.none(), st.integers(-5, 500)),
    st.one_of(st.none(), st.integers(-5, 20_000)),
)
def test_caps_never_exceeded(
    units: int, money: int, room_u: int | None, room_d: int | None, room_m: int | None
) -> None:
    out = apply_caps(Draft(units, units * 30, "per_unit"), CapRoom(room_u, room_d, room_m), 30)
    assert 0 <= out.units <= units
    for room in (room_u, room_d):
        if room is not None:
            assert out.units <= max(room, 0)
    if room_m is not None:
        assert out.money <= max(room_m, 0)
    assert out.money == out.units * 30


def test_money_rejects_floats_and_unknown_currencies() -> None:
    with pytest.raises(MoneyError):
        Money(1.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money(1, "XXX")
    assert Money.from_decimal_string("24.99", "EUR") == Money(2499, "EUR")
    assert Money.from_decimal_string(19.5, "EUR") == Money(1950, "EUR")
    assert Money.from_decimal_string("1000", "JPY") == Money(1000, "JPY")
    with pytest.raises(MoneyError):
        Money.from_decimal_string("1.234", "EUR")
    with pytest.raises(MoneyError):
        Money(1, "EUR") + Money(1, "USD")
    assert Money(-2499, "EUR").format() == "-24.99 EUR"


@given(
    st.lists(st.text(alphabet="AB-*?[]!1", min_size=1, max_size=6), min_size=1, max_size=3),
    st.text(alphabet="AB-1", max_size=8),
)
def test_compiled_sku_patterns_agree_with_fnmatch(patterns: list[str], sku: str) -> None:
    import fnmatch

    from wefirst.domain.campaigns import sku_matches

    expected = any(fnmatch.fnmatchcase(sku, p) for p in patterns)
    assert sku_matches(tuple(patterns), sku) == expected
