"""The one way a POST is executed: in one transaction, exactly once per Idempotency-Key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from wefirst.auth.keys import Actor
from wefirst.ingest.idempotency import request_fingerprint, run_idempotent
from wefirst.pseudonyms import keyed_hash, server_key
from wefirst.services import services_of
from wefirst.store.db import Database


def _anonymous_scope(request: Request) -> str:
    """Callers without a key never share replays: their keys are scoped to their address,
    kept only as a keyed hash."""
    secret = services_of(request.app).settings.secret_key
    host = request.client.host if request.client else "unknown"
    return "anon:" + keyed_hash(server_key(secret), "idempotency.anon", host)[:40]


def idempotent_post(
    request: Request,
    db: Database,
    actor: Actor | None,
    body: bytes,
    key: str | None,
    work: Callable[[Connection], tuple[int, Any]],
) -> JSONResponse:
    result = run_idempotent(
        db,
        scope=actor.key_id if actor else _anonymous_scope(request),
        key=key,
        fingerprint=request_fingerprint(request.method, request.url.path, body),
        work=work,
    )
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return JSONResponse(result.body, status_code=result.status_code, headers=headers)
