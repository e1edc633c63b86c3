"""The consumer disclosure of a campaign, generated from its settings in French and English.

Cause-marketing standards (e.g. BBB Wise Giving Alliance Standard 19) ask that a consumer can
see, at the point of purchase or click: what is given per purchase or click, the window, any
cap, any guaranteed minimum, and who benefits. Generating the text from the very settings that
drive the pledge engine means the promise and the arithmetic cannot drift apart."""

from __future__ import annotations

import re
from datetime import date

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from wefirst.domain.campaigns import (
    DEFAULT_PAYMENT_WITHIN_DAYS,
    Campaign,
    PercentOfSaleRule,
    PerClickRule,
    PerOrderRule,
    PerSocialActionRule,
    PerUnitRule,
    Rule,
    sku_matches,
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
        skus = _products(c, rule)
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
                f" (valued at {cost} each); one click per browser per day (UTC) is counted,"
                " with limits per network."
            )
        return (
            f"Pour chaque clic compté, {brand} {verb} {_units(c, rule.units_per_click, lang)}"
            f" (valeur : {cost} l'unité) ; un clic par navigateur et par jour (UTC) est compté,"
            " avec des limites par réseau."
        )
    if isinstance(rule, PercentOfSaleRule):
        pct = format_decimal(rule.basis_points / 100, locale=_LOCALE[lang])
        if lang == "en":
            return (
                f"{brand} gives {pct}% of the price of each eligible purchase as the shop reports "
                f"it, which {verb} {c.unit.label(lang, 2)} at {cost} each."
            )
        return (
            f"{brand} reverse {pct} % du prix de chaque achat éligible tel que la boutique le "
            f"transmet, ce qui {verb} des {c.unit.label(lang, 2)} à {cost} l'unité."
        )
    if isinstance(rule, PerSocialActionRule):
        return _social_sentence(c, rule, brand, lang)
    assert isinstance(rule, PerOrderRule)
    if lang == "en":
        return f"For each order, {brand} {verb} {_units(c, rule.units_per_order, lang)}."
    return f"Pour chaque commande, {brand} {verb} {_units(c, rule.units_per_order, lang)}."


def _products(c: Campaign, rule: PerUnitRule) -> str:
    """The products by name (the campaign's SKU catalogue) rather than SKU patterns a consumer
    cannot read; the patterns only when the catalogue names none of the rule's products."""
    names = sorted({name for sku, name in c.product_names if sku_matches(rule.sku_patterns, sku)})
    return ", ".join(names) if names else ", ".join(rule.sku_patterns)


_PERIOD = {
    "en": {"month": "each month", "quarter": "each quarter"},
    "fr": {"month": "chaque mois", "quarter": "chaque trimestre"},
}
_PERIOD_END = {
    "en": {"month": "the month ends", "quarter": "the quarter ends"},
    "fr": {"month": "la fin du mois", "quarter": "la fin du trimestre"},
}


def _payment_sentence(c: Campaign, brand: str, beneficiary: str, lang: str) -> str:
    """When the money is paid: the schedule the ledger judges "late" against."""
    s = c.payment_schedule
    days = number_text(s.within_days if s is not None else DEFAULT_PAYMENT_WITHIN_DAYS, lang)
    if s is None or s.period == "campaign":
        if lang == "en":
            lead = "" if s is not None else f"{brand} has set no payment schedule: "
            return (
                f"{lead}{brand} pays {beneficiary} what was pledged within {days} days "
                "after the campaign ends."
            )
        lead = "" if s is not None else f"{brand} n'a pas fixé de calendrier de versement : "
        return (
            f"{lead}{brand} verse à {beneficiary} ce qui a été promis dans les {days} jours "
            "après la fin de la campagne."
        )
    if lang == "en":
        return (
            f"{brand} pays {beneficiary} the pledges of {_PERIOD[lang][s.period]} "
            f"within {days} days after {_PERIOD_END[lang][s.period]}."
        )
    return (
        f"{brand} verse à {beneficiary} les dons de {_PERIOD[lang][s.period]} "
        f"dans les {days} jours après {_PERIOD_END[lang][s.period]}."
    )


_NETWORK = {"bluesky": "Bluesky", "mastodon": "Mastodon"}
_SOCIAL_WHAT = {
    "en": {
        "like": "like of the post {t}",
        "repost": "repost (boost) of the post {t}",
        "quote": "quote of the post {t}",
        "reply": "reply to the post {t}",
        "hashtag_post": "original post with #{t}",
    },
    "fr": {
        "like": "« j'aime » sur la publication {t}",
        "repost": "repartage (boost) de la publication {t}",
        "quote": "citation de la publication {t}",
        "reply": "réponse à la publication {t}",
        "hashtag_post": "publication originale avec #{t}",
    },
}
_SOCIAL_WITHDRAWN = {
    "en": {
        "like": "likes undone",
        "repost": "reposts deleted",
        "quote": "quotes deleted",
        "reply": "replies deleted",
        "hashtag_post": "posts deleted",
    },
    "fr": {
        "like": "« j'aime » retirés",
        "repost": "repartages supprimés",
        "quote": "citations supprimées",
        "reply": "réponses supprimées",
        "hashtag_post": "publications supprimées",
    },
}


