"""The brand console's campaign form: its fields read into the API's campaign body (and back,
to fill the form again), so both go through the same validation (catalog/models.py)."""

from __future__ import annotations

from typing import Any

from wefirst.domain.money import Money, MoneyError
from wefirst.errors import FieldError, Invalid
from wefirst.web.forms import blank

RULE_KINDS = ("per_unit", "per_click", "per_order", "percent_of_sale")


def form_int(form: dict[str, str], name: str, *, required: bool = False) -> int | None:
    raw = blank(form.get(name))
    if raw is None:
        if required:
            raise Invalid(f"{name}: required", [FieldError(name, "required")])
        return None
    try:
        return int(raw)
    except ValueError:
        raise Invalid(f"{name}: a whole number", [FieldError(name, "not a whole number")]) from None


def rule_body(form: dict[str, str]) -> dict[str, Any]:
    """One pledge rule from the form's kind, value and SKU patterns (the API's RuleIn shape)."""
    kind = form.get("rule_kind", "")
    if kind not in RULE_KINDS:
        raise Invalid("rule_kind: unknown", [FieldError("rule_kind", "choose a rule")])
    value = form_int(form, "rule_value", required=True)
    skus = [s.strip() for s in form.get("skus", "").split(",") if s.strip()]
    rule: dict[str, Any] = {"kind": kind}
    if kind == "per_unit":
        rule.update(sku_patterns=skus, units_per_item=value)
    elif kind == "per_click":
        rule.update(units_per_click=value)
    elif kind == "per_order":
        rule.update(units_per_order=value)
    else:
        rule.update(basis_points=value, sku_patterns=skus or ["*"])
    return rule


def rule_fields(rule: dict[str, Any]) -> dict[str, str]:
    """The form fields that show an existing rule (the inverse of rule_body)."""
    value = next(
        (
            rule[k]
            for k in ("units_per_item", "units_per_click", "units_per_order", "basis_points")
            if k in rule
        ),
        "",
    )
    return {
        "rule_kind": str(rule.get("kind", "")),
        "rule_value": str(value),
        "skus": ", ".join(rule.get("sku_patterns", [])),
    }


def cap_body(form: dict[str, str]) -> dict[str, int]:
    """The caps the form fills in (blank fields are no cap), in the API's `caps` shape; the same
    for a new campaign and an edit."""
    return {
        k: v
        for k, v in (
            ("total_units", form_int(form, "cap_total_units")),
            ("units_per_day", form_int(form, "cap_units_per_day")),
        )
        if v is not None
    }


def campaign_body(form: dict[str, str]) -> dict[str, Any]:
    """The form's flat fields → the API's CampaignIn shape (validated by CampaignIn itself)."""
    currency = form.get("currency", "EUR")
    try:
        cost = Money.from_decimal_string(form.get("cost", "").strip() or "x", currency).amount
    except MoneyError as exc:
        raise Invalid(f"cost: {exc}", [FieldError("cost", str(exc))]) from None
    rule = rule_body(form)
    labels = {"en": {"singular": form.get("unit_en_one", ""), "plural": form.get("unit_en_many", "")}}
    if blank(form.get("unit_fr_one")) and blank(form.get("unit_fr_many")):
        labels["fr"] = {"singular": form["unit_fr_one"], "plural": form["unit_fr_many"]}
    caps = cap_body(form)
    body: dict[str, Any] = {
        "name": form.get("name", ""),
        "beneficiary_id": form.get("beneficiary_id", ""),
        "currency": currency,
        "starts_at": f"{form.get('starts', '')}T00:00:00Z",
        "impact_unit": {
            "labels": labels,
            "cost_per_unit": {"amount": cost, "currency": currency},
            "cost_source": form.get("cost_source", ""),
            "cost_date": form.get("cost_date", ""),
            "mode": form.get("mode", "funds"),
        },
        "rules": [rule],
        "caps": caps,
        "status": "active" if form.get("status") == "active" else "draft",
    }
    if blank(form.get("ends")):
        body["ends_at"] = f"{form['ends']}T00:00:00Z"
    return body
