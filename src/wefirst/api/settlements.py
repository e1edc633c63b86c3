"""Money and impact after the pledge: the brand reports payments, the beneficiary confirms or
disputes them and reports what it delivered."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Connection, select

from wefirst.api.campaigns import delivery_json, settlement_json
from wefirst.api.deps import ActorDep, DbDep, IdempotencyKey, OptionalActorDep, RawBody
from wefirst.api.writes import idempotent_post
from wefirst.auth.walls import owned, require, same_mode, visible
from wefirst.catalog import service
from wefirst.commitments import shown_for
from wefirst.domain.clock import utcnow
from wefirst.errors import FieldError, Invalid, NotFound
from wefirst.ledger import service as ledger
from wefirst.ledger.models import DecisionIn, DeliveryIn, SettlementIn
from wefirst.store.tables_core import deliveries, settlements

router = APIRouter(prefix="/v1", tags=["settlements and deliveries"])


@router.post("/campaigns/{campaign_id}/settlements", status_code=201)
def report_settlement(
    request: Request,
    campaign_id: str,
    data: SettlementIn,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    def work(conn: Connection) -> tuple[int, Any]:
        loaded = owned(conn, actor, campaign_id)
        c = loaded.campaign
        if data.amount.currency != c.currency:
            raise Invalid(
                f"amount.currency: the campaign is in {c.currency}",
                [FieldError("amount.currency", f"must be {c.currency}")],
            )
        if data.amount.amount <= 0:
            raise Invalid(
                "amount.amount: must be positive", [FieldError("amount.amount", "must be positive")]
            )
        if data.paid_at > utcnow():
            raise Invalid("paid_at: is in the future", [FieldError("paid_at", "in the future")])
        sid = ledger.report_settlement(
            conn,
            c,
            amount=data.amount.amount,
            external_reference=data.external_reference,
            paid_at=data.paid_at,
            beyond_owed_reason=data.beyond_owed_reason,
        )
        row = conn.execute(select(settlements).where(settlements.c.id == sid)).one()
        return 201, settlement_json(row, shown_for(conn, [sid]))

    return idempotent_post(request, db, actor, body, idempotency_key, work)


def _settlement(conn: Connection, settlement_id: str) -> Any:
    row = conn.execute(select(settlements).where(settlements.c.id == settlement_id)).first()
    if row is None:
        raise NotFound(f"settlement {settlement_id} does not exist")
    return row


@router.get("/settlements/{settlement_id}")
def get_settlement(settlement_id: str, actor: OptionalActorDep, db: DbDep) -> dict[str, Any]:
    with db.read() as conn:
        row = _settlement(conn, settlement_id)
        visible(conn, actor, row.campaign_id)
        return settlement_json(row, shown_for(conn, [row.id]))


def _decide(
    request: Request,
    settlement_id: str,
    data: DecisionIn,
    actor: Any,
    db: Any,
    body: bytes,
    key: str | None,
    confirmed: bool,
) -> JSONResponse:
    def work(conn: Connection) -> tuple[int, Any]:
        row = _settlement(conn, settlement_id)
        loaded = service.load_campaign(conn, row.campaign_id)
        require(actor, "beneficiary", owner=loaded.row.beneficiary_id)
        same_mode(actor, loaded.row)
        if data.amount is not None and data.amount.currency != row.currency:
            raise Invalid(
                f"amount.currency: the payment is in {row.currency}",
                [FieldError("amount.currency", f"must be {row.currency}")],
            )
        ledger.decide_settlement(
            conn,
            ledger.SettlementDecision(
                settlement_id=row.id,
                campaign_id=row.campaign_id,
                currency=row.currency,
                amount=row.amount,
                confirmed=confirmed,
                note=data.note,
                received_amount=data.amount.amount if (confirmed and data.amount is not None) else None,
                bank_reference=data.bank_reference,
                public=loaded.campaign.public,
            ),
        )
        return 200, settlement_json(_settlement(conn, settlement_id), shown_for(conn, [settlement_id]))

    return idempotent_post(request, db, actor, body, key, work)


@router.post("/settlements/{settlement_id}/confirm")
def confirm_settlement(
    request: Request,
    settlement_id: str,
    data: DecisionIn,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The beneficiary confirms it received the money."""
    return _decide(request, settlement_id, data, actor, db, body, idempotency_key, True)


@router.post("/settlements/{settlement_id}/dispute")
def dispute_settlement(
    request: Request,
    settlement_id: str,
    data: DecisionIn,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The beneficiary says it did not receive this payment (or not this amount)."""
    return _decide(request, settlement_id, data, actor, db, body, idempotency_key, False)


@router.post("/campaigns/{campaign_id}/deliveries", status_code=201)
def report_delivery(
    request: Request,
    campaign_id: str,
    data: DeliveryIn,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    def work(conn: Connection) -> tuple[int, Any]:
        loaded = visible(conn, actor, campaign_id)
        require(actor, "beneficiary", owner=loaded.row.beneficiary_id)
        same_mode(actor, loaded.row)
        did = ledger.report_delivery(
            conn,
            loaded.campaign,
            units=data.units,
            period_start=data.period_start,
            period_end=data.period_end,
            evidence_url=data.evidence_url,
            note=data.note,
            beyond_funded_reason=data.beyond_funded_reason,
        )
        row = conn.execute(select(deliveries).where(deliveries.c.id == did)).one()
        return 201, delivery_json(row, shown_for(conn, [did]))

    return idempotent_post(request, db, actor, body, idempotency_key, work)
