"""Commerce connectors: webhook receivers (signed by the platform, no API key) and the brand's
management of its connections, sales-report uploads, status and reconciliation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import Connection

from wefirst.api.deps import ActorDep, DbDep, IdempotencyKey, RawBody
from wefirst.api.writes import idempotent_post
from wefirst.auth.keys import Actor
from wefirst.auth.walls import hide_unless, require
from wefirst.catalog.models import Strict
from wefirst.domain.clock import utcnow
from wefirst.errors import FieldError, Forbidden, Invalid
from wefirst.ingest.connectors import accounts, inbox, processing, reconcile, reports
from wefirst.ingest.connectors.accounts import ConnectionInfo
from wefirst.ingest.connectors.mapping import MappingKind, MappingRule
from wefirst.ingest.connectors.records import Source
from wefirst.services import Services, ServicesDep
from wefirst.settings import Settings
from wefirst.store.db import Database

router = APIRouter(prefix="/v1", tags=["connectors"])

Platform = Literal["shopify", "woocommerce", "stripe", "retail"]


# ------------------------------------------------------------------ receivers


def _receive(
    services: Services,
    request: Request,
    background: BackgroundTasks,
    db: Database,
    body: bytes,
    connection_id: str,
    platform: Source,
) -> JSONResponse:
    settings: Settings = services.settings
    box = services.secret_box
    receiver = inbox.Receiver(
        db,
        box,
        stripe_tolerance=settings.connectors_stripe_tolerance_seconds,
        cache=services.connections,
        writer=services.inbox_writer,
    )
    received = inbox.receive(
        receiver,
        connection_id=connection_id,
        platform=platform,
        headers=request.headers,
        body=body,
        now=utcnow(),
    )
    if received.status == "ping":
        return JSONResponse({"received": True, "ping": True}, status_code=200)
    if received.status == "queued" and received.delivery_id and settings.connectors_process_after_ack:
        window = processing.claims_window(settings)
        background.add_task(
            processing.process_delivery, db, box, services.remotes(), received.delivery_id, window
        )
    return JSONResponse(
        {
            "received": True,
            "status": received.status,
            "delivery_id": received.delivery_id,
            "topic": received.topic,
        },
        status_code=200,
    )


@router.post("/connectors/{connection_id}/shopify", include_in_schema=True)
def receive_shopify(
    services: ServicesDep,
    connection_id: str,
    request: Request,
    background: BackgroundTasks,
    db: DbDep,
    body: RawBody,
) -> JSONResponse:
    """Shopify webhooks (orders/create|paid|cancelled|updated, refunds/create), signed with
    `X-Shopify-Hmac-Sha256`. Answers 200 once the raw delivery is stored."""
    return _receive(services, request, background, db, body, connection_id, Source.SHOPIFY)


@router.post("/connectors/{connection_id}/woocommerce")
def receive_woocommerce(
    services: ServicesDep,
    connection_id: str,
    request: Request,
    background: BackgroundTasks,
    db: DbDep,
    body: RawBody,
) -> JSONResponse:
    """WooCommerce webhooks (order.created|updated|deleted), signed with
    `X-WC-Webhook-Signature`; the unsigned activation ping gets a plain 200."""
    return _receive(services, request, background, db, body, connection_id, Source.WOOCOMMERCE)


@router.post("/connectors/{connection_id}/stripe")
def receive_stripe(
    services: ServicesDep,
    connection_id: str,
    request: Request,
    background: BackgroundTasks,
    db: DbDep,
    body: RawBody,
) -> JSONResponse:
    """Stripe events (checkout.session.completed, payment_intent.succeeded, charge.refunded),
    signed with `Stripe-Signature` (5 minutes tolerance)."""
    return _receive(services, request, background, db, body, connection_id, Source.STRIPE)


# ------------------------------------------------------------------ management


class ConnectionBody(Strict):
    platform: Platform
    account: Annotated[
        str,
        Field(
            min_length=1,
            max_length=300,
            description=(
                "Shopify shop domain, WooCommerce site URL (as in X-WC-Webhook-Source), Stripe account "
                "id, or retailer code."
            ),
        ),
    ]
    brand_id: str | None = Field(None, description="Admins only; a brand key uses its own.")
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    secret: Annotated[str, Field(min_length=1, max_length=500)] | None = Field(
        None, description="The webhook signing secret. Stored encrypted; never returned."
    )
    credentials: dict[str, Annotated[str, Field(min_length=1, max_length=500)]] | None = Field(
        None,
        description="Read-only API credentials for call-backs: Stripe {api_key}, "
        "WooCommerce {consumer_key, consumer_secret}. Stored encrypted; never returned.",
    )


class SecretBody(Strict):
    secret: Annotated[str, Field(min_length=1, max_length=500)]


class RuleBody(Strict):
    kind: Literal["sku", "lookup_key", "metadata", "variant", "gtin"]
    pattern: Annotated[str, Field(min_length=1, max_length=200)]
    campaign_id: str | None = None
    sku: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class MappingsBody(Strict):
    rules: Annotated[list[RuleBody], Field(max_length=200)]


def _owned(conn: Connection, actor: Actor, connection_id: str, *, write: bool = False) -> ConnectionInfo:
    """The brand's connection; a change needs a key of the connection's mode (a test key
    must not rotate a live shop's secret, remap it or import a sales report into it)."""
    info = accounts.get_connection(conn, connection_id)
    hide_unless(
        actor.is_admin or (actor.role == "brand" and actor.owner_id == info.brand_id),
        f"connection {connection_id}",
    )
    if write and not actor.is_admin and actor.livemode != info.livemode:
        mode = "test-mode" if not actor.livemode else "live"
        target = "live" if info.livemode else "test-mode"
        raise Forbidden(f"a {mode} key cannot change a {target} connection")
    return info


def _brand_for(actor: Actor, brand_id: str | None) -> str:
    require(actor, "brand")
    if actor.is_admin:
        if not brand_id:
            raise Invalid("brand_id: admins name the brand", [FieldError("brand_id", "required")])
        return brand_id
    if brand_id not in (None, actor.owner_id):
        raise Invalid("brand_id: not yours", [FieldError("brand_id", "not yours")])
    assert actor.owner_id is not None
    return actor.owner_id


@router.post("/connectors", status_code=201)
def create_connection(
    services: ServicesDep,
    request: Request,
    data: ConnectionBody,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    brand_id = _brand_for(actor, data.brand_id)
    box = services.secret_box
    base_url = services.settings.base_url

    def work(conn: Connection) -> tuple[int, Any]:
        info = accounts.create_connection(
            conn,
            box,
            brand_id=brand_id,
            platform=Source(data.platform),
            account=data.account,
            name=data.name,
            secret=data.secret,
            livemode=actor.livemode,
            credentials=data.credentials,
        )
        return 201, accounts.connection_json(conn, info, base_url)

    return idempotent_post(request, db, actor, body, idempotency_key, work)


@router.get("/connectors")
def list_connections(
    services: ServicesDep, request: Request, actor: ActorDep, db: DbDep, brand_id: str | None = None
) -> dict[str, Any]:
    require(actor, "brand")
    owner = brand_id if actor.is_admin else actor.owner_id
    base_url = services.settings.base_url
    with db.read() as conn:
        rows = accounts.list_connections(conn, owner)
        return {
            "data": [accounts.connection_json(conn, i, base_url) for i in rows],
            "has_more": False,
            "next_cursor": None,
        }


@router.get("/connectors/{connection_id}")
def get_connection(
    services: ServicesDep, connection_id: str, request: Request, actor: ActorDep, db: DbDep
) -> dict[str, Any]:
    with db.read() as conn:
        info = _owned(conn, actor, connection_id)
        return accounts.connection_json(conn, info, services.settings.base_url)


@router.post("/connectors/{connection_id}/secrets", status_code=201)
def add_secret(
    services: ServicesDep,
    connection_id: str,
    request: Request,
    data: SecretBody,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Start a rotation: both secrets verify until the old one is retired."""
    box = services.secret_box
    base_url = services.settings.base_url

    def work(conn: Connection) -> tuple[int, Any]:
        info = _owned(conn, actor, connection_id, write=True)
        accounts.add_secret(conn, box, info.id, data.secret)
        services.connections.forget(info.id)
        return 201, accounts.connection_json(conn, info, base_url)

    return idempotent_post(request, db, actor, body, idempotency_key, work)


SecretId = Annotated[int, Path(ge=1, le=2**31 - 1, description="From the connection's secrets.")]


@router.post("/connectors/{connection_id}/secrets/{secret_id}/retire")
def retire_secret(
    services: ServicesDep,
    connection_id: str,
    secret_id: SecretId,
    request: Request,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    base_url = services.settings.base_url

    def work(conn: Connection) -> tuple[int, Any]:
        info = _owned(conn, actor, connection_id, write=True)
        accounts.retire_secret(conn, info.id, secret_id)
        services.connections.forget(info.id)
        return 200, accounts.connection_json(conn, info, base_url)

    return idempotent_post(request, db, actor, body, idempotency_key, work)


@router.put("/connectors/{connection_id}/mappings")
def put_mappings(
    services: ServicesDep,
    connection_id: str,
    request: Request,
    data: MappingsBody,
    actor: ActorDep,
    db: DbDep,
) -> dict[str, Any]:
    """Replace the product → campaign rules (first match wins)."""
    rules = [MappingRule(MappingKind(r.kind), r.pattern, r.campaign_id, r.sku) for r in data.rules]
    with db.write() as conn:
        info = _owned(conn, actor, connection_id, write=True)
        accounts.set_mappings(conn, info, rules)
        return accounts.connection_json(conn, info, services.settings.base_url)


@router.get("/connectors/{connection_id}/status")
def get_status(connection_id: str, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    """Deliveries received, verified, rejected by reason; units counted and reversed."""
    with db.read() as conn:
        return reconcile.status(conn, _owned(conn, actor, connection_id))


@router.get("/connectors/{connection_id}/reconciliation")
def get_reconciliation(
    connection_id: str, actor: ActorDep, db: DbDep, day: date | None = None
) -> dict[str, Any]:
    """Orders seen without pledges and pledges without orders for one UTC day (default:
    yesterday). Running it again replaces that day's stored result."""
    now = utcnow()
    with db.write() as conn:
        info = _owned(conn, actor, connection_id, write=True)
        return reconcile.reconcile_day(conn, info, day or (now.date() - timedelta(days=1)), now)


@router.post("/connectors/{connection_id}/process")
def process_now(
    services: ServicesDep, connection_id: str, request: Request, actor: ActorDep, db: DbDep
) -> dict[str, Any]:
    """Process this connection's queued deliveries now (also done after each ack)."""
    with db.read() as conn:
        _owned(conn, actor, connection_id, write=True)
    summary = processing.process_pending(
        db,
        services.secret_box,
        services.remotes(),
        connection_id=connection_id,
        window=processing.claims_window(services.settings),
    )
    return {"object": "process_result", "counts": summary.counts}


@router.post(
    "/connectors/{connection_id}/sales-reports",
    status_code=201,
    openapi_extra={"requestBody": {"content": {"text/csv": {}}, "required": True}},
)
def upload_sales_report(
    connection_id: str,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    skip_bad_rows: Annotated[
        bool, Query(description="Import the good rows; the answer carries the rejected ones as CSV.")
    ] = False,
) -> JSONResponse:
    """The retailer CSV (spec: one report per file). 201 imported; 200 when the same bytes
    were already imported; 409 for the same report id with different content; 422 lists every
    bad row (nothing imported) unless `skip_bad_rows`."""
    with db.read() as conn:
        _owned(conn, actor, connection_id, write=True)
    result = reports.import_report(
        db, connection_id=connection_id, raw=body, skip_bad_rows=skip_bad_rows, now=utcnow()
    )
    payload: dict[str, Any] = {"object": "sales_report_import", "status": result.status, **result.summary}
    if skip_bad_rows and result.report.errors:
        payload["rejects_csv"] = result.report.rejects_csv()
    return JSONResponse(payload, status_code=201 if result.status == "imported" else 200)
