"""The disclosure a campaign form would publish, before anything is saved: the form's body goes
through the API's own validation (CampaignIn) and the domain's own `disclosure`, so the preview
is the sentence the campaign page will show, never a copy of its wording."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection

from wefirst.catalog import codec
from wefirst.catalog import service as catalog
from wefirst.catalog.disclosure import disclosure
from wefirst.catalog.models import CampaignIn

LANGS = ("en", "fr")


def preview(conn: Connection, brand_id: str, data: CampaignIn) -> dict[str, str]:
    """English and French disclosure of a campaign that is not saved (read-only)."""
    brand = catalog.get_brand(conn, brand_id)
    ben = catalog.get_beneficiary(conn, data.beneficiary_id)
    definition = data.model_dump(mode="json", exclude={"impact_unit", "status"})
    return _sentences(brand.name, ben.name, brand_id, definition, data.impact_unit.model_dump(mode="json"))


def preview_edit(conn: Connection, campaign_id: str, patch: dict[str, Any]) -> dict[str, str]:
    """The disclosure a campaign would have once `patch` (the API's CampaignPatch shape,
    already validated) is applied."""
    loaded = catalog.load_campaign(conn, campaign_id)
    row = loaded.row
    brand = catalog.get_brand(conn, row.brand_id)
    ben = catalog.get_beneficiary(conn, row.beneficiary_id)
    definition = {**row.definition, **patch}
    CampaignIn.model_validate(
        {**definition, "impact_unit": loaded.unit_definition, "status": "draft"}
    )  # the merged campaign must still be a valid one
    return _sentences(brand.name, ben.name, row.brand_id, definition, loaded.unit_definition)


def _sentences(
    brand: str, ben: str, brand_id: str, definition: dict[str, Any], unit: dict[str, Any]
) -> dict[str, str]:
    row = SimpleNamespace(
        id="preview",
        brand_id=brand_id,
        beneficiary_id=definition["beneficiary_id"],
        definition=definition,
        status="draft",
        livemode=True,
    )
    campaign = codec.campaign(row, codec.impact_unit("preview", 1, unit))
    return {lang: disclosure(campaign, brand, ben, lang) for lang in LANGS}
