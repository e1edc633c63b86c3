"""Widget endpoints. Only the two the embedded widget calls (state and click) answer cross-origin
requests; everything else in the API stays same-origin.

CORS here is `Access-Control-Allow-Origin: *` without credentials: the widget sends no cookie
and no key, the state is public, and whether a click counts is decided on the server from the
Origin/Referer against the publisher's registered domains. Allowing every origin to *read* the
answer lets a widget pasted on the wrong site say so instead of failing silently.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import Field

from wefirst.api.deps import ActorDep, DbDep
from wefirst.auth.keys import Actor
from wefirst.auth.walls import require, same_mode
from wefirst.catalog.models import Strict
from wefirst.catalog.service import load_campaign
from wefirst.domain.clock import utcnow
from wefirst.services import ServicesDep
from wefirst.widget import approval
from wefirst.widget import publishers as pubs
from wefirst.widget.pow import MAX_BITS
from wefirst.widget.reasons import Reason
from wefirst.widget.service import ClickRequest

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
    "Vary": "Origin",
}
_STATUS = {
    Reason.COUNTED: 201,
    Reason.DUPLICATE: 200,
    Reason.BAD_ORIGIN: 403,
    Reason.AUTOMATED: 403,
    Reason.BAD_CHALLENGE: 403,
    Reason.CAMPAIGN_INACTIVE: 409,
    Reason.CAP_REACHED: 409,
    Reason.RATE_LIMITED: 429,
}
_TITLES = {
    Reason.BAD_ORIGIN: "This site is not registered for the widget",
    Reason.AUTOMATED: "The click looks automated",
    Reason.BAD_CHALLENGE: "The click's challenge is missing, expired, reused or invalid",
    Reason.CAMPAIGN_INACTIVE: "The campaign is not accepting clicks",
    Reason.CAP_REACHED: "The campaign has reached its goal",
    Reason.RATE_LIMITED: "Too many clicks",
}


class CorsRoute(APIRoute):
    """Adds the CORS headers to every answer of these routes, errors included: the app's
    exception handlers render errors outside the route, where router-level headers are lost."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_cors(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as exc:
                render = _exception_handler(request, exc)
                if render is None:
                    raise
                response = await render(request, exc)
            response.headers.update(CORS_HEADERS)
            return response

        return with_cors


def _exception_handler(request: Request, exc: Exception) -> Any:
    handlers = request.app.exception_handlers
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None


public = APIRouter(prefix="/v1/widget", tags=["widget"], route_class=CorsRoute)
private = APIRouter(prefix="/v1/widget", tags=["widget"])


@public.options("/campaigns/{campaign_id}/state", include_in_schema=False)
@public.options("/clicks", include_in_schema=False)
def preflight() -> Response:
    return Response(status_code=204)


@public.get("/campaigns/{campaign_id}/state")
def get_state(
    services: ServicesDep,
    request: Request,
    campaign_id: Annotated[str, Path(max_length=40)],
    publisher: Annotated[str, Query(max_length=40)],
    visitor: Annotated[str, Query(max_length=64)],
) -> JSONResponse:
    """What the widget shows (campaign state, counter, words) and a fresh signed challenge."""
    body = services.widget.state(
        campaign_id=campaign_id,
        publisher_id=publisher,
        visitor=visitor,
        origin=request.headers.get("origin"),
        referer=request.headers.get("referer"),
    )
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


class ClickIn(Strict):
    campaign: Annotated[str, Field(max_length=40)]
    publisher: Annotated[str, Field(max_length=40)]
    visitor: Annotated[str, Field(max_length=64)]
    challenge: Annotated[str, Field(max_length=1024)] | None = None
    pow: Annotated[str, Field(max_length=16)] | None = None


@public.post("/clicks", status_code=201)
async def post_click(services: ServicesDep, request: Request, data: ClickIn) -> JSONResponse:
    """One reader's click. The answer always names the decision; refusals are problem details
    with `decision` set, so the widget and the fraud report speak the same words."""
    result = await services.widget.click_async(
        ClickRequest(
            campaign_id=data.campaign,
            publisher_id=data.publisher,
            visitor=data.visitor,
            challenge=data.challenge,
            pow_nonce=data.pow,
            origin=request.headers.get("origin"),
            referer=request.headers.get("referer"),
            user_agent=request.headers.get("user-agent"),
            client_ip=request.client.host if request.client else None,
        )
    )
    status = _STATUS[result.reason]
    body = result.as_json()
    if status >= 400:
        body = {
            "type": f"https://wefirst.org/problems/widget-{result.reason.value.replace('_', '-')}",
            "title": _TITLES[result.reason],
            "status": status,
            "detail": f"click not counted: {result.reason.value} ({result.detail})",
            "instance": request.url.path,
            **body,
        }
        headers = {"Retry-After": "60"} if result.reason is Reason.RATE_LIMITED else None
        return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)
    return JSONResponse(body, status_code=status)


