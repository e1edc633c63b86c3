"""The consumer disclosure of a campaign, generated from its settings in French and English.

Cause-marketing standards (e.g. BBB Wise Giving Alliance Standard 19) ask that a consumer can
see, at the point of purchase or click: what is given per purchase or click, the window, any
cap, any guaranteed minimum, and who benefits. Generating the text from the very settings that
drive the pledge engine means the promise and the arithmetic cannot drift apart."""

from __future__ import annotations

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from wefirst.domain.campaigns import (
    Campaign,
    PercentOfSaleRule,
    PerClickRule,
    PerOrderRule,
    PerUnitRule,
    Rule,
)
from wefirst.domain.money import exponent

LANGS = ("en", "fr")
_LOCALE = {"en": "en_GB", "fr": "fr_FR"}


def money_text(amount: int, currency: str, lang: str) -> str:
    value = amount / 10 ** exponent(currency) if exponent(currency) else amount
    return str(format_currency(value, currency, locale=_LOCALE[lang]))


def number_text(n: int, lang: str) -> str:
    return str(format_decimal(n, locale=_LOCALE[lang]))


def _units(c: Campaign, n: int, lang: str) -> str:
    return f"{number_text(n, lang)} {c.unit.label(lang, n)}"


def _verb(c: Campaign, lang: str) -> str:
    if c.unit.mode == "funds":
        return "funds" if lang == "en" else "finance"
    return "delivers" if lang == "en" else "fournit"


def _rule_sentence(c: Campaign, rule: Rule, brand: str, lang: str) -> str:
    cost = money_text(c.unit.cost_per_unit.amount, c.currency, lang)
    verb = _verb(c, lang)
    if isinstance(rule, PerUnitRule):
        skus = ", ".join(rule.sku_patterns)
        if lang == "en":
            return (
                f"For each eligible product bought ({skus}), {brand} {verb} "
                f"{_units(c, rule.units_per_item, lang)} (valued at {cost} each)."
            )
        return (
            f"Pour chaque produit éligible acheté ({skus}), {brand} {verb} "
            f"{_units(c, rule.units_per_item, lang)} (valeur : {cost} l'unité)."
        )
    if isinstance(rule, PerClickRule):
        if lang == "en":
            return (
                f"For each counted click, {brand} {verb} {_units(c, rule.units_per_click, lang)}"
                f" (valued at {cost} each); one click per person per day is counted."
            )
        return (
            f"Pour chaque clic compté, {brand} {verb} {_units(c, rule.units_per_click, lang)}"
            f" (valeur : {cost} l'unité) ; un clic par personne et par jour est compté."
        )
    if isinstance(rule, PercentOfSaleRule):
        pct = format_decimal(rule.basis_points / 100, locale=_LOCALE[lang])
        if lang == "en":
            return (
                f"{brand} gives {pct}% of the price of each eligible purchase "
                f"(before tax), which {verb} {c.unit.label(lang, 2)} at {cost} each."
            )
        return (
            f"{brand} reverse {pct} % du prix de chaque achat éligible (hors taxes), "
            f"ce qui {verb} des {c.unit.label(lang, 2)} à {cost} l'unité."
        )
    assert isinstance(rule, PerOrderRule)
    if lang == "en":
        return f"For each order, {brand} {verb} {_units(c, rule.units_per_order, lang)}."
    return f"Pour chaque commande, {brand} {verb} {_units(c, rule.units_per_order, lang)}."


def disclosure(c: Campaign, brand: str, beneficiary: str, lang: str) -> str:
    """One paragraph a consumer can read in ten seconds."""
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}")
    parts = [_rule_sentence(c, r, brand, lang) for r in c.rules]
    start = format_date(c.starts_at.date(), format="long", locale=_LOCALE[lang])
    if c.ends_at is not None:
        end = format_date(c.ends_at.date(), format="long", locale=_LOCALE[lang])
        parts.append(
            f"Campaign runs from {start} to {end}." if lang == "en" else f"Campagne du {start} au {end}."
        )
    else:
        parts.append(
            f"Campaign runs from {start} until further notice."
            if lang == "en"
            else f"Campagne à partir du {start}, jusqu'à nouvel ordre."
        )
    if c.match_bps:
        pct = format_decimal(c.match_bps / 100, locale=_LOCALE[lang])
        parts.append(
            f"Every pledge is matched at {pct}%." if lang == "en" else f"Chaque don est abondé à {pct} %."
        )
    caps = []
    if c.caps.total_units is not None:
        caps.append(_units(c, c.caps.total_units, lang))
    if c.caps.total_money is not None:
        caps.append(money_text(c.caps.total_money, c.currency, lang))
    if caps:
        joined = (" or " if lang == "en" else " ou ").join(caps)
        parts.append(f"Donations stop at {joined}." if lang == "en" else f"Les dons s'arrêtent à {joined}.")
    if c.caps.units_per_day is not None:
        parts.append(
            f"At most {_units(c, c.caps.units_per_day, lang)} per day."
            if lang == "en"
            else f"Au plus {_units(c, c.caps.units_per_day, lang)} par jour."
        )
    if c.guaranteed_minimum:
        m = money_text(c.guaranteed_minimum, c.currency, lang)
        parts.append(
            f"{brand} guarantees a minimum donation of {m}, whatever the sales."
            if lang == "en"
            else f"{brand} garantit un don minimum de {m}, quelles que soient les ventes."
        )
    if c.unit.outcome is not None:
        o = c.unit.outcome
        ol = (o.labels.get(lang) or o.labels["en"]).singular
        parts.append(f"{_units(c, o.units_per_outcome, lang)} = 1 {ol}.")
    parts.append(f"Beneficiary: {beneficiary}." if lang == "en" else f"Bénéficiaire : {beneficiary}.")
    parts.append(
        f"Cost basis: {c.unit.cost_source}, {c.unit.cost_date.isoformat()}."
        if lang == "en"
        else f"Base de coût : {c.unit.cost_source}, {c.unit.cost_date.isoformat()}."
    )
    return " ".join(parts)
