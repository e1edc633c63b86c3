"""Stripe-style idempotency keys: the first response to a key is stored with the work it
describes, in the same transaction, and replayed afterwards; the same key with another body is
a conflict. Failed requests store nothing (they changed nothing), so they may be retried.

Secrets shown once (new API keys, `whsec_` signing secrets, opener tokens, receipt secrets and
the links that carry them) are never stored for replays: a replay answers with `NOT_REPLAYED`
in their place (issue 13, finding 7: records kept them in clear for 21 days)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError

from wefirst.domain.clock import utcnow
from wefirst.errors import Conflict, invalid
from wefirst.store.bulk import insert_rows
from wefirst.store.db import Database
from wefirst.store.tables_core import idempotency_records

MAX_KEY_LENGTH = 255
#: Response fields whose value is a secret shown once.
SECRET_FIELDS = frozenset({"secret", "opener_token"})
NOT_REPLAYED = "(shown once; not kept for replays)"


def _secrets_in(body: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(body, dict):
        for k, v in body.items():
            if k in SECRET_FIELDS and isinstance(v, str) and v:
                found.add(v)
            else:
                found |= _secrets_in(v)
    elif isinstance(body, list):
        for v in body:
            found |= _secrets_in(v)
    return found


def _without(body: Any, secrets: set[str]) -> Any:
    if isinstance(body, dict):
        return {k: _without(v, secrets) for k, v in body.items()}
    if isinstance(body, list):
        return [_without(v, secrets) for v in body]
    if isinstance(body, str) and any(s in body for s in secrets):
        return NOT_REPLAYED  # the secret itself, or a link that carries it
    return body


def replayable(body: Any) -> Any:
    """`body` as it may be stored for replays: every secret shown once replaced."""
    secrets = _secrets_in(body)
    return _without(body, secrets) if secrets else body


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any
    replayed: bool


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


_LOOKUP = select(idempotency_records).where(
    idempotency_records.c.scope == bindparam("s"), idempotency_records.c.key == bindparam("k")
)


class Pending:
    """Idempotency records of a batch, written with one multi-row INSERT at flush."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.seen: dict[tuple[str, str], dict[str, Any]] = {}
        self.absent: set[tuple[str, str]] = set()

    def prefetch(self, conn: Connection, scope: str, keys: list[str]) -> None:
        """Learn in one query which keys are new, so `apply_once` skips their lookups."""
        found = {
            r[0]
            for r in conn.execute(
                select(idempotency_records.c.key).where(
                    idempotency_records.c.scope == scope, idempotency_records.c.key.in_(keys)
                )
            )
        }
        self.absent |= {(scope, k) for k in keys if k not in found}

    def flush(self, conn: Connection) -> None:
        insert_rows(conn, idempotency_records, self.rows)
        self.rows, self.seen = [], {}


def _lookup(conn: Connection, scope: str, key: str, fingerprint: str) -> StoredResponse | None:
    row = conn.execute(_LOOKUP, {"s": scope, "k": key}).first()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise Conflict(
            "this Idempotency-Key was already used with a different request; use a new key for a new request"
        )
    return StoredResponse(row.status_code, json.loads(row.response), True)


def apply_once(
    conn: Connection,
    *,
    scope: str,
    key: str,
    fingerprint: str,
    work: Callable[[Connection], tuple[int, Any]],
    pending: Pending | None = None,
) -> StoredResponse:
    """The replay-or-run step inside a caller's transaction. Batch intake passes `pending` so
    that the records are written together at the end of the batch."""
    earlier = pending.seen.get((scope, key)) if pending is not None else None
    if earlier is not None:
        if earlier["request_hash"] != fingerprint:
            raise Conflict("this Idempotency-Key was already used with a different request")
        return StoredResponse(earlier["status_code"], json.loads(earlier["response"]), True)
    known_new = pending is not None and (scope, key) in pending.absent
    stored = None if known_new else _lookup(conn, scope, key, fingerprint)
    if stored is not None:
        return stored
    status, body = work(conn)
    row = {
        "scope": scope,
        "key": key,
        "request_hash": fingerprint,
        "status_code": status,
        "response": json.dumps(replayable(body), separators=(",", ":")),
        "created_at": utcnow(),
    }
    if pending is None:
        conn.execute(insert(idempotency_records), [row])
    else:
        pending.rows.append(row)
        pending.seen[(scope, key)] = row
        pending.absent.discard((scope, key))
    return StoredResponse(status, body, False)


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
                return apply_once(conn, scope=scope, key=key, fingerprint=fingerprint, work=work)
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
    result = conn.execute(delete(idempotency_records).where(idempotency_records.c.created_at < cutoff))
    return int(result.rowcount or 0)
