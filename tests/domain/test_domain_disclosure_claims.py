"""Every claim of the disclosure, per rule kind and option, in both languages (issue 12, honest
disclosure): each case sets one setting and lists, written out by hand, the sentence it must
produce in English and in French; the test renders the campaign and checks that those
sentences, and nothing else, make up the text. So a sentence nobody set cannot appear, a setting
cannot go unsaid, and the French is checked for its typography (no-break space before : ; ? !
and %, "1er" for the first of the month). What the engine does with each setting is tested where
it is enforced (named beside each case)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest

from wefirst.catalog.disclosure import disclosure
from wefirst.domain.campaigns import (
    Campaign,
    Caps,
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
from wefirst.domain.social import AccountCriteria
from wefirst.widget.fraud import Limits

from domain.domain_helpers import water_campaign

NB = "\u00a0"  # French: before : ; ! ? and %, and between an amount and €
POST = "https://m.example/@aqua/1"


@dataclass(frozen=True)
class Case:
    rules: tuple[Rule, ...]
    en: tuple[str, ...]
    fr: tuple[str, ...]
    settings: dict[str, object] = field(default_factory=dict)
    #: the base sentences this case replaces (by their English/French start)
    replaces: tuple[str, ...] = ()


PER_UNIT = PerUnitRule(("A-*",), 2)
PER_UNIT_EN = "For each eligible product bought (A-*), Aqua funds 2 days of water (valued at €0.50 each)."
PER_UNIT_FR = (
    f"Pour chaque produit éligible acheté (A-*), Aqua finance 2 jours d'eau (valeur{NB}: 0,50{NB}€ l'unité)."
)
REFUND_EN = "A refunded or cancelled purchase cancels its donation."
REFUND_FR = "Un achat remboursé ou annulé annule son don."
CLICK = PerClickRule(1)
CLICK_EN = (
    "For each counted click, Aqua funds 1 day of water (valued at €0.50 each); one click per browser "
    "per day (UTC) is counted, with limits per network."
)
CLICK_FR = (
    f"Pour chaque clic compté, Aqua finance 1 jour d'eau (valeur{NB}: 0,50{NB}€ l'unité){NB}; un clic "
    "par navigateur et par jour (UTC) est compté, avec des limites par réseau."
)


def _percent(basis: str) -> PercentOfSaleRule:
    return PercentOfSaleRule(250, ("*",), basis)  # type: ignore[arg-type]


CASES: dict[str, Case] = {
    # engine: tests/pledges/test_pledges_engine.py (per_unit, per_order), tests/widget (per_click)
    "per_unit": Case((PER_UNIT,), (PER_UNIT_EN, REFUND_EN), (PER_UNIT_FR, REFUND_FR)),
    "per_unit_product_names": Case(
        (PER_UNIT,),
        (PER_UNIT_EN.replace("(A-*)", "(Blue bottle, Red bottle)"), REFUND_EN),
        (PER_UNIT_FR.replace("(A-*)", "(Blue bottle, Red bottle)"), REFUND_FR),
        {"product_names": (("A-1", "Red bottle"), ("A-2", "Blue bottle"))},
    ),
    "per_click": Case((CLICK,), (CLICK_EN,), (CLICK_FR,)),
    "per_order": Case(
        (PerOrderRule(3),),
        ("For each order, Aqua funds 3 days of water.", REFUND_EN),
        ("Pour chaque commande, Aqua finance 3 jours d'eau.", REFUND_FR),
    ),
    "per_unit_delivers": Case(
        (PER_UNIT,),
        (PER_UNIT_EN.replace("funds", "delivers"), REFUND_EN),
        (PER_UNIT_FR.replace("finance", "fournit"), REFUND_FR),
        {"mode": "delivers"},
    ),
    # engine: tests/pledges/test_pledges_time_zone_tax.py (price basis)
    "percent_as_reported": Case(
        (_percent("as_reported"),),
        (
            "Aqua gives 2.5% of the price of each eligible purchase as the shop reports it (with or "
            "without tax, as the shop sends it), which funds days of water at €0.50 each.",
            REFUND_EN,
        ),
        (
            f"Aqua reverse 2,5{NB}% du prix de chaque achat éligible tel que la boutique le transmet "
            f"(taxes comprises ou non, selon la boutique), ce qui finance des jours d'eau à 0,50{NB}€ "
            "l'unité.",
            REFUND_FR,
        ),
    ),
    "percent_with_tax": Case(
        (_percent("with_tax"),),
        (
            "Aqua gives 2.5% of the price including tax of each eligible purchase, which funds days "
            "of water at €0.50 each.",
            REFUND_EN,
        ),
        (
            f"Aqua reverse 2,5{NB}% du prix toutes taxes comprises de chaque achat éligible, ce qui "
            f"finance des jours d'eau à 0,50{NB}€ l'unité.",
            REFUND_FR,
        ),
    ),
    "percent_without_tax": Case(
        (_percent("without_tax"),),
        (
            "Aqua gives 2.5% of the price excluding tax of each eligible purchase, which funds days "
            "of water at €0.50 each.",
            REFUND_EN,
        ),
        (
            f"Aqua reverse 2,5{NB}% du prix hors taxes de chaque achat éligible, ce qui finance des "
            f"jours d'eau à 0,50{NB}€ l'unité.",
            REFUND_FR,
        ),
    ),
    # engine: tests/pledges/test_pledges_social.py, tests/domain/test_domain_social.py
    "per_social_action_day_capped": Case(
        (
            PerSocialActionRule(
                "like",
                "mastodon",
                POST,
                1,
                cap_units=50,
                period="day",
                criteria=AccountCriteria(min_account_age_days=45, min_posts=10, burst_max=15),
            ),
        ),
        (
            f"For each public like of the post {POST} on Mastodon, Aqua funds 1 day of water "
            "(valued at €0.50 each). Counted: one action per account per day, from accounts at "
            "least 45 days old with at least 10 posts, not flagged as bots; at most 15 accounts "
            "created within 24 hours of each other. Not counted: other networks or posts, actions "
            "outside the campaign's window, likes undone before settlement, accounts that fail "
            "these criteria. This rule gives at most 50 days of water.",
        ),
        (
            f"Pour chaque «{NB}j'aime{NB}» sur la publication {POST} sur Mastodon, Aqua finance 1 jour "
            f"d'eau (valeur{NB}: 0,50{NB}€ l'unité). Compté{NB}: une action par compte et par jour, "
            "venant de comptes âgés d'au moins 45 jours avec au moins 10 publications, non "
            f"signalés comme robots{NB}; au plus 15 comptes créés à moins de 24 heures "
            f"d'intervalle. Non compté{NB}: autres réseaux ou publications, actions hors de la "
            f"période de la campagne, «{NB}j'aime{NB}» retirés avant le versement, comptes ne remplissant "
            "pas ces critères. Cette règle donne au plus 50 jours d'eau.",
        ),
    ),
    "per_social_action_campaign_bots": Case(
        (
            PerSocialActionRule(
                "hashtag_post", "bluesky", "#Eau", 2, criteria=AccountCriteria(allow_bots=True)
            ),
        ),
        (
            "For each public original post with #Eau on Bluesky, Aqua funds 2 days of water "
            "(valued at €0.50 each). Counted: one action per account for the whole campaign, from "
            "accounts at least 30 days old with at least 5 posts; at most 20 accounts created "
            "within 24 hours of each other. Not counted: other networks or posts, actions outside "
            "the campaign's window, posts deleted before settlement, accounts that fail these "
            "criteria.",
        ),
        (
            "Pour chaque publication originale avec #Eau sur Bluesky, Aqua finance 2 jours d'eau "
            f"(valeur{NB}: 0,50{NB}€ l'unité). Compté{NB}: une action par compte pour toute la "
            "campagne, venant de comptes âgés d'au moins 30 jours avec au moins 5 publications"
            f"{NB}; au plus 20 comptes créés à moins de 24 heures d'intervalle. Non compté{NB}: "
            "autres réseaux ou publications, actions hors de la période de la campagne, "
            "publications supprimées avant le versement, comptes ne remplissant pas ces critères.",
        ),
    ),
    # engine: tests/pledges/test_pledges_engine.py::test_caps_hold_inside_one_batch
    "caps_total_and_money": Case(
        (CLICK,),
        (CLICK_EN, "Donations stop at 1,000 days of water or €400.00."),
        (CLICK_FR, f"Les dons s'arrêtent à 1\u202f000 jours d'eau ou 400,00{NB}€."),
        {"caps": Caps(total_units=1000, total_money=40_000)},
    ),
    "cap_per_day_utc": Case(
        (CLICK,),
        (CLICK_EN, "At most 10 days of water per day (UTC)."),
        (CLICK_FR, "Au plus 10 jours d'eau par jour (UTC)."),
        {"caps": Caps(units_per_day=10)},
    ),
    # engine: tests/pledges/test_pledges_time_zone_tax.py::test_day_caps_count_the_days_of_*
    # 23:00 UTC on 30 November is midnight on 1 December in Paris: the dates are the zone's
    "time_zone": Case(
        (CLICK,),
        (
            CLICK_EN,
            "Campaign runs from 1 December 2026 to 1 March 2027 (Europe/Paris).",
            "At most 10 days of water per day (Europe/Paris).",
        ),
        (
            CLICK_FR,
            "Campagne du 1er décembre 2026 au 1er mars 2027 (Europe/Paris).",
            "Au plus 10 jours d'eau par jour (Europe/Paris).",
        ),
        {
            "time_zone": "Europe/Paris",
            "starts_at": datetime(2026, 11, 30, 23, tzinfo=UTC),
            "ends_at": datetime(2027, 2, 28, 23, tzinfo=UTC),
            "caps": Caps(units_per_day=10),
        },
        replaces=("Campaign runs", "Campagne du"),
    ),
    "open_ended": Case(
        (CLICK,),
        (CLICK_EN, "Campaign runs from 1 December 2026 (UTC) until further notice."),
        (CLICK_FR, "Campagne à partir du 1er décembre 2026 (UTC), jusqu'à nouvel ordre."),
        {"ends_at": None},
        replaces=("Campaign runs", "Campagne du"),
    ),
    # engine: tests/domain/test_domain_rules.py::test_per_unit_with_matching*
    "match_by_the_brand": Case(
        (CLICK,),
        (CLICK_EN, "Aqua adds 100% to every pledge (a match it also owes)."),
        (CLICK_FR, f"Aqua ajoute 100{NB}% à chaque don (un abondement qu'elle doit aussi)."),
        {"match_bps": 10_000},
    ),
    "match_by_a_funder": Case(
        (CLICK,),
        (
            CLICK_EN,
            "Fondation Source funds a match of 50% on every pledge; Aqua owes NGO the whole, match included.",
        ),
        (
            CLICK_FR,
            f"Fondation Source finance un abondement de 50{NB}% sur chaque don{NB}; Aqua doit le tout "
            "à NGO, abondement compris.",
        ),
        {"match_bps": 5_000, "match_funder": "Fondation Source"},
    ),
    # ledger: tests/api/test_api_claims_bounds.py (a minimum is owed whatever was pledged)
    "minimum_clicks": Case(
        (CLICK,),
        (CLICK_EN, "Aqua guarantees a minimum donation of €1,000.00, whatever the number of clicks."),
        (CLICK_FR, f"Aqua garantit un don minimum de 1\u202f000,00{NB}€, quel que soit le nombre de clics."),
        {"guaranteed_minimum": 100_000},
    ),
    "minimum_sales": Case(
        (PER_UNIT,),
        (PER_UNIT_EN, REFUND_EN, "Aqua guarantees a minimum donation of €1,000.00, whatever the sales."),
        (
            PER_UNIT_FR,
            REFUND_FR,
            f"Aqua garantit un don minimum de 1\u202f000,00{NB}€, quelles que soient les ventes.",
        ),
        {"guaranteed_minimum": 100_000},
    ),
    "minimum_mixed": Case(
        (PER_UNIT, CLICK),
        (
            PER_UNIT_EN,
            CLICK_EN,
            REFUND_EN,
            "Aqua guarantees a minimum donation of €1,000.00, whatever the results.",
        ),
        (
            PER_UNIT_FR,
            CLICK_FR,
            REFUND_FR,
            f"Aqua garantit un don minimum de 1\u202f000,00{NB}€, quels que soient les résultats.",
        ),
        {"guaranteed_minimum": 100_000},
    ),
    # api: tests/api/test_api_outcome_figures.py
    "outcome": Case(
        (CLICK,),
        (CLICK_EN, "3 days of water = 1 family served."),
        (CLICK_FR, "3 jours d'eau = 1 famille servie."),
        {
            "outcome": Outcome(
                3,
                {
                    "en": UnitLabel("family served", "families served"),
                    "fr": UnitLabel("famille servie", "familles servies"),
                },
            )
        },
    ),
    # ledger: tests/ledger (late payments are judged against the schedule)
    "payment_monthly": Case(
        (CLICK,),
        (CLICK_EN, "Aqua pays NGO the pledges of each month within 15 days after the month ends."),
        (CLICK_FR, "Aqua verse à NGO les dons de chaque mois dans les 15 jours après la fin du mois."),
        {"payment_schedule": PaymentSchedule("month", 15)},
        replaces=("Aqua has set no payment schedule", "Aqua n'a pas fixé"),
    ),
    "payment_quarterly": Case(
        (CLICK,),
        (CLICK_EN, "Aqua pays NGO the pledges of each quarter within 45 days after the quarter ends."),
        (
            CLICK_FR,
            "Aqua verse à NGO les dons de chaque trimestre dans les 45 jours après la fin du trimestre.",
        ),
        {"payment_schedule": PaymentSchedule("quarter", 45)},
        replaces=("Aqua has set no payment schedule", "Aqua n'a pas fixé"),
    ),
    "payment_at_the_end": Case(
        (CLICK,),
        (CLICK_EN, "Aqua pays NGO what was pledged within 10 days after the campaign ends."),
        (CLICK_FR, "Aqua verse à NGO ce qui a été promis dans les 10 jours après la fin de la campagne."),
        {"payment_schedule": PaymentSchedule("campaign", 10)},
        replaces=("Aqua has set no payment schedule", "Aqua n'a pas fixé"),
    ),
}

BASE = {
    "en": (
        "Campaign runs from 1 December 2026 to 1 March 2027 (UTC).",
        "Beneficiary: NGO.",
        "Aqua has set no payment schedule: Aqua pays NGO what was pledged within 30 days after the "
        "campaign ends.",
        "Cost basis: cost sheet, 2026-01-15.",
    ),
    "fr": (
        "Campagne du 1er décembre 2026 au 1er mars 2027 (UTC).",
        f"Bénéficiaire{NB}: NGO.",
        f"Aqua n'a pas fixé de calendrier de versement{NB}: Aqua verse à NGO ce qui a été promis dans "
        "les 30 jours après la fin de la campagne.",
        f"Base de coût{NB}: cost sheet, 2026-01-15.",
    ),
}


def _campaign(case: Case) -> Campaign:
    settings = dict(case.settings)
    mode, outcome = settings.pop("mode", "funds"), settings.pop("outcome", None)
    c = replace(water_campaign(*case.rules), **settings)  # type: ignore[arg-type]
    return replace(c, unit=replace(c.unit, mode=mode, outcome=outcome))  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_each_claim_is_the_sentence_of_a_setting(name: str, lang: str) -> None:
    case = CASES[name]
    text = disclosure(_campaign(case), "Aqua", "NGO", lang)
    wanted = case.en if lang == "en" else case.fr
    base = [s for s in BASE[lang] if not s.startswith(case.replaces)]
    left = text
    for sentence in (*wanted, *base):
        assert sentence in left, f"missing: {sentence!r}\nin: {text!r}"
        left = left.replace(sentence, "", 1)
    assert left.strip() == "", f"said without a setting: {left.strip()!r}"
    if lang == "fr":
        assert " :" not in text
        assert " ;" not in text
        assert " %" not in text
        assert "du 1 " not in text


def test_the_click_claim_is_the_limit_the_widget_enforces() -> None:
    """'one click per browser per day (UTC)': the widget's default (widget/fraud.py); its keys
    are per UTC day whatever the campaign's zone (widget/hashing.py)."""
    assert Limits().clicks_per_visitor_per_day == 1


def test_every_rule_kind_has_a_case() -> None:
    kinds = {r.kind for case in CASES.values() for r in case.rules}
    assert kinds == {"per_unit", "per_click", "percent_of_sale", "per_order", "per_social_action"}
    bases = {r.price_basis for case in CASES.values() for r in case.rules if isinstance(r, PercentOfSaleRule)}
    assert bases == {"as_reported", "with_tax", "without_tax"}
