"""Publishers: sign up (or be created by an admin), register domains, join campaigns, get the
snippet, read their own per-day figures. A publisher key sees only its own publisher."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import Connection

from wefirst.api.deps import ActorDep, DbDep, IdempotencyKey, OptionalActorDep, RawBody, SettingsDep
from wefirst.api.writes import idempotent_post
from wefirst.auth.keys import Actor, create_key
from wefirst.auth.walls import require
from wefirst.catalog.models import Strict
from wefirst.domain.clock import utcnow
from wefirst.errors import Forbidden, NotFound
from wefirst.pseudonyms import network_key, server_key
from wefirst.ratelimit import Limit, take
from wefirst.settings import Settings
from wefirst.widget import publishers as pubs

router = APIRouter(prefix="/v1/publishers", tags=["publishers"])

Domain = Annotated[str, Field(min_length=1, max_length=260)]


class PublisherIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    domains: Annotated[list[Domain], Field(min_length=1, max_length=pubs.MAX_DOMAINS)]


class PublisherPatch(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    domains: Annotated[list[Domain], Field(min_length=1, max_length=pubs.MAX_DOMAINS)] | None = None


class JoinIn(Strict):
    campaign_id: Annotated[str, Field(max_length=40)]


def signup_limit(settings: Settings, client_host: str | None) -> Limit:
    net = network_key(server_key(settings.secret_key), "publishers.signup.net", client_host)
    per_day = settings.widget_publisher_signups_per_network_per_day
    return Limit("publishers.signup.net", net, per_day, timedelta(days=1), "your network")


def _own(actor: Actor, publisher_id: str) -> None:
    """Across the wall a publisher gets 404, so ids of other publishers are not confirmed."""
    if actor.is_admin:
        return
    if actor.role != "publisher":
        raise Forbidden(f"a {actor.role} key cannot do this (needs: publisher)")
    if actor.owner_id != publisher_id:
        raise NotFound(f"publisher {publisher_id} does not exist")


@router.post("", status_code=201)
def post_publisher(
    request: Request,
    data: PublisherIn,
    actor: OptionalActorDep,
    db: DbDep,
    settings: SettingsDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Registers a publisher and returns its API key once (`api_key.secret`). Open to anyone
    unless `WEFIRST_WIDGET_OPEN_PUBLISHER_SIGNUP=false`, then admin only."""
    if actor is not None:
        require(actor, "admin")
    elif not settings.widget_open_publisher_signup:
        raise Forbidden("publisher sign-up is closed here; ask an administrator")
    livemode = True if actor is None else actor.livemode

    def work(conn: Connection) -> tuple[int, Any]:
        if actor is None:
            take(conn, [signup_limit(settings, request.client.host if request.client else None)], utcnow())
        pub = pubs.create_publisher(conn, name=data.name, domains=data.domains, livemode=livemode)
        secret, record = create_key(conn, "publisher", pub["id"], label=f"{data.name} (signup)")
        return 201, {**pub, "api_key": {**record, "secret": secret}}

    return idempotent_post(request, db, actor, body, idempotency_key, work)


@router.get("/{publisher_id}")
def get_publisher(publisher_id: str, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    _own(actor, publisher_id)
    with db.read() as conn:
        return pubs.get_publisher(conn, publisher_id)


@router.patch("/{publisher_id}")
def patch_publisher(publisher_id: str, data: PublisherPatch, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    _own(actor, publisher_id)
    with db.write() as conn:
        return pubs.update_publisher(conn, publisher_id, name=data.name, domains=data.domains)


@router.post("/{publisher_id}/campaigns")
def post_join(publisher_id: str, data: JoinIn, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    """Joining twice is harmless: the answer is the publisher with the campaign listed."""
    _own(actor, publisher_id)
    with db.write() as conn:
        return pubs.join_campaign(conn, publisher_id, data.campaign_id)


@router.delete("/{publisher_id}/campaigns/{campaign_id}")
def delete_join(publisher_id: str, campaign_id: str, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    _own(actor, publisher_id)
    with db.write() as conn:
        return pubs.leave_campaign(conn, publisher_id, campaign_id)


@router.get("/{publisher_id}/snippet")
def get_snippet(
    publisher_id: str,
    actor: ActorDep,
    db: DbDep,
    settings: SettingsDep,
    campaign_id: Annotated[str, Query(max_length=40)],
    lang: Literal["fr", "en"] | None = None,
) -> dict[str, Any]:
    """The `<script>` tag to paste into the blog's pages."""
    _own(actor, publisher_id)
    with db.read() as conn:
        return pubs.snippet(conn, publisher_id, campaign_id, base_url=settings.base_url, lang=lang)


@router.get("/{publisher_id}/stats")
def get_stats(
    publisher_id: str,
    actor: ActorDep,
    db: DbDep,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """Counted clicks and impact units per day and campaign (default: the last 30 days)."""
    _own(actor, publisher_id)
    end = end or utcnow().date()
    start = start or end - timedelta(days=29)
    with db.read() as conn:
        return pubs.daily_stats(conn, publisher_id, start=start, end=end)
