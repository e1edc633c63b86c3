"""The disclosure says only what the engine enforces (issue 12, "What was seen"): clicks are
counted per browser and limited per network, not "per person"; a percentage is of the price the
shop reports (the engine does not know the tax); the match is added (and owed) by the brand; a
click campaign's minimum is "whatever the number of clicks"; refunds cancel; day caps are UTC
days; French says "1er décembre" and puts a no-break space before ":" and ";"."""

from __future__ import annotations

import pytest

from wefirst.catalog.disclosure import disclosure
from wefirst.domain.campaigns import (
    Caps,
    PercentOfSaleRule,
    PerClickRule,
    PerUnitRule,
    Rule,
)

from domain.domain_helpers import water_campaign

CLICK = PerClickRule(units_per_click=1)


def test_clicks_are_per_browser_with_limits_per_network_not_per_person() -> None:
    c = water_campaign(CLICK)
    en, fr = disclosure(c, "Aqua", "NGO", "en"), disclosure(c, "Aqua", "NGO", "fr")
    assert "per person" not in en
    assert "one click per browser per day (UTC)" in en
    assert "limits per network" in en
    assert "par personne" not in fr
    assert "un clic par navigateur et par jour (UTC)" in fr


def test_a_percentage_is_of_the_price_the_shop_reports_not_before_tax() -> None:
    c = water_campaign(PercentOfSaleRule(basis_points=200, sku_patterns=("A-*",)))
    assert "before tax" not in disclosure(c, "Aqua", "NGO", "en")
    assert "as the shop reports it" in disclosure(c, "Aqua", "NGO", "en")
    assert "hors taxes" not in disclosure(c, "Aqua", "NGO", "fr")


def test_the_match_says_who_adds_and_owes_it() -> None:
    c = water_campaign(CLICK, match_bps=10_000)
    en = disclosure(c, "Aqua", "NGO", "en")
    assert "matched at" not in en
    assert "Aqua adds 100% to every pledge (a match it also owes)." in en


@pytest.mark.parametrize(
    ("rules", "en_end", "fr_end"),
    [
        ((CLICK,), "whatever the number of clicks.", "quel que soit le nombre de clics."),
        ((PerUnitRule(("A-*",), 1),), "whatever the sales.", "quelles que soient les ventes."),
    ],
)
def test_a_guaranteed_minimum_is_worded_for_the_campaign_kind(
    rules: tuple[Rule, ...], en_end: str, fr_end: str
) -> None:
    c = water_campaign(*rules, guaranteed_minimum=100_000)
    assert en_end in disclosure(c, "Aqua", "NGO", "en")
    assert fr_end in disclosure(c, "Aqua", "NGO", "fr")


def test_refunds_cancel_the_donation_of_a_purchase_and_day_caps_are_utc_days() -> None:
    c = water_campaign(PerUnitRule(("A-*",), 1), caps=Caps(units_per_day=10))
    en, fr = disclosure(c, "Aqua", "NGO", "en"), disclosure(c, "Aqua", "NGO", "fr")
    assert "A refunded or cancelled purchase cancels its donation." in en
    assert "Un achat remboursé ou annulé annule son don." in fr
    assert "per day (UTC)" in en
    assert "refunded" not in disclosure(water_campaign(CLICK), "Aqua", "NGO", "en")  # no purchase, no refund


def test_french_ordinals_and_typography() -> None:
    fr = disclosure(water_campaign(CLICK), "Aqua", "NGO", "fr")
    assert "du 1er décembre 2026 au 1er mars 2027" in fr
    assert "du 1 décembre" not in fr
    assert "Bénéficiaire\u00a0: NGO" in fr
    assert " :" not in fr
    assert " ;" not in fr
