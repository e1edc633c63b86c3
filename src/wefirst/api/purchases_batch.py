"""POST /v1/purchases/batch: a brand's back office sends up to `MAX_ORDERS` orders at once.

Why: one purchase per request pays a transaction, an idempotency lookup and the campaign's
counter lock per order; a batch pays them once (the idempotency keys are looked up in one
query, the ledger rows written with one multi-row INSERT per table).

Each order carries its own `idempotency_key` and gets its own answer, exactly as if it had
been sent alone to POST /v1/purchases with that key: a replayed key answers what it answered
the first time (`replayed: true`); a key reused with another order is a 409 for that order; an
order refused by a rule of its own (its `occurred_at` outside the claim window, a campaign that
is not the brand's) gets that problem as its answer and changes nothing. A body that does not
validate, more than `MAX_ORDERS` orders or the same key twice in one batch is refused whole
(422 naming the order's index) and nothing of it is stored."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field, model_validator
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from wefirst.api.deps import ActorDep, DbDep
from wefirst.api.events import check_claimed_time, sending_brand
from wefirst.catalog.models import Strict
from wefirst.domain.clock import utcnow
from wefirst.errors import Conflict, WefirstError
from wefirst.ingest.idempotency import MAX_KEY_LENGTH, Pending, apply_once, request_fingerprint
from wefirst.ingest.payloads import PurchaseBody
from wefirst.pledges import engine
from wefirst.pledges.batch import Batch
from wefirst.pledges.model import outcomes_summary
from wefirst.services import Services, ServicesDep

router = APIRouter(prefix="/v1", tags=["events"])

MAX_ORDERS = 1000
#: What an order's fingerprint is taken over: its JSON without the key, keys sorted.
_FINGERPRINT_PATH = "/v1/purchases/batch#order"


class BatchOrder(PurchaseBody):
    idempotency_key: Annotated[str, Field(min_length=1, max_length=MAX_KEY_LENGTH)]


class PurchaseBatchBody(Strict):
    orders: Annotated[list[BatchOrder], Field(min_length=1, max_length=MAX_ORDERS)]

    @model_validator(mode="after")
    def _one_key_per_order(self) -> PurchaseBatchBody:
        first: dict[str, int] = {}
        for i, order in enumerate(self.orders):
            earlier = first.setdefault(order.idempotency_key, i)
            if earlier != i:
                raise ValueError(
                    f"orders[{i}].idempotency_key: repeats the key of orders[{earlier}]; "
                    "each order needs its own key"
                )
        return self


def _fingerprint(order: BatchOrder) -> str:
    data = order.model_dump(mode="json", exclude={"idempotency_key"})
    return request_fingerprint("POST", _FINGERPRINT_PATH, json.dumps(data, sort_keys=True).encode())


def _apply(
    conn: Connection,
    services: Services,
    orders: list[BatchOrder],
    *,
    scope: str,
    brand_id: str,
    livemode: bool,
) -> list[dict[str, Any]]:
    received = utcnow()
    base_url = services.settings.base_url
    batch, pending = Batch(conn), Pending()
    pending.prefetch(conn, scope, [o.idempotency_key for o in orders])
    purchases = [o.to_purchase(received) for o in orders]
    batch.prefetch_purchases(brand_id, [p for p in purchases if not p.test], livemode)
    answers: list[dict[str, Any]] = []
    for i, (order, purchase) in enumerate(zip(orders, purchases, strict=True)):

        def work(conn: Connection, order: BatchOrder = order, purchase: Any = purchase) -> tuple[int, Any]:
            check_claimed_time(services.settings, order.occurred_at, received)
            results = engine.apply_purchase(
                conn, brand_id=brand_id, purchase=purchase, livemode=livemode, batch=batch
            )
            services.metrics.count_outcomes("purchase", [r.outcome for r in results])
            return 200, {
                "object": "purchase_result",
                "order_id": order.order_id,
                "results": [r.as_json(base_url) for r in results],
                "summary": outcomes_summary(results),
            }

        answer: dict[str, Any] = {"index": i, "idempotency_key": order.idempotency_key}
        buffered = len(batch.writer.entries), sum(len(r) for r in batch.writer.rows.values())
        try:
            stored = apply_once(
                conn,
                scope=scope,
                key=order.idempotency_key,
                fingerprint=_fingerprint(order),
                work=work,
                pending=pending,
            )
        except WefirstError as exc:
            if buffered != (len(batch.writer.entries), sum(len(r) for r in batch.writer.rows.values())):
                raise  # refused after it wrote: the whole batch is rolled back (never expected)
            answers.append({**answer, "status": exc.status, "problem": exc.problem()})
            continue
        answers.append(
            {**answer, "status": stored.status_code, "replayed": stored.replayed, "result": stored.body}
        )
    batch.flush()
    pending.flush(conn)
    return answers


@router.post("/purchases/batch")
def post_purchase_batch(
    services: ServicesDep, data: PurchaseBatchBody, actor: ActorDep, db: DbDep
) -> dict[str, Any]:
    """Up to 1,000 orders in one transaction, each with its own idempotency key and answer."""
    brand_id = sending_brand(actor, "purchases")
    for _attempt in range(3):
        try:
            with db.write() as conn:
                answers = _apply(
                    conn,
                    services,
                    data.orders,
                    scope=actor.key_id,
                    brand_id=brand_id,
                    livemode=actor.livemode,
                )
        except IntegrityError:
            continue  # a concurrent request stored one of these keys first: its answer is replayed next time
        statuses: dict[str, int] = {}
        for a in answers:
            statuses[str(a["status"])] = statuses.get(str(a["status"]), 0) + 1
        return {"object": "purchase_batch_result", "results": answers, "statuses": statuses}
    raise Conflict("could not apply the batch; send it again (each order's key makes that safe)")
