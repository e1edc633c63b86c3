"""Stored definitions (validated JSON) ↔ domain values. The JSON is what the API accepted,
so a campaign can always be shown exactly as it was defined."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from wefirst.domain.campaigns import (
    DEFAULT_PAYMENT_WITHIN_DAYS,
    Campaign,
    CampaignStatus,
    Caps,
    ImpactUnit,
    Outcome,
    PaymentSchedule,
    PercentOfSaleRule,
    PerClickRule,
    PerOrderRule,
    PerSocialActionRule,
    PerUnitRule,
    Rule,
    UnitLabel,
)
from wefirst.domain.money import Money
from wefirst.domain.social import AccountCriteria


def _labels(raw: dict[str, Any]) -> dict[str, UnitLabel]:
    return {k: UnitLabel(v["singular"], v["plural"]) for k, v in raw.items()}


def impact_unit(unit_id: str, version: int, d: dict[str, Any]) -> ImpactUnit:
    outcome = d.get("outcome")
    return ImpactUnit(
        id=unit_id,
        version=version,
        labels=_labels(d["labels"]),
        cost_per_unit=Money(d["cost_per_unit"]["amount"], d["cost_per_unit"]["currency"]),
        cost_source=d["cost_source"],
        cost_date=date.fromisoformat(d["cost_date"]),
        mode=d.get("mode", "funds"),
        outcome=Outcome(outcome["units_per_outcome"], _labels(outcome["labels"])) if outcome else None,
    )


def rule(d: dict[str, Any]) -> Rule:
    kind = d["kind"]
    if kind == "per_unit":
        return PerUnitRule(tuple(d["sku_patterns"]), d["units_per_item"])
    if kind == "per_click":
        return PerClickRule(d["units_per_click"])
    if kind == "percent_of_sale":
        return PercentOfSaleRule(
            d["basis_points"], tuple(d.get("sku_patterns") or ["*"]), d.get("price_basis", "as_reported")
        )
    if kind == "per_order":
        return PerOrderRule(d["units_per_order"])
    if kind == "per_social_action":
        return PerSocialActionRule(
            action=d["action"],
            network=d["network"],
            target=d["target"],
            units_per_action=d["units_per_action"],
            cap_units=d.get("cap_units"),
            period=d.get("period", "campaign"),
            criteria=AccountCriteria(**(d.get("criteria") or {})),
        )
    raise ValueError(f"unknown rule kind {kind!r}")


def _dt(v: str | None) -> datetime | None:
    return datetime.fromisoformat(v) if v else None


def campaign(row: Any, unit: ImpactUnit) -> Campaign:
    """`row` is a `campaigns` row; its definition holds everything but the unit."""
    d = row.definition
    caps = d.get("caps") or {}
    total_money = caps.get("total_money")
    gmin = d.get("guaranteed_minimum")
    starts = _dt(d["starts_at"])
    assert starts is not None
    return Campaign(
        id=row.id,
        brand_id=row.brand_id,
        beneficiary_id=row.beneficiary_id,
        name=d["name"],
        currency=d["currency"],
        starts_at=starts,
        ends_at=_dt(d.get("ends_at")),
        status=CampaignStatus(row.status),
        rules=tuple(rule(r) for r in d["rules"]),
        unit=unit,
        caps=Caps(
            total_units=caps.get("total_units"),
            units_per_day=caps.get("units_per_day"),
            total_money=total_money["amount"] if total_money else None,
        ),
        match_bps=d.get("match_bps", 0),
        livemode=bool(row.livemode),
        guaranteed_minimum=gmin["amount"] if gmin else None,
        payment_schedule=_schedule(d.get("payment_schedule")),
        product_names=tuple(sorted((d.get("product_names") or {}).items())),
        time_zone=d.get("time_zone") or "UTC",
        match_funder=d.get("match_funder"),
    )


def _schedule(raw: Any) -> PaymentSchedule | None:
    if isinstance(raw, dict) and raw.get("period") in ("month", "quarter", "campaign"):
        return PaymentSchedule(str(raw["period"]), int(raw.get("within_days", DEFAULT_PAYMENT_WITHIN_DAYS)))
    return None
