"""Brands and beneficiaries (created by admins; read by their owners)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from wefirst.api.deps import ActorDep, DbDep, IdempotencyKey, RawBody, page
from wefirst.api.writes import idempotent_post
from wefirst.auth.walls import require
from wefirst.catalog import service
from wefirst.catalog.models import BeneficiaryIn, BrandIn
from wefirst.errors import FieldError, Invalid
from wefirst.ledger.balances import brand_balance
from wefirst.store.tables_core import beneficiaries, brands

router = APIRouter(prefix="/v1", tags=["brands and beneficiaries"])

Limit = Annotated[int, Query(ge=1, le=100)]


@router.post("/brands", status_code=201)
def create_brand(
    request: Request,
    data: BrandIn,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    require(actor, "admin")
    return idempotent_post(
        request,
        db,
        actor,
        body,
        idempotency_key,
        lambda conn: (201, service.create_brand(conn, data, livemode=actor.livemode)),
    )


@router.get("/brands/{brand_id}")
def get_brand(brand_id: str, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    require(actor, "brand", owner=brand_id)
    with db.read() as conn:
        return service.party_json(service.get_brand(conn, brand_id))


@router.get("/brands/{brand_id}/balance")
def get_brand_balance(brand_id: str, db: DbDep) -> dict[str, Any]:
    """Public: what the brand promised and paid, over all its campaigns."""
    with db.read() as conn:
        service.get_brand(conn, brand_id)
        return brand_balance(conn, brand_id)


def _list(db: DbDep, table: Any, limit: int, starting_after: str | None) -> dict[str, Any]:
    with db.read() as conn:
        query = select(table)
        if starting_after:
            seq = conn.execute(select(table.c.seq).where(table.c.id == starting_after)).scalar()
            if seq is None:
                raise Invalid(
                    "starting_after: unknown cursor", [FieldError("starting_after", "unknown cursor")]
                )
            query = query.where(table.c.seq > seq)
        rows = conn.execute(query.order_by(table.c.seq).limit(limit + 1)).all()
    return page(list(rows[:limit]), len(rows) > limit, service.party_json)


@router.get("/brands")
def list_brands(
    actor: ActorDep, db: DbDep, limit: Limit = 50, starting_after: str | None = None
) -> dict[str, Any]:
    require(actor, "admin")
    return _list(db, brands, limit, starting_after)


@router.post("/beneficiaries", status_code=201)
def create_beneficiary(
    request: Request,
    data: BeneficiaryIn,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    require(actor, "admin")
    return idempotent_post(
        request,
        db,
        actor,
        body,
        idempotency_key,
        lambda conn: (201, service.create_beneficiary(conn, data, livemode=actor.livemode)),
    )


@router.get("/beneficiaries/{beneficiary_id}")
def get_beneficiary(beneficiary_id: str, db: DbDep) -> dict[str, Any]:
    """Public: a beneficiary's name and website are shown on every campaign page."""
    with db.read() as conn:
        return service.party_json(service.get_beneficiary(conn, beneficiary_id))


@router.get("/beneficiaries")
def list_beneficiaries(
    actor: ActorDep, db: DbDep, limit: Limit = 50, starting_after: str | None = None
) -> dict[str, Any]:
    require(actor, "admin")
    return _list(db, beneficiaries, limit, starting_after)
