"""Each disclosure claim comes from a setting the system enforces (issue 12): the payment
schedule the ledger judges "late" against, and product names from the campaign's SKU catalogue
instead of SKU patterns; rendered in both languages and checked against the settings."""

from __future__ import annotations

import pytest

from wefirst.catalog.disclosure import disclosure
from wefirst.domain.campaigns import DEFAULT_PAYMENT_WITHIN_DAYS, PaymentSchedule, PerUnitRule

from domain.domain_helpers import water_campaign

NAPPIES = PerUnitRule(sku_patterns=("DOUDOU-*",), units_per_item=1)


@pytest.mark.parametrize(
    ("schedule", "en", "fr"),
    [
        (
            None,
            f"Pampy has set no payment schedule: Pampy pays Eau Vive what was pledged within "
            f"{DEFAULT_PAYMENT_WITHIN_DAYS} days after the campaign ends.",
            f"Pampy n'a pas fixé de calendrier de versement\u00a0: Pampy verse à Eau Vive ce qui a "
            f"été promis dans les {DEFAULT_PAYMENT_WITHIN_DAYS} jours après la fin de la campagne.",
        ),
        (
            PaymentSchedule("month", 15),
            "Pampy pays Eau Vive the pledges of each month within 15 days after the month ends.",
            "Pampy verse à Eau Vive les dons de chaque mois dans les 15 jours après la fin du mois.",
        ),
        (
            PaymentSchedule("quarter", 45),
            "Pampy pays Eau Vive the pledges of each quarter within 45 days after the quarter ends.",
            "Pampy verse à Eau Vive les dons de chaque trimestre dans les 45 jours après la fin "
            "du trimestre.",
        ),
        (
            PaymentSchedule("campaign", 10),
            "Pampy pays Eau Vive what was pledged within 10 days after the campaign ends.",
            "Pampy verse à Eau Vive ce qui a été promis dans les 10 jours après la fin de la campagne.",
        ),
    ],
)
def test_the_payment_schedule_is_stated(schedule: PaymentSchedule | None, en: str, fr: str) -> None:
    c = water_campaign(NAPPIES, payment_schedule=schedule)
    assert en in disclosure(c, "Pampy", "Eau Vive", "en")
    assert fr in disclosure(c, "Pampy", "Eau Vive", "fr")


def test_products_are_named_from_the_catalogue_not_by_pattern() -> None:
    names = (("DOUDOU-01", "Doudou lapin"), ("DOUDOU-02", "Doudou ours"), ("OTHER-1", "Autre"))
    c = water_campaign(NAPPIES, product_names=names)
    en, fr = disclosure(c, "Pampy", "Eau Vive", "en"), disclosure(c, "Pampy", "Eau Vive", "fr")
    assert "(Doudou lapin, Doudou ours)" in en
    assert "(Doudou lapin, Doudou ours)" in fr
    assert "DOUDOU-*" not in en + fr
    assert "Autre" not in en + fr  # a name of a product no rule counts is not promised
    # without a catalogue, the patterns are all there is to say
    bare = water_campaign(NAPPIES)
    assert "(DOUDOU-*)" in disclosure(bare, "Pampy", "Eau Vive", "en")
