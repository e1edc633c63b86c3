"""Stripe-style idempotency keys: the first response to a key is stored with the work it
describes, in the same transaction, and replayed afterwards; the same key with another body is
a conflict. Failed requests store nothing (they changed nothing), so they may be retried."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from wefirst.domain.clock import utcnow
from wefirst.errors import Conflict, invalid
from wefirst.store.db import Database
from wefirst.store.tables_core import idempotency_records

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any
    replayed: bool


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def _lookup(conn: Connection, scope: str, key: str, fingerprint: str) -> StoredResponse | None:
    row = conn.execute(
        select(idempotency_records).where(
            idempotency_records.c.scope == scope, idempotency_records.c.key == key
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise Conflict(
            "this Idempotency-Key was already used with a different request; "
            "use a new key for a new request"
        )
    return StoredResponse(row.status_code, json.loads(row.response), True)


def run_idempotent(
    db: Database,
    *,
    scope: str,
    key: str | None,
    fingerprint: str,
    work: Callable[[Connection], tuple[int, Any]],
) -> StoredResponse:
    """Run `work` in one write transaction, exactly once per (scope, key)."""
    if key is not None and not (0 < len(key) <= MAX_KEY_LENGTH):
        raise invalid("Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} characters")
    if key is None:
        with db.write() as conn:
            status, body = work(conn)
        return StoredResponse(status, body, False)
    for _attempt in range(3):
        try:
            with db.write() as conn:
                stored = _lookup(conn, scope, key, fingerprint)
                if stored is not None:
                    return stored
                status, body = work(conn)
                conn.execute(insert(idempotency_records).values(
                    scope=scope, key=key, request_hash=fingerprint, status_code=status,
                    response=json.dumps(body, separators=(",", ":")), created_at=utcnow(),
                ))
            return StoredResponse(status, body, False)
        except IntegrityError:
            # A concurrent request with the same key won the race; read its answer.
            with db.read() as conn:
                stored = _lookup(conn, scope, key, fingerprint)
            if stored is not None:
                return stored
            raise
    raise Conflict("could not apply the request; retry with the same Idempotency-Key")


def purge_expired(conn: Connection, retention_days: int) -> int:
    cutoff = utcnow() - timedelta(days=retention_days)
    result = conn.execute(
        delete(idempotency_records).where(idempotency_records.c.created_at < cutoff)
    )
    return int(result.rowcount or 0)
