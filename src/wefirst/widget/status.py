"""What the widget shows for a campaign, and the words it shows, from the campaign alone.

Kept apart from the service so the rules (when is a campaign "objectif atteint", which label
goes with a count) are tested without a database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wefirst.domain.campaigns import Campaign, CampaignStatus, PerClickRule
from wefirst.widget.fraud import CampaignState

LANGS = ("fr", "en")


def campaign_state(
    campaign: Campaign, *, now: datetime, net_units: int, net_money: int, day_units: int
) -> CampaignState:
    if campaign.status is CampaignStatus.paused:
        return CampaignState.PAUSED
    if campaign.status is CampaignStatus.ended or (campaign.ends_at is not None and now >= campaign.ends_at):
        return CampaignState.ENDED
    if campaign.status is not CampaignStatus.active or now < campaign.starts_at:
        return CampaignState.NOT_STARTED
    caps = campaign.caps
    if (
        (caps.total_units is not None and net_units >= caps.total_units)
        or (caps.total_money is not None and net_money >= caps.total_money)
        or (caps.units_per_day is not None and day_units >= caps.units_per_day)
    ):
        return CampaignState.CAP_REACHED
    return CampaignState.ACTIVE


def units_per_click(campaign: Campaign) -> int | None:
    for rule in campaign.rules:
        if isinstance(rule, PerClickRule):
            return rule.units_per_click
    return None


def default_texts(campaign: Campaign) -> dict[str, Any]:
    """The brand's line and the counter's label, in both languages, from the campaign's own
    impact unit: "Chaque clic finance 1 jour d'eau potable"."""
    per_click = units_per_click(campaign) or 1
    labels = {lang: campaign.unit.labels.get(lang) or campaign.unit.labels["en"] for lang in LANGS}
    return {
        "line": {
            "fr": f"Chaque clic finance {per_click} {labels['fr'].for_count(per_click)}",
            "en": f"Every click funds {per_click} {labels['en'].for_count(per_click)}",
        },
        "counter": {lang: {"one": labels[lang].singular, "other": labels[lang].plural} for lang in LANGS},
    }


def merged_texts(campaign: Campaign, custom: dict[str, Any] | None) -> dict[str, Any]:
    """Texts the brand set for its widget override the defaults, language by language."""
    texts = default_texts(campaign)
    for part in ("line", "counter"):
        for lang, value in ((custom or {}).get(part) or {}).items():
            if lang in LANGS and value:
                texts[part][lang] = value
    return texts
