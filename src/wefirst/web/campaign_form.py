"""The brand console's campaign form: its fields read into the API's campaign body (and back,
to fill the form again), so both go through the same validation (catalog/models.py).

Rules come in numbered slots (`rule_kind_1`, `rule_value_1`, `skus_1`, … up to the API's ten);
a slot whose kind is left blank is no rule. A share of the sale is typed as a percentage
("2.5"), which people know, and stored as the API's basis points."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from wefirst.domain.money import Money, MoneyError
from wefirst.errors import FieldError, Invalid
from wefirst.translations import N_
from wefirst.web.forms import blank

RULE_KINDS = ("per_unit", "per_click", "per_order", "percent_of_sale")
MAX_RULES = 10  # CampaignIn.rules allows ten
NEW_RULE_SLOTS = 3  # shown on a new campaign; an edit shows its rules and one more


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


def _percent_bps(form: dict[str, str], name: str) -> int:
    """'2.5' (per cent) → 250 basis points; at most two decimals."""
    raw = (blank(form.get(name)) or "").replace(",", ".").rstrip("% ")
    try:
        bps = Decimal(raw) * 100
    except InvalidOperation:
        raise Invalid(f"{name}: a percentage", [FieldError(name, "not a percentage")]) from None
    if bps != bps.to_integral_value():
        raise Invalid(f"{name}: at most two decimals", [FieldError(name, "at most two decimals")])
    return int(bps)


def rule_slots(form: dict[str, str]) -> list[int]:
    """The slot numbers the form filled with a rule kind, in order."""
    return [i for i in range(1, MAX_RULES + 1) if blank(form.get(f"rule_kind_{i}"))]


def rule_body(form: dict[str, str], slot: int = 1) -> dict[str, Any]:
    """One pledge rule from a slot's kind, value and SKU patterns (the API's RuleIn shape)."""
    kind_f, value_f = f"rule_kind_{slot}", f"rule_value_{slot}"
    kind = form.get(kind_f, "")
    if kind not in RULE_KINDS:
        raise Invalid(f"{kind_f}: unknown", [FieldError(kind_f, "choose a rule")])
    skus = [s.strip() for s in form.get(f"skus_{slot}", "").split(",") if s.strip()]
    rule: dict[str, Any] = {"kind": kind}
    if kind == "percent_of_sale":
        if blank(form.get(value_f)) is None:
            raise Invalid(f"{value_f}: required", [FieldError(value_f, "required")])
        return {**rule, "basis_points": _percent_bps(form, value_f), "sku_patterns": skus or ["*"]}
    value = form_int(form, value_f, required=True)
    if kind == "per_unit":
        rule.update(sku_patterns=skus, units_per_item=value)
    elif kind == "per_click":
        rule.update(units_per_click=value)
    else:
        rule.update(units_per_order=value)
    return rule


def rules_body(form: dict[str, str]) -> list[dict[str, Any]]:
    slots = rule_slots(form)
    if not slots:
        raise Invalid("rule_kind_1: required", [FieldError("rule_kind_1", "choose a rule")])
    return [rule_body(form, i) for i in slots]


def rule_fields(rule: dict[str, Any], slot: int = 1) -> dict[str, str]:
    """The form fields that show an existing rule (the inverse of rule_body)."""
    if "basis_points" in rule:
        value = str(Decimal(rule["basis_points"]) / 100)
    else:
        value = str(
            next((rule[k] for k in ("units_per_item", "units_per_click", "units_per_order") if k in rule), "")
        )
    skus = rule.get("sku_patterns", [])
    return {
        f"rule_kind_{slot}": str(rule.get("kind", "")),
        f"rule_value_{slot}": value,
        f"skus_{slot}": "" if skus == ["*"] and "basis_points" in rule else ", ".join(skus),
    }


def rules_fields(rules: list[dict[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, rule in enumerate(rules, start=1):
        out.update(rule_fields(rule, i))
    return out


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


def typed_amount(raw: str) -> str:
    """An amount as people type it on either language's page → the decimal text Money reads:
    "2,50" and "1 000,50" (French: comma, spaces or narrow no-break spaces between thousands)
    as well as "2.50" and "1,000.50"."""
    text = "".join(ch for ch in raw.strip() if ch not in " \u00a0\u202f")
    if _THOUSANDS_COMMAS.fullmatch(text):
        return text.replace(",", "")  # "1,000.50", "1,000"
    if "," in text and "." in text:
        return text.replace(".", "").replace(",", ".")  # "1.000,50"
    return text.replace(",", ".")  # "2,50"; "0,251" stays too precise, and says so


_THOUSANDS_COMMAS = re.compile(r"[1-9]\d{0,2}(,\d{3})+(\.\d+)?")


def _money(form: dict[str, str], name: str, currency: str) -> int:
    try:
        return Money.from_decimal_string(typed_amount(form.get(name, "")) or "x", currency).amount
    except MoneyError as exc:
        raise Invalid(f"{name}: {exc}", [FieldError(name, str(exc))]) from None


def campaign_body(form: dict[str, str]) -> dict[str, Any]:
    """The form's flat fields → the API's CampaignIn shape (validated by CampaignIn itself)."""
    currency = form.get("currency", "EUR")
    cost = _money(form, "cost", currency)
    rules = rules_body(form)
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
        "rules": rules,
        "caps": caps,
        "status": "active" if form.get("status") == "active" else "draft",
    }
    if blank(form.get("guaranteed_minimum")):
        minimum = _money(form, "guaranteed_minimum", currency)
        body["guaranteed_minimum"] = {"amount": minimum, "currency": currency}
    if blank(form.get("ends")):
        body["ends_at"] = f"{form['ends']}T00:00:00Z"
    return body


# the API's field paths (CampaignIn, as pydantic names them) → the form field that fills them
_API_FIELDS = {
    "name": "name",
    "beneficiary_id": "beneficiary_id",
    "currency": "currency",
    "starts_at": "starts",
    "ends_at": "ends",
    "impact_unit.labels.en.singular": "unit_en_one",
    "impact_unit.labels.en.plural": "unit_en_many",
    "impact_unit.labels.fr.singular": "unit_fr_one",
    "impact_unit.labels.fr.plural": "unit_fr_many",
    "impact_unit.cost_per_unit.amount": "cost",
    "impact_unit.cost_source": "cost_source",
    "impact_unit.cost_date": "cost_date",
    "caps.total_units": "cap_total_units",
    "caps.units_per_day": "cap_units_per_day",
    "guaranteed_minimum.amount": "guaranteed_minimum",
}


def form_errors(errors: dict[str, str]) -> dict[str, str]:
    """Errors keyed by the API's paths → keyed by the form's fields, so each message shows next
    to the field to fix (rule errors go to the first rule's kind)."""
    out: dict[str, str] = {}
    for path, message in errors.items():
        if path.startswith("rules"):
            target = "rule_kind_1"
        else:
            target = _API_FIELDS.get(path, path)
            if "." in target:  # a part of a field the form reads whole (e.g. a rule's value)
                target = _API_FIELDS.get(target.rsplit(".", 1)[0], target)
        out.setdefault(target, message)
    return out


# what to type, per field, for the form's error messages (`forms.error_messages`): keyed by
# the form's fields and by the API's paths that fill them, so either kind of error finds it
_UNIT_EN = N_("Type the impact unit in English, one and several (e.g. vaccine, vaccines).")
_UNIT_FR = N_("Type the impact unit in French, one and several, or leave both blank.")
_COST = N_("Type the cost of one impact unit in the campaign's currency, e.g. 2.50 (cents after the point).")
_CAP = N_("Type a whole number of impact units, or leave it blank for no cap.")
_MINIMUM = N_("Type an amount in the campaign's currency, e.g. 500 or 500.00, or leave it blank.")
_RULES = N_(
    "Each rule needs a kind and a value: a whole number of impact units, or for a percentage "
    "of the sale a number like 2.5."
)
FIELD_HELP = {
    "name": N_("Type the campaign's name, 1 to 200 characters."),
    "beneficiary_id": N_("Choose the beneficiary from the list."),
    "currency": N_("Choose the currency from the list."),
    "starts": N_("Type the start date as YYYY-MM-DD, e.g. 2027-03-31."),
    "starts_at": N_("Type the start date as YYYY-MM-DD, e.g. 2027-03-31."),
    "ends": N_("Type an end date after the start, as YYYY-MM-DD, or leave it blank."),
    "ends_at": N_("Type an end date after the start, as YYYY-MM-DD, or leave it blank."),
    "unit_en_one": _UNIT_EN,
    "unit_en_many": _UNIT_EN,
    "impact_unit.labels.en.singular": _UNIT_EN,
    "impact_unit.labels.en.plural": _UNIT_EN,
    "impact_unit.labels.en": _UNIT_EN,
    "unit_fr_one": _UNIT_FR,
    "unit_fr_many": _UNIT_FR,
    "impact_unit.labels.fr.singular": _UNIT_FR,
    "impact_unit.labels.fr.plural": _UNIT_FR,
    "impact_unit.labels.fr": _UNIT_FR,
    "cost": _COST,
    "impact_unit.cost_per_unit.amount": _COST,
    "impact_unit.cost_per_unit": _COST,
    "cost_source": N_("Say where that cost comes from, e.g. the charity's 2026 budget."),
    "impact_unit.cost_source": N_("Say where that cost comes from, e.g. the charity's 2026 budget."),
    "cost_date": N_("Type the date of that cost as YYYY-MM-DD, e.g. 2027-03-31."),
    "impact_unit.cost_date": N_("Type the date of that cost as YYYY-MM-DD, e.g. 2027-03-31."),
    "cap_total_units": _CAP,
    "cap_units_per_day": _CAP,
    "caps": _CAP,
    "caps.total_units": _CAP,
    "caps.units_per_day": _CAP,
    "guaranteed_minimum": _MINIMUM,
    "guaranteed_minimum.amount": _MINIMUM,
    "rules": _RULES,
    "rule_kind": _RULES,
    "rule_value": _RULES,
    "skus": N_("Type the product codes the rule counts, separated by commas, or leave it blank for all."),
}


# form field → the words its label uses (the preview names the fields to fix with them)
FIELD_WORDS = {
    "name": N_("Name"),
    "beneficiary_id": N_("Beneficiary"),
    "currency": N_("Currency"),
    "starts": N_("Starts"),
    "ends": N_("Ends"),
    "unit_en_one": N_("Impact unit in English, one (e.g. vaccine)"),
    "unit_en_many": N_("Impact unit in English, several (e.g. vaccines)"),
    "unit_fr_one": N_("Impact unit in French, one (optional)"),
    "unit_fr_many": N_("Impact unit in French, several (optional)"),
    "cost": N_("Cost of one impact unit, in the campaign's currency"),
    "cost_source": N_("Source of that cost"),
    "cost_date": N_("Date of that cost"),
    "cap_total_units": N_("At most this many impact units in all (blank: no cap)"),
    "cap_units_per_day": N_("At most this many impact units per day, UTC (blank: no cap)"),
    "guaranteed_minimum": N_("Guaranteed minimum, in the campaign's currency"),
    "rules": N_("Rules"),
}
