"""Campaigns: definitions, status, public balances, and the settlement/delivery record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Connection, select

from wefirst.api.deps import ActorDep, DbDep, IdempotencyKey, OptionalActorDep, RawBody
from wefirst.api.social import ResolverDep, resolve_rule_targets
from wefirst.api.writes import idempotent_post
from wefirst.auth.walls import can_see, owned, require, visible
from wefirst.catalog import service
from wefirst.catalog.models import CampaignIn, CampaignPatch, StatusIn
from wefirst.commitments import Shown, shown_for
from wefirst.domain.campaigns import outcome_figure
from wefirst.domain.clock import rfc3339
from wefirst.errors import FieldError, Invalid
from wefirst.ledger.balances import campaign_balance
from wefirst.store.tables_core import deliveries, settlements

router = APIRouter(prefix="/v1", tags=["campaigns"])


@router.post("/campaigns", status_code=201)
def create_campaign(
    request: Request,
    data: CampaignIn,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    resolver: ResolverDep,
    idempotency_key: IdempotencyKey = None,
    brand_id: Annotated[str | None, Query(description="Admins only: the brand.")] = None,
) -> JSONResponse:
    require(actor, "brand")
    if actor.role == "brand":
        if brand_id not in (None, actor.owner_id):
            raise Invalid(
                "brand_id: a brand key creates campaigns for its own brand only",
                [FieldError("brand_id", "not your brand")],
            )
        brand_id = actor.owner_id
    if brand_id is None:
        raise Invalid("brand_id: required for admin keys", [FieldError("brand_id", "required")])
    owner: str = brand_id
    data = data.model_copy(update={"rules": resolve_rule_targets(data.rules, resolver)})

    def work(conn: Connection) -> tuple[int, Any]:
        brand = service.get_brand(conn, owner)
        # a test-mode key of a live brand makes test campaigns: it must not start a real promise
        livemode = bool(brand.livemode) and (actor.is_admin or actor.livemode)
        return 201, service.create_campaign(conn, owner, data, livemode=livemode)

    return idempotent_post(request, db, actor, body, idempotency_key, work)


@router.get("/campaigns")
def list_campaigns(
    actor: OptionalActorDep,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    starting_after: str | None = None,
    brand_id: str | None = None,
    status: Annotated[str | None, Query(pattern="^(draft|active|paused|ended)$")] = None,
) -> dict[str, Any]:
    """Public list of live campaigns; a brand key also sees its drafts and test campaigns."""
    with db.read() as conn:
        own = actor is not None and actor.role == "brand"
        scope_brand = actor.owner_id if own and actor is not None else brand_id
        rows, has_more = service.list_campaigns(
            conn,
            brand_id=scope_brand,
            livemode=None if own else True,
            limit=limit,
            starting_after=starting_after,
            status=status,
        )
        rows = [r for r in rows if can_see(actor, r)]
        data = [service.campaign_json(conn, r.id) for r in rows]
    return {"data": data, "has_more": has_more, "next_cursor": rows[-1].id if has_more and rows else None}


@router.get("/campaigns/{campaign_id}")
def get_campaign(campaign_id: str, actor: OptionalActorDep, db: DbDep) -> dict[str, Any]:
    with db.read() as conn:
        loaded = visible(conn, actor, campaign_id)
        return service.campaign_json(conn, campaign_id, loaded)


@router.patch("/campaigns/{campaign_id}")
def patch_campaign(
    request: Request,
    campaign_id: str,
    patch: CampaignPatch,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    resolver: ResolverDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    if patch.rules is not None:
        patch = patch.model_copy(update={"rules": resolve_rule_targets(patch.rules, resolver)})

    def work(conn: Connection) -> tuple[int, Any]:
        owned(conn, actor, campaign_id)
        return 200, service.patch_campaign(conn, campaign_id, patch)

    return idempotent_post(request, db, actor, body, idempotency_key, work)


@router.post("/campaigns/{campaign_id}/status")
def set_status(
    request: Request,
    campaign_id: str,
    data: StatusIn,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    def work(conn: Connection) -> tuple[int, Any]:
        owned(conn, actor, campaign_id)
        return 200, service.set_status(conn, campaign_id, data.status)

    return idempotent_post(request, db, actor, body, idempotency_key, work)


@router.get("/campaigns/{campaign_id}/balance")
def get_balance(campaign_id: str, actor: OptionalActorDep, db: DbDep) -> dict[str, Any]:
    """Public: pledged, paid (reported, confirmed, disputed), delivered, and the gaps."""
    with db.read() as conn:
        unit = visible(conn, actor, campaign_id).campaign.unit
        balance = campaign_balance(conn, campaign_id)
    assert balance is not None
    out = balance.as_json()
    if unit.outcome is not None:  # "3 doses protect 1 child": the figure, floor and remainder
        out["pledged"]["outcome"] = outcome_figure(unit, balance.pledged_units)
        out["delivered"]["outcome"] = outcome_figure(unit, balance.delivered_units)
    return out


def _logged(row_id: str, fields: tuple[str, ...], logged: Mapping[tuple[str, str], Shown]) -> dict[str, Any]:
    """How the log holds each free text of the row: its commitment and the salt that lets
    anyone holding the text check it (`sha256("<salt>:<text>")`); none for rows logged before
    texts were committed."""
    return {f: logged[(row_id, f)].as_json() for f in fields if (row_id, f) in logged}


def settlement_json(row: Any, logged: Mapping[tuple[str, str], Shown] | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "campaign_id": row.campaign_id,
        "amount": {"amount": row.amount, "currency": row.currency},
        "external_reference": row.external_reference,
        "paid_at": rfc3339(row.paid_at),
        "reported_at": rfc3339(row.reported_at),
        "status": row.status,
        "decided_at": rfc3339(row.decided_at) if row.decided_at else None,
        "decision_note": row.decision_note,
        "confirmed_amount": (
            {"amount": row.confirmed_amount, "currency": row.currency}
            if row.confirmed_amount is not None
            else None
        ),
        "bank_reference": row.bank_reference,
        "beyond_owed": (
            {
                "amount": {"amount": row.beyond_owed_amount, "currency": row.currency},
                "reason": row.beyond_owed_reason,
            }
            if row.beyond_owed_amount
            else None
        ),
        "logged_as": _logged(
            row.id,
            ("external_reference", "beyond_owed_reason", "decision_note", "bank_reference"),
            logged or {},
        ),
    }


def delivery_json(row: Any, logged: Mapping[tuple[str, str], Shown] | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "campaign_id": row.campaign_id,
        "units": row.units,
        "period_start": row.period_start.isoformat(),
        "period_end": row.period_end.isoformat(),
        "evidence_url": row.evidence_url,
        "note": row.note,
        "reported_at": rfc3339(row.reported_at),
        "beyond_funded": (
            {"units": row.beyond_funded_units, "reason": row.beyond_funded_reason}
            if row.beyond_funded_units
            else None
        ),
        "logged_as": _logged(row.id, ("evidence_url", "beyond_funded_reason"), logged or {}),
    }


@router.get("/campaigns/{campaign_id}/settlements")
def list_settlements(campaign_id: str, actor: OptionalActorDep, db: DbDep) -> dict[str, Any]:
    with db.read() as conn:
        visible(conn, actor, campaign_id)
        rows = conn.execute(
            select(settlements).where(settlements.c.campaign_id == campaign_id).order_by(settlements.c.seq)
        ).all()
        logged = shown_for(conn, [r.id for r in rows])
    return {"data": [settlement_json(r, logged) for r in rows], "has_more": False, "next_cursor": None}


@router.get("/campaigns/{campaign_id}/deliveries")
def list_deliveries(campaign_id: str, actor: OptionalActorDep, db: DbDep) -> dict[str, Any]:
    with db.read() as conn:
        visible(conn, actor, campaign_id)
        rows = conn.execute(
            select(deliveries).where(deliveries.c.campaign_id == campaign_id).order_by(deliveries.c.seq)
        ).all()
        logged = shown_for(conn, [r.id for r in rows])
    return {"data": [delivery_json(r, logged) for r in rows], "has_more": False, "next_cursor": None}
