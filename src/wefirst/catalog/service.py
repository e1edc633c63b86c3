"""Creating and changing brands, beneficiaries and campaigns. Every campaign definition and
every change to it goes into the transparency log, so a promise cannot be quietly edited."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from wefirst.catalog import codec
from wefirst.catalog.disclosure import disclosure
from wefirst.catalog.models import (
    BeneficiaryIn,
    BrandIn,
    CampaignIn,
    CampaignPatch,
    ImpactUnitIn,
    check_campaign_shape,
)
from wefirst.domain.campaigns import STATUS_TRANSITIONS, Campaign, CampaignStatus
from wefirst.domain.clock import rfc3339, utcnow
from wefirst.domain.ids import new_id
from wefirst.errors import Conflict, FieldError, Invalid, NotFound
from wefirst.store.tables_core import (
    beneficiaries,
    brands,
    campaign_counters,
    campaigns,
    impact_units,
)
from wefirst.tlog.queue import enqueue


def create_brand(conn: Connection, data: BrandIn, *, livemode: bool = True) -> dict[str, Any]:
    brand_id = new_id("brd")
    now = utcnow()
    conn.execute(
        insert(brands).values(
            id=brand_id,
            name=data.name,
            website=data.website,
            livemode=livemode,
            order_salt=secrets.token_bytes(32),
            created_at=now,
        )
    )
    return {
        "id": brand_id,
        "name": data.name,
        "website": data.website,
        "livemode": livemode,
        "created_at": rfc3339(now),
    }


def create_beneficiary(conn: Connection, data: BeneficiaryIn, *, livemode: bool = True) -> dict[str, Any]:
    ben_id = new_id("ben")
    now = utcnow()
    conn.execute(
        insert(beneficiaries).values(
            id=ben_id, name=data.name, website=data.website, livemode=livemode, created_at=now
        )
    )
    return {
        "id": ben_id,
        "name": data.name,
        "website": data.website,
        "livemode": livemode,
        "created_at": rfc3339(now),
    }


def party_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "website": row.website,
        "livemode": row.livemode,
        "created_at": rfc3339(row.created_at),
    }


def get_brand(conn: Connection, brand_id: str) -> Row[Any]:
    row = conn.execute(select(brands).where(brands.c.id == brand_id)).first()
    if row is None:
        raise NotFound(f"brand {brand_id} does not exist")
    return row


def get_beneficiary(conn: Connection, ben_id: str) -> Row[Any]:
    row = conn.execute(select(beneficiaries).where(beneficiaries.c.id == ben_id)).first()
    if row is None:
        raise NotFound(f"beneficiary {ben_id} does not exist")
    return row


def _unit_json(unit_id: str, version: int, d: dict[str, Any]) -> dict[str, Any]:
    return {"id": unit_id, "version": version, **d}


def _insert_unit(conn: Connection, unit_id: str, version: int, ben_id: str, u: ImpactUnitIn) -> None:
    conn.execute(
        insert(impact_units).values(
            id=unit_id,
            version=version,
            beneficiary_id=ben_id,
            definition=u.model_dump(mode="json"),
            created_at=utcnow(),
        )
    )


def create_campaign(
    conn: Connection, brand_id: str, data: CampaignIn, *, livemode: bool = True
) -> dict[str, Any]:
    ben = get_beneficiary(conn, data.beneficiary_id)
    if ben.livemode != livemode:
        raise Invalid(
            "beneficiary_id: belongs to the other mode (test/live)",
            [FieldError("beneficiary_id", "test and live data never mix")],
        )
    campaign_id, unit_id = new_id("cmp"), new_id("iu")
    now = utcnow()
    _insert_unit(conn, unit_id, 1, data.beneficiary_id, data.impact_unit)
    definition = data.model_dump(mode="json", exclude={"impact_unit", "status"})
    conn.execute(
        insert(campaigns).values(
            id=campaign_id,
            brand_id=brand_id,
            beneficiary_id=data.beneficiary_id,
            impact_unit_id=unit_id,
            impact_unit_version=1,
            status=data.status,
            livemode=livemode,
            version=1,
            definition=definition,
            created_at=now,
            updated_at=now,
        )
    )
    conn.execute(
        insert(campaign_counters).values(
            campaign_id=campaign_id,
            net_units=0,
            net_money=0,
            units_rem=0,
            money_rem=0,
            pct_money_rem=0,
        )
    )
    if livemode and data.status != CampaignStatus.draft:
        _log_definition(conn, load_campaign(conn, campaign_id), now)
    return campaign_json(conn, campaign_id)


def _log_definition(conn: Connection, loaded: Loaded, now: datetime) -> None:
    """The whole definition enters the public log when the campaign first becomes public
    (created active, or a draft activated): drafts and test-mode campaigns never appear."""
    row = loaded.row
    enqueue(
        conn,
        {
            "v": 1,
            "kind": "campaign_defined",
            "campaign": row.id,
            "at": rfc3339(now),
            "brand": row.brand_id,
            "beneficiary": row.beneficiary_id,
            "version": row.version,
            "status": row.status,
            "definition": row.definition,
            "impact_unit": _unit_json(row.impact_unit_id, row.impact_unit_version, loaded.unit_definition),
        },
    )


@dataclass(frozen=True)
class Loaded:
    row: Row[Any]
    campaign: Campaign
    unit_definition: dict[str, Any]  # the impact unit version as it was defined (JSON)


def load_campaign(conn: Connection, campaign_id: str, *, for_update: bool = False) -> Loaded:
    query = select(campaigns).where(campaigns.c.id == campaign_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"campaign {campaign_id} does not exist")
    unit_definition: dict[str, Any] = conn.execute(
        select(impact_units.c.definition).where(
            impact_units.c.id == row.impact_unit_id,
            impact_units.c.version == row.impact_unit_version,
        )
    ).scalar_one()
    unit = codec.impact_unit(row.impact_unit_id, row.impact_unit_version, unit_definition)
    return Loaded(row, codec.campaign(row, unit), unit_definition)


def campaign_json(conn: Connection, campaign_id: str, loaded: Loaded | None = None) -> dict[str, Any]:
    loaded = loaded or load_campaign(conn, campaign_id)
    row, c = loaded.row, loaded.campaign
    brand = get_brand(conn, row.brand_id)
    ben = get_beneficiary(conn, row.beneficiary_id)
    return {
        "id": row.id,
        "brand_id": row.brand_id,
        "beneficiary_id": row.beneficiary_id,
        "status": row.status,
        "livemode": row.livemode,
        "version": row.version,
        **row.definition,
        "impact_unit": _unit_json(row.impact_unit_id, row.impact_unit_version, loaded.unit_definition),
        "disclosure": {lang: disclosure(c, brand.name, ben.name, lang) for lang in ("en", "fr")},
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
    }


def list_campaigns(
    conn: Connection,
    *,
    brand_id: str | None,
    livemode: bool | None,
    limit: int,
    starting_after: str | None,
    status: str | None = None,
) -> tuple[list[Row[Any]], bool]:
    query = select(campaigns)
    if brand_id is not None:
        query = query.where(campaigns.c.brand_id == brand_id)
    if livemode is not None:
        query = query.where(campaigns.c.livemode == livemode)
    if status is not None:
        query = query.where(campaigns.c.status == status)
    if starting_after:
        seq = conn.execute(select(campaigns.c.seq).where(campaigns.c.id == starting_after)).scalar()
        if seq is None:
            raise Invalid(
                "starting_after: no such campaign", [FieldError("starting_after", "unknown cursor")]
            )
        query = query.where(campaigns.c.seq > seq)
    rows = conn.execute(query.order_by(campaigns.c.seq).limit(limit + 1)).all()
    return list(rows[:limit]), len(rows) > limit


def _change(conn: Connection, loaded: Loaded, values: dict[str, Any], changed: dict[str, Any]) -> None:
    row = loaded.row
    now = utcnow()
    version = row.version + 1
    conn.execute(
        update(campaigns).where(campaigns.c.id == row.id).values(version=version, updated_at=now, **values)
    )
    if not loaded.campaign.public:
        return  # a draft or a test-mode campaign: the brand's private work
    enqueue(
        conn,
        {
            "v": 1,
            "kind": "campaign_changed",
            "campaign": row.id,
            "at": rfc3339(now),
            "brand": row.brand_id,
            "version": version,
            "changes": changed,
        },
    )


def set_status(conn: Connection, campaign_id: str, status: str) -> dict[str, Any]:
    loaded = load_campaign(conn, campaign_id, for_update=True)
    current = CampaignStatus(loaded.row.status)
    target = CampaignStatus(status)
    if target == current:
        return campaign_json(conn, campaign_id)
    if target not in STATUS_TRANSITIONS[current]:
        raise Conflict(
            f"a {current} campaign cannot become {target}",
            [FieldError("status", f"not allowed from {current}")],
        )
    _change(conn, loaded, {"status": target.value}, {"status": target.value})
    if current == CampaignStatus.draft and target == CampaignStatus.active and loaded.row.livemode:
        _log_definition(conn, load_campaign(conn, campaign_id), utcnow())
    return campaign_json(conn, campaign_id)


def patch_campaign(conn: Connection, campaign_id: str, patch: CampaignPatch) -> dict[str, Any]:
    loaded = load_campaign(conn, campaign_id, for_update=True)
    row = loaded.row
    if row.status == CampaignStatus.ended:
        raise Conflict("an ended campaign cannot change")
    given = patch.model_dump(mode="json", exclude_unset=True)
    if not given:
        raise Invalid("nothing to change", [FieldError("body", "give at least one field")])
    merged = {**row.definition, "impact_unit": loaded.unit_definition, "status": "draft"}
    merged.update(given)
    try:
        check = CampaignIn.model_validate(merged)
        check_campaign_shape(check)
    except ValueError as exc:
        raise Invalid(f"the changed campaign would be invalid: {exc}") from None
    values: dict[str, Any] = {"definition": check.model_dump(mode="json", exclude={"impact_unit", "status"})}
    if patch.impact_unit is not None:
        new_version = row.impact_unit_version + 1
        _insert_unit(conn, row.impact_unit_id, new_version, row.beneficiary_id, patch.impact_unit)
        values["impact_unit_version"] = new_version
        given["impact_unit"] = _unit_json(row.impact_unit_id, new_version, given["impact_unit"])
    _change(conn, loaded, values, given)
    return campaign_json(conn, campaign_id)
