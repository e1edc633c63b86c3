"""API keys: created by admins, shown once, revocable."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import Connection

from wefirst.api.deps import ActorDep, DbDep, IdempotencyKey, RawBody
from wefirst.api.writes import idempotent_post
from wefirst.auth.keys import Role, create_key, forget_cached, revoke
from wefirst.auth.walls import require
from wefirst.catalog.models import Strict

router = APIRouter(prefix="/v1", tags=["keys"])


class KeyIn(Strict):
    role: Role
    owner_id: Annotated[str, Field(max_length=40)] | None = None
    label: Annotated[str, Field(max_length=200)] | None = None


@router.post("/keys", status_code=201)
def post_key(
    request: Request,
    data: KeyIn,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    require(actor, "admin")

    def work(conn: Connection) -> tuple[int, Any]:
        secret, record = create_key(conn, data.role, data.owner_id, label=data.label)
        return 201, {**record, "secret": secret}

    return idempotent_post(request, db, actor, body, idempotency_key, work)


@router.post("/keys/{key_id}/revoke")
def post_revoke(key_id: str, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    require(actor, "admin")
    with db.write() as conn:
        revoke(conn, key_id)
    forget_cached()  # committed: no request of this process may keep it from before
    return {"id": key_id, "revoked": True}