def _campaign_owner(db: Any, campaign_id: str) -> str:
    with db.read() as conn:
        return str(load_campaign(conn, campaign_id).row.brand_id)


def _may_change(db: Any, actor: Actor, campaign_id: str) -> None:
    """The campaign's brand, with a key of the campaign's mode (a test key must not open a
    live campaign to publishers or approve one)."""
    with db.read() as conn:
        row = load_campaign(conn, campaign_id).row
    require(actor, "brand", owner=row.brand_id)
    same_mode(actor, row)


def _range(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or utcnow().date()
    return (start or end - timedelta(days=29)), end


@private.get("/campaigns/{campaign_id}/fraud-report")
def get_fraud_report(
    campaign_id: str,
    actor: ActorDep,
    db: DbDep,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """Every click decision on the campaign by reason (default: the last 30 days)."""
    require(actor, "brand", owner=_campaign_owner(db, campaign_id))
    start, end = _range(start, end)
    with db.read() as conn:
        return pubs.fraud_report(conn, campaign_id, start=start, end=end)


class CounterLabel(Strict):
    one: Annotated[str, Field(min_length=1, max_length=100)]
    other: Annotated[str, Field(min_length=1, max_length=100)]


class WidgetTexts(Strict):
    line: dict[Literal["fr", "en"], Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=dict
    )
    counter: dict[Literal["fr", "en"], CounterLabel] = Field(default_factory=dict)


class WidgetSettingsIn(Strict):
    pow_bits: Annotated[int, Field(ge=0, le=MAX_BITS)] | None = None
    texts: WidgetTexts | None = None
    #: true: any verified publisher that joins counts clicks; false: the brand approves each
    open_to_verified_publishers: bool | None = None


@private.get("/campaigns/{campaign_id}/settings")
def get_widget_settings(campaign_id: str, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    require(actor, "brand", owner=_campaign_owner(db, campaign_id))
    with db.read() as conn:
        return pubs.widget_settings(conn, campaign_id)


@private.put("/campaigns/{campaign_id}/settings")
def put_widget_settings(
    campaign_id: str, data: WidgetSettingsIn, actor: ActorDep, db: DbDep
) -> dict[str, Any]:
    """Proof-of-work difficulty (raise it while the campaign is under attack) and the words."""
    _may_change(db, actor, campaign_id)
    texts = None if data.texts is None else data.texts.model_dump(mode="json")
    with db.write() as conn:
        return pubs.set_widget_settings(
            conn,
            campaign_id,
            pow_bits=data.pow_bits,
            texts=texts,
            open_to_publishers=data.open_to_verified_publishers,
        )


@private.get("/campaigns/{campaign_id}/publishers")
def get_campaign_publishers(campaign_id: str, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    """The publishers that joined the campaign, verified or not, approved or not."""
    require(actor, "brand", owner=_campaign_owner(db, campaign_id))
    with db.read() as conn:
        return approval.campaign_publishers(conn, campaign_id)


@private.put("/campaigns/{campaign_id}/publishers/{publisher_id}/approval")
def put_approval(campaign_id: str, publisher_id: str, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    """The brand approves a publisher that joined: its readers' clicks count from now on."""
    _may_change(db, actor, campaign_id)
    with db.write() as conn:
        return approval.set_approval(conn, campaign_id, publisher_id, approved=True)


@private.delete("/campaigns/{campaign_id}/publishers/{publisher_id}/approval")
def delete_approval(campaign_id: str, publisher_id: str, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    """Withdraws the approval: clicks already counted stay; new ones are refused."""
    _may_change(db, actor, campaign_id)
    with db.write() as conn:
        return approval.set_approval(conn, campaign_id, publisher_id, approved=False)


router = APIRouter()
router.include_router(public)
router.include_router(private)
