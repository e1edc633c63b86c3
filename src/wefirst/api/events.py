"""Purchases, clicks and refunds. Each answer says what was pledged, or why nothing was."""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, Field, model_validator
from sqlalchemy import Connection

from wefirst.api.campaigns import visible
from wefirst.api.deps import ActorDep, DbDep, IdempotencyKey, RawBody, require
from wefirst.api.metrics import Metrics
from wefirst.api.writes import idempotent_post
from wefirst.auth.keys import Actor
from wefirst.catalog.models import Currency, MoneyIn, Strict
from wefirst.domain.clock import utcnow
from wefirst.errors import FieldError, Invalid
from wefirst.ingest import events

router = APIRouter(prefix="/v1", tags=["events"])

Text = Annotated[str, Field(min_length=1, max_length=200)]


class PurchaseLineBody(Strict):
    line_id: Text | None = Field(None, description="Your line id; default: its position, 1-based.")
    sku: Text
    quantity: Annotated[int, Field(ge=1, le=100_000)]
    unit_price: MoneyIn


class PurchaseBody(Strict):
    order_id: Text
    currency: Currency
    occurred_at: AwareDatetime
    lines: Annotated[list[PurchaseLineBody], Field(min_length=1, max_length=500)]
    campaign_id: str | None = None
    test: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> PurchaseBody:
        ids = [line.line_id or str(i + 1) for i, line in enumerate(self.lines)]
        if len(set(ids)) != len(ids):
            raise ValueError("lines: line ids must be unique within an order")
        for line in self.lines:
            if line.unit_price.currency != self.currency:
                raise ValueError("lines: every unit_price.currency must equal the order currency")
        return self


class ClickBody(Strict):
    campaign_id: Text
    publisher_id: Text | None = None
    visitor: Annotated[
        str,
        Field(
            min_length=16,
            max_length=128,
            pattern=r"^[A-Za-z0-9_\-]+$",
            description="A pseudonymous visitor commitment.",
        ),
    ]


class RefundLineBody(Strict):
    line_id: Text
    quantity: Annotated[int, Field(ge=1, le=100_000)]


class RefundBody(Strict):
    order_id: Text
    refund_id: Text | None = None
    reason: Literal["refund", "cancel"] = "refund"
    lines: Annotated[list[RefundLineBody], Field(max_length=500, default_factory=list)]
    occurred_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _something(self) -> RefundBody:
        if not self.lines and self.reason != "cancel":
            raise ValueError("lines: a refund needs lines (or reason 'cancel' for a whole order)")
        return self


def _sending_brand(actor: Actor, what: str) -> str:
    """Sales events belong to one brand: its own key sends them (an admin key has no brand)."""
    require(actor, "brand")
    if actor.owner_id is None:
        raise Invalid(
            f"{what} are sent with the brand's key", [FieldError("Authorization", "use a brand key")]
        )
    return actor.owner_id


def _metrics(request: Request) -> Metrics:
    m: Metrics = request.app.state.metrics
    return m


@router.post("/purchases")
def post_purchase(
    request: Request,
    data: PurchaseBody,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    brand_id = _sending_brand(actor, "purchases")
    base_url = request.app.state.settings.base_url
    purchase = events.PurchaseIn(
        order_id=data.order_id,
        currency=data.currency,
        occurred_at=data.occurred_at,
        lines=[
            events.LineIn(line.sku, line.quantity, line.unit_price.amount, line.line_id or str(i + 1))
            for i, line in enumerate(data.lines)
        ],
        campaign_id=data.campaign_id,
        test=data.test,
    )

    def work(conn: Connection) -> tuple[int, Any]:
        results = events.apply_purchase(conn, brand_id=brand_id, purchase=purchase, livemode=actor.livemode)
        _metrics(request).count_outcomes("purchase", [r.outcome for r in results])
        return 200, {
            "object": "purchase_result",
            "order_id": data.order_id,
            "results": [r.as_json(base_url) for r in results],
            "summary": events.outcomes_summary(results),
        }

    return idempotent_post(request, db, actor, body, idempotency_key, work)


@router.post("/clicks")
def post_click(
    request: Request,
    data: ClickBody,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Server-to-server click intake (the widget has its own, fraud-checked endpoint)."""
    base_url = request.app.state.settings.base_url

    def work(conn: Connection) -> tuple[int, Any]:
        loaded = visible(conn, actor, data.campaign_id)
        if actor.role == "publisher":
            if data.publisher_id not in (None, actor.owner_id):
                raise Invalid("publisher_id: not yours", [FieldError("publisher_id", "not yours")])
        else:
            require(actor, "brand", owner=loaded.row.brand_id)
        publisher = actor.owner_id if actor.role == "publisher" else data.publisher_id
        result = events.apply_click(
            conn,
            events.ClickIn(
                campaign_id=data.campaign_id,
                visitor=data.visitor,
                occurred_at=utcnow(),
                publisher_id=publisher,
            ),
        )
        _metrics(request).count_outcomes("click", [result.outcome])
        return 200, {"object": "click_result", **result.as_json(base_url)}

    return idempotent_post(request, db, actor, body, idempotency_key, work)


@router.post("/refunds")
def post_refund(
    request: Request,
    data: RefundBody,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    brand_id = _sending_brand(actor, "refunds")
    refund = events.RefundIn(
        order_id=data.order_id,
        refund_id=data.refund_id or idempotency_key or "rfd_" + secrets.token_hex(12),
        lines=[events.RefundLineIn(line.line_id, line.quantity) for line in data.lines],
        reason=data.reason,
        occurred_at=data.occurred_at,
    )

    def work(conn: Connection) -> tuple[int, Any]:
        if not events.order_known(conn, brand_id, data.order_id):
            raise Invalid(
                f"order_id: no pledge was made for order {data.order_id}",
                [FieldError("order_id", "unknown order")],
            )
        results = events.apply_refund(conn, brand_id=brand_id, refund=refund, now=utcnow())
        _metrics(request).count_outcomes("refund", [r.outcome for r in results])
        return 200, {
            "object": "refund_result",
            "order_id": data.order_id,
            "refund_id": refund.refund_id,
            "results": [r.as_json() for r in results],
        }

    return idempotent_post(request, db, actor, body, idempotency_key, work)
