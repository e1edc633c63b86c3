"""Typed dependencies at the web edge; routes stay thin and call services."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from wefirst.auth.keys import LAST_USED_GRANULARITY, Actor, authenticate, revocations, touch
from wefirst.errors import FieldError, Invalid, Unauthorized
from wefirst.plaintext import refused_in
from wefirst.services import Services, ServicesDep
from wefirst.settings import Settings
from wefirst.store.db import Database


async def get_db(services: ServicesDep) -> Database:
    """The database of the app's services (a projection of `ServicesDep`, for brevity)."""
    return services.db


async def get_settings(services: ServicesDep) -> Settings:
    return services.settings


DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("use the header `Authorization: Bearer <API key>`")
    return token.strip()


def _actor(services: Services, token: str) -> Actor:
    db = services.db
    actor = services.actors.get(token)
    if actor is None:
        generation = revocations()
        with db.read() as conn:
            actor = authenticate(conn, token)
        services.actors.keep(token, actor, generation)
    touched = services.key_touches
    now = time.monotonic()
    if now - touched.get(actor.key_id, -1e9) > LAST_USED_GRANULARITY.total_seconds():
        touched[actor.key_id] = now
        with db.write() as conn:
            touch(conn, actor.key_id)
    return actor


def current_actor(
    services: ServicesDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Actor:
    token = _bearer(authorization)
    if token is None:
        raise Unauthorized("this endpoint needs an API key: `Authorization: Bearer <key>`")
    return _actor(services, token)


def optional_actor(
    services: ServicesDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Actor | None:
    token = _bearer(authorization)
    return None if token is None else _actor(services, token)


def plain_params(request: Request) -> None:
    """Path and query parameters follow the one text rule of bodies (wefirst.plaintext): a
    `%00` in an id reached PostgreSQL and answered 500. Runs before every route."""
    for name, value in [*request.path_params.items(), *request.query_params.multi_items()]:
        for field, why in refused_in(value, name):
            raise Invalid(f"{field}: {why}", [FieldError(field, why)])


ActorDep = Annotated[Actor, Depends(current_actor)]
OptionalActorDep = Annotated[Actor | None, Depends(optional_actor)]


async def raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="Replays return the first response."),
]


def page(rows: list[Any], has_more: bool, render: Any) -> dict[str, Any]:
    data = [render(r) for r in rows]
    return {"data": data, "has_more": has_more, "next_cursor": rows[-1].id if has_more and rows else None}
