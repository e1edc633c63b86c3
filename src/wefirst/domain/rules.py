"""Pledge computation: exact integer arithmetic with carried remainders.

Every rule contributes an exact rational amount; what is pledged for an event is the growth
of floor(cumulative exact amount). So the sum of per-event pledges equals the rule applied to
the total (drift 0), and no event is ever rounded in a way that loses value for good. The
remainders live in `Carry` and are persisted with the campaign's counters."""

from __future__ import annotations

from dataclasses import dataclass, replace

from wefirst.domain.campaigns import (
    MAX_BPS,
    Campaign,
    PercentOfSaleRule,
    PerClickRule,
    PerOrderRule,
    PerSocialActionRule,
    PerUnitRule,
)

# Unit-based contributions are scaled by (MAX_BPS + match_bps): one common denominator.
DEN = MAX_BPS
MONEY_DEN = MAX_BPS * MAX_BPS


@dataclass(frozen=True)
class Carry:
    units_rem: int = 0  # numerator remainder of unit-based rules, denominator DEN
    money_rem: int = 0  # numerator remainder of percent rules, denominator MONEY_DEN
    pct_money_rem: int = 0  # money of percent rules not yet converted to whole units


@dataclass(frozen=True)
class Draft:
    """What one event would pledge before caps."""

    units: int
    money: int
    rule: str


@dataclass(frozen=True)
class PurchaseLine:
    sku: str
    quantity: int
    unit_price: int  # minor units of the purchase currency
    tax: int | None = None  # the line's total tax in minor units, when the source sends it
    includes_tax: bool | None = None  # whether unit_price includes tax; None: the source did not say


#: `pledge_for_line`'s draft for a percent_of_sale line whose price basis cannot be established
TAX_UNKNOWN = "tax_unknown"


def sale_base(rule: PercentOfSaleRule, line: PurchaseLine) -> int | None:
    """The amount a percentage is of, on the basis the rule (and so the disclosure) states.
    A source's price on the other basis is converted with the line's tax amount; without the
    amount, or when the source does not say which basis it sends, there is no honest figure
    and None is returned (nothing is counted: the brand sees `tax_unknown`)."""
    total = line.quantity * line.unit_price
    if rule.price_basis == "as_reported":
        return total
    wanted = rule.price_basis == "with_tax"
    if line.includes_tax is None:
        return None
    if line.includes_tax == wanted:
        return total
    if line.tax is None:
        return None
    return total + line.tax if wanted else max(total - line.tax, 0)


def _unit_based(units_exact: int, campaign: Campaign, carry: Carry, rule: str) -> tuple[Draft, Carry]:
    numerator = units_exact * (MAX_BPS + campaign.match_bps) + carry.units_rem
    units, rem = divmod(numerator, DEN)
    money = units * campaign.unit.cost_per_unit.amount
    return Draft(units, money, rule), replace(carry, units_rem=rem)


def _money_based(line_total: int, bps: int, campaign: Campaign, carry: Carry) -> tuple[Draft, Carry]:
    numerator = line_total * bps * (MAX_BPS + campaign.match_bps) + carry.money_rem
    money, rem = divmod(numerator, MONEY_DEN)
    cost = campaign.unit.cost_per_unit.amount
    units, pct_rem = divmod(carry.pct_money_rem + money, cost) if cost > 0 else (0, 0)
    return Draft(units, money, "percent_of_sale"), replace(carry, money_rem=rem, pct_money_rem=pct_rem)


def pledge_for_line(campaign: Campaign, line: PurchaseLine, carry: Carry) -> tuple[Draft | None, Carry]:
    """The first matching line rule decides (per_unit before percent_of_sale)."""
    for rule in campaign.rules:
        if isinstance(rule, PerUnitRule) and rule.matches(line.sku):
            return _unit_based(line.quantity * rule.units_per_item, campaign, carry, rule.kind)
    for rule in campaign.rules:
        if isinstance(rule, PercentOfSaleRule) and rule.matches(line.sku):
            base = sale_base(rule, line)
            if base is None:
                return Draft(0, 0, TAX_UNKNOWN), carry
            return _money_based(base, rule.basis_points, campaign, carry)
    return None, carry


def pledge_for_order(campaign: Campaign, carry: Carry) -> tuple[Draft | None, Carry]:
    for rule in campaign.rules:
        if isinstance(rule, PerOrderRule):
            return _unit_based(rule.units_per_order, campaign, carry, rule.kind)
    return None, carry


def pledge_for_click(campaign: Campaign, carry: Carry) -> tuple[Draft | None, Carry]:
    for rule in campaign.rules:
        if isinstance(rule, PerClickRule):
            return _unit_based(rule.units_per_click, campaign, carry, rule.kind)
    return None, carry


def pledge_for_social(campaign: Campaign, rule: PerSocialActionRule, carry: Carry) -> tuple[Draft, Carry]:
    """One counted public action under `rule` (matching and criteria are decided before)."""
    return _unit_based(rule.units_per_action, campaign, carry, rule.kind)


def social_rule_room(room: CapRoom, rule_cap: int | None, rule_net_units: int) -> CapRoom:
    """The campaign's room narrowed by a social rule's own cap (units it may still pledge)."""
    if rule_cap is None:
        return room
    left = rule_cap - rule_net_units
    return replace(room, units=left if room.units is None else min(room.units, left))


@dataclass(frozen=True)
class CapRoom:
    """How much a campaign may still pledge (None = unlimited)."""

    units: int | None
    day_units: int | None
    money: int | None


def apply_caps(draft: Draft, room: CapRoom, cost_per_unit: int) -> Draft:
    """Clamp a draft to the caps. Units and money shrink together so that the money equivalent
    of a capped unit pledge stays exact."""
    units, money = draft.units, draft.money
    unit_limit = min((x for x in (room.units, room.day_units) if x is not None), default=None)
    if unit_limit is not None and units > unit_limit:
        units = max(unit_limit, 0)
        money = (
            min(money, units * cost_per_unit) if draft.rule == "percent_of_sale" else (units * cost_per_unit)
        )
    if room.money is not None and money > room.money:
        money = max(room.money, 0)
        units = min(units, money // cost_per_unit) if cost_per_unit > 0 else 0
        if draft.rule != "percent_of_sale":
            money = units * cost_per_unit  # whole units only: their exact money equivalent
    return Draft(units, money, draft.rule)


def reversal_share(total: int, counted_qty: int, reversed_before: int, reversed_now: int) -> int:
    """The part of a line's pledge (`total`) that `reversed_now` more items take back, after
    `reversed_before` items were already reversed. Cumulative flooring: reversing every item
    returns exactly `total`, never more."""
    if counted_qty <= 0:
        return 0
    after = min(reversed_before + reversed_now, counted_qty)
    before = min(reversed_before, counted_qty)
    return total * after // counted_qty - total * before // counted_qty
