"""What several domain test modules share: a water campaign (days of water at €0.50, December
to March) with the rules and settings a test gives it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from wefirst.domain.campaigns import Campaign, CampaignStatus, ImpactUnit, Rule, UnitLabel
from wefirst.domain.money import Money


def water_campaign(*rules: Rule, **extra: object) -> Campaign:
    unit = ImpactUnit(
        id="iu_1",
        version=1,
        labels={
            "en": UnitLabel("day of water", "days of water"),
            "fr": UnitLabel("jour d'eau", "jours d'eau"),
        },
        cost_per_unit=Money(50, "EUR"),
        cost_source="cost sheet",
        cost_date=date(2026, 1, 15),
        mode="funds",
    )
    return Campaign(
        id="cmp_1",
        brand_id="brd_1",
        beneficiary_id="ben_1",
        name="Water",
        currency="EUR",
        starts_at=datetime(2026, 12, 1, tzinfo=UTC),
        ends_at=datetime(2027, 3, 1, tzinfo=UTC),
        status=CampaignStatus.active,
        rules=rules,
        unit=unit,
        **extra,  # type: ignore[arg-type]
    )
