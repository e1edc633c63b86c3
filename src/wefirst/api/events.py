"""Purchases, clicks and refunds. Each answer says what was pledged, or why nothing was.

Each is applied by the process's group-commit writer with the events that arrive with it
(api/grouped.py): a route checks what it can before it reaches the engine's shared `Batch`, so
that a refusal fails alone."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from wefirst.api.deps import ActorDep, IdempotencyKey, RawBody
from wefirst.api.grouped import grouped_post, prefetch_purchases
from wefirst.auth.keys import Actor
from wefirst.auth.walls import require, same_mode, visible
from wefirst.domain.claims import ClaimWindow, claim_refusal
from wefirst.domain.clock import utcnow
from wefirst.errors import FieldError, Invalid
from wefirst.ingest.payloads import ClickBody, PurchaseBody, RefundBody
from wefirst.pledges import engine
from wefirst.pledges.batch import Batch
from wefirst.pledges.model import outcomes_summary
from wefirst.services import ServicesDep
from wefirst.settings import Settings
from wefirst.store.groupcommit import Tx
from wefirst.widget.api_clicks import ApiClick, record_api_click
from wefirst.widget.approval import require_may_count
from wefirst.widget.service import WidgetConfig

router = APIRouter(prefix="/v1", tags=["events"])


def sending_brand(actor: Actor, what: str) -> str:
    """Sales events belong to one brand: its own key sends them (an admin key has no brand)."""
    require(actor, "brand")
    if actor.owner_id is None:
        raise Invalid(
            f"{what} are sent with the brand's key", [FieldError("Authorization", "use a brand key")]
        )
    return actor.owner_id


def check_claimed_time(settings: Settings, claimed: datetime | None, received: datetime) -> None:
    """Refuse a claimed `occurred_at` outside the window around its receipt (domain/claims.py)."""
    if claimed is None:
        return
    s = settings
    window = ClaimWindow.of(s.claims_max_age_hours, s.claims_clock_skew_seconds)
    why = claim_refusal(claimed, received, window)
    if why is not None:
        raise Invalid(f"occurred_at: {why}", [FieldError("occurred_at", why)])


@router.post("/purchases")
async def post_purchase(
    services: ServicesDep,
    request: Request,
    data: PurchaseBody,
    actor: ActorDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    brand_id = sending_brand(actor, "purchases")
    base_url = services.settings.base_url
    received = utcnow()
    purchase = data.to_purchase(received)

    def work(tx: Tx) -> tuple[int, Any]:
        # inside the transaction: a replay answers as before
        check_claimed_time(services.settings, data.occurred_at, received)
        batch = tx.part(Batch)
        prefetch_purchases(tx, batch)
        results = engine.apply_purchase(
            tx.conn, brand_id=brand_id, purchase=purchase, livemode=actor.livemode, batch=batch
        )
        services.metrics.count_outcomes("purchase", [r.outcome for r in results])
        return 200, {
            "object": "purchase_result",
            "order_id": data.order_id,
            "results": [r.as_json(base_url) for r in results],
            "summary": outcomes_summary(results),
        }

    hint = (brand_id, actor.livemode, purchase)
    return await grouped_post(request, services, actor, body, idempotency_key, work, hint)


@router.post("/clicks")
async def post_click(
    services: ServicesDep,
    request: Request,
    data: ClickBody,
    actor: ActorDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Server-to-server click intake: a brand's own servers, or a publisher for a campaign it
    joined and the brand approved (or opened to any verified publisher); per-key limits and a
    fraud-report row for every attempt (widget/api_clicks.py).
    Readers' clicks on blogs go through the widget's own, challenge-checked endpoint."""
    settings = services.settings

    def work(tx: Tx) -> tuple[int, Any]:
        conn = tx.conn
        loaded = visible(conn, actor, data.campaign_id)
        if actor.role == "publisher":
            if data.publisher_id not in (None, actor.owner_id):
                raise Invalid("publisher_id: not yours", [FieldError("publisher_id", "not yours")])
            assert actor.owner_id is not None
            require_may_count(conn, actor.owner_id, data.campaign_id)
            if data.visitor_ip is not None:
                raise Invalid(
                    "visitor_ip: only a brand's server may name the reader's address",
                    [FieldError("visitor_ip", "omit it: a publisher's key counts as one network")],
                )
            publisher = actor.owner_id
        else:
            require(actor, "brand", owner=loaded.row.brand_id)
            same_mode(actor, loaded.row)  # a test key counts no click on a live campaign
            if data.publisher_id is not None:
                # only the widget (or the publisher itself) counts a click for a publisher
                raise Invalid(
                    "publisher_id: a brand's server cannot count a click for a publisher",
                    [FieldError("publisher_id", "omit it: publishers' clicks come from the widget")],
                )
            publisher = None
        batch = tx.part(Batch)  # writing from here on; the refusals above fail alone
        decided = record_api_click(
            conn,
            ApiClick(
                data.campaign_id,
                data.visitor,
                actor.key_id,
                publisher,
                loaded.row.brand_id,
                str(data.visitor_ip) if data.visitor_ip is not None else None,
            ),
            secret=settings.secret_key,
            limits=WidgetConfig.from_settings(settings).limits,
            now=utcnow(),
            batch=batch,
        )
        result = decided.outcome
        services.metrics.count_outcomes("click", [result.outcome if result else decided.reason.value])
        if result is None:
            return 200, {
                "object": "click_result",
                "outcome": decided.reason.value,
                "detail": decided.detail,
                "campaign_id": data.campaign_id,
                "units": 0,
            }
        return 200, {"object": "click_result", **result.as_json(settings.base_url)}

    return await grouped_post(request, services, actor, body, idempotency_key, work)


@router.post("/refunds")
async def post_refund(
    services: ServicesDep,
    request: Request,
    data: RefundBody,
    actor: ActorDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    brand_id = sending_brand(actor, "refunds")
    received = utcnow()
    refund = data.to_refund(data.refund_id or idempotency_key or "rfd_" + secrets.token_hex(12), received)

    def work(tx: Tx) -> tuple[int, Any]:
        check_claimed_time(services.settings, data.occurred_at, received)
        if not engine.order_known(tx.conn, brand_id, data.order_id):
            raise Invalid(
                f"order_id: no pledge was made for order {data.order_id}",
                [FieldError("order_id", "unknown order")],
            )
        results = engine.apply_refund(
            tx.conn, brand_id=brand_id, refund=refund, now=received, batch=tx.part(Batch)
        )
        services.metrics.count_outcomes("refund", [r.outcome for r in results])
        return 200, {
            "object": "refund_result",
            "order_id": data.order_id,
            "refund_id": refund.refund_id,
            "results": [r.as_json() for r in results],
        }

    return await grouped_post(request, services, actor, body, idempotency_key, work)
