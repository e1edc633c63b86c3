"""Campaign balances derived from log entries alone, the way an outside auditor would, so that
the audit can compare them with what the API publishes. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MONEY_KINDS = {
    "pledge",
    "pledge_reversal",
    "settlement_reported",
    "settlement_confirmed",
    "settlement_disputed",
}


@dataclass
class DerivedBalance:
    campaign_id: str
    pledged_units: int = 0
    pledged_amount: int = 0
    paid_reported: int = 0
    paid_confirmed: int = 0
    paid_disputed: int = 0
    delivered_units: int = 0
    delivered_beyond_units: int = 0
    currencies: set[str] = field(default_factory=set)
    entries: int = 0

    def figures(self) -> dict[str, int]:
        return {
            "pledged.units": self.pledged_units,
            "pledged.money.amount": self.pledged_amount,
            "paid_reported.amount": self.paid_reported,
            "paid_confirmed.amount": self.paid_confirmed,
            "paid_disputed.amount": self.paid_disputed,
            "delivered.units": self.delivered_units,
            "delivered.beyond_pledges_units": self.delivered_beyond_units,
        }


OPTIONAL_FIGURES = {"delivered.beyond_pledges_units"}


class EntryProblem(Exception):
    """An entry the derivation cannot read (wrong types): named with its index by the caller."""


def _int(entry: Mapping[str, Any], key: str) -> int:
    value = entry.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise EntryProblem(f'"{key}" must be a non-negative integer, got {value!r}')
    return value


def _money(entry: Mapping[str, Any]) -> tuple[int, str]:
    money = entry.get("money")
    if not isinstance(money, Mapping):
        raise EntryProblem('"money" must be an object {"amount", "currency"}')
    currency = money.get("currency")
    if not isinstance(currency, str):
        raise EntryProblem('"money.currency" must be a string')
    return _int(money, "amount"), currency


class BalanceDeriver:
    def __init__(self) -> None:
        self.campaigns: dict[str, DerivedBalance] = {}

    def add(self, entry: Mapping[str, Any]) -> None:
        campaign = entry.get("campaign")
        if not isinstance(campaign, str):
            return
        b = self.campaigns.get(campaign)
        if b is None:
            b = self.campaigns[campaign] = DerivedBalance(campaign)
        b.entries += 1
        kind = entry.get("kind")
        if kind in MONEY_KINDS:
            amount, currency = _money(entry)
            b.currencies.add(currency)
            if kind == "pledge":
                b.pledged_units += _int(entry, "units")
                b.pledged_amount += amount
            elif kind == "pledge_reversal":
                b.pledged_units -= _int(entry, "units")
                b.pledged_amount -= amount
            elif kind == "settlement_reported":
                b.paid_reported += amount
            elif kind == "settlement_confirmed":
                b.paid_confirmed += amount
            else:
                b.paid_disputed += amount
        elif kind == "delivery_reported":
            beyond = entry.get("beyond_funded")
            extra = _int(beyond, "units") if isinstance(beyond, Mapping) else 0
            units = _int(entry, "units")
            if extra > units:
                raise EntryProblem('"beyond_funded.units" must not exceed "units"')
            b.delivered_units += units - extra
            b.delivered_beyond_units += extra


def published_figures(balance: Mapping[str, Any]) -> tuple[dict[str, int | None], set[str]]:
    """The same figures read from the API's balance JSON, plus the currencies it names."""

    def dig(*keys: str) -> Any:
        node: Any = balance
        for k in keys:
            if not isinstance(node, Mapping):
                return None
            node = node.get(k)
        return node

    figures: dict[str, int | None] = {}
    for name in DerivedBalance("").figures():
        value = dig(*name.split("."))
        if value is None and name in OPTIONAL_FIGURES:
            value = 0  # a server from before the figure existed publishes none: it has none
        figures[name] = value if isinstance(value, int) and not isinstance(value, bool) else None
    currencies = set()
    for path in (
        ("pledged", "money", "currency"),
        ("paid_reported", "currency"),
        ("paid_confirmed", "currency"),
        ("paid_disputed", "currency"),
    ):
        c = dig(*path)
        if isinstance(c, str):
            currencies.add(c)
    return figures, currencies


def compare(derived: DerivedBalance, balance: Mapping[str, Any]) -> list[str]:
    """Human-readable differences; empty when the API agrees with the log."""
    problems: list[str] = []
    if len(derived.currencies) > 1:
        problems.append(f"log mixes currencies {sorted(derived.currencies)}")
    published, currencies = published_figures(balance)
    for name, value in derived.figures().items():
        api_value = published[name]
        if api_value != value:
            problems.append(f"{name}: log {value}, API {api_value}")
    if derived.currencies and currencies and derived.currencies != currencies:
        problems.append(f"currency: log {sorted(derived.currencies)}, API {sorted(currencies)}")
    return problems