def _social_sentence(c: Campaign, rule: PerSocialActionRule, brand: str, lang: str) -> str:
    """Exactly what counts and what does not: the criteria are the engine's own settings."""
    cost = money_text(c.unit.cost_per_unit.amount, c.currency, lang)
    verb = _verb(c, lang)
    net = _NETWORK[rule.network]
    target = rule.target.strip().removeprefix("#") if rule.action == "hashtag_post" else rule.target
    what = _SOCIAL_WHAT[lang][rule.action].format(t=target)
    k = rule.criteria
    units = _units(c, rule.units_per_action, lang)
    if lang == "en":
        per = "per account per day" if rule.period == "day" else "per account for the whole campaign"
        bots = "" if k.allow_bots else ", not flagged as bots"
        out = (
            f"For each public {what} on {net}, {brand} {verb} {units} (valued at {cost} each). "
            f"Counted: one {rule.action.replace('_', ' ')} {per}, from accounts"
            f" at least {number_text(k.min_account_age_days, lang)} days old with at least"
            f" {number_text(k.min_posts, lang)} posts{bots}; at most {number_text(k.burst_max, lang)}"
            f" accounts created within {number_text(k.burst_window_hours, lang)} hours of each other."
            f" Not counted: other networks or posts, actions outside the campaign's window,"
            f" {_SOCIAL_WITHDRAWN[lang][rule.action]} before settlement, accounts that fail these criteria."
        )
        if rule.cap_units is not None:
            out += f" This rule gives at most {_units(c, rule.cap_units, lang)}."
        return out
    per = "par compte et par jour" if rule.period == "day" else "par compte pour toute la campagne"
    bots = "" if k.allow_bots else ", non signalés comme robots"
    out = (
        f"Pour chaque {what} sur {net}, {brand} {verb} {units} (valeur : {cost} l'unité). "
        f"Compté : une action {per}, venant de comptes âgés d'au moins"
        f" {number_text(k.min_account_age_days, lang)} jours avec au moins"
        f" {number_text(k.min_posts, lang)} publications{bots} ; au plus"
        f" {number_text(k.burst_max, lang)} comptes créés à moins de"
        f" {number_text(k.burst_window_hours, lang)} heures d'intervalle."
        f" Non compté : autres réseaux ou publications, actions hors de la période de la campagne,"
        f" {_SOCIAL_WITHDRAWN[lang][rule.action]} avant le versement,"
        " comptes ne remplissant pas ces critères."
    )
    if rule.cap_units is not None:
        out += f" Cette règle donne au plus {_units(c, rule.cap_units, lang)}."
    return out


def disclosure(c: Campaign, brand: str, beneficiary: str, lang: str) -> str:
    """One paragraph a consumer can read in ten seconds."""
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}")
    parts = [_rule_sentence(c, r, brand, lang) for r in c.rules]
    if any(isinstance(r, (PerUnitRule, PercentOfSaleRule, PerOrderRule)) for r in c.rules):
        parts.append(
            "A refunded or cancelled purchase cancels its donation."
            if lang == "en"
            else "Un achat remboursé ou annulé annule son don."
        )
    start = _date(c.starts_at.date(), lang)
    if c.ends_at is not None:
        end = _date(c.ends_at.date(), lang)
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
            f"{brand} adds {pct}% to every pledge (a match it also owes)."
            if lang == "en"
            else f"{brand} ajoute {pct} % à chaque don (un abondement qu'elle doit aussi)."
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
            f"At most {_units(c, c.caps.units_per_day, lang)} per day (UTC)."
            if lang == "en"
            else f"Au plus {_units(c, c.caps.units_per_day, lang)} par jour (UTC)."
        )
    if c.guaranteed_minimum:
        m = money_text(c.guaranteed_minimum, c.currency, lang)
        clicks = all(isinstance(r, PerClickRule) for r in c.rules)
        if lang == "en":
            parts.append(
                f"{brand} guarantees a minimum donation of {m}, whatever the "
                + ("number of clicks." if clicks else "sales.")
            )
        else:
            parts.append(
                f"{brand} garantit un don minimum de {m}, "
                + ("quel que soit le nombre de clics." if clicks else "quelles que soient les ventes.")
            )
    if c.unit.outcome is not None:
        o = c.unit.outcome
        ol = (o.labels.get(lang) or o.labels["en"]).singular
        parts.append(f"{_units(c, o.units_per_outcome, lang)} = 1 {ol}.")
    parts.append(f"Beneficiary: {beneficiary}." if lang == "en" else f"Bénéficiaire : {beneficiary}.")
    parts.append(_payment_sentence(c, brand, beneficiary, lang))
    parts.append(
        f"Cost basis: {c.unit.cost_source}, {c.unit.cost_date.isoformat()}."
        if lang == "en"
        else f"Base de coût : {c.unit.cost_source}, {c.unit.cost_date.isoformat()}."
    )
    text = " ".join(parts)
    return _french_typography(text) if lang == "fr" else text


def _date(day: date, lang: str) -> str:
    """A long date; French writes the first of the month as an ordinal ("1er décembre")."""
    text = str(format_date(day, format="long", locale=_LOCALE[lang]))
    return "1er" + text[1:] if lang == "fr" and day.day == 1 and text.startswith("1 ") else text


def _french_typography(text: str) -> str:
    """A no-break space before : ; ? ! (not inside URLs or times)."""
    return re.sub(r" ([:;?!])(?=\s|$)", "\u00a0\\1", text)
