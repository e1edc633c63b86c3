"""API events (purchases, refunds, clicks) applied by the process's group-commit writer.

Why (issue 18): one transaction per request paid `BEGIN`, the brand's campaigns, the counter's
lock and update, four ledger INSERTs, the log entry and the idempotency record for every single
event. Handed to the one writer (store/groupcommit.py), the events that arrive together share
one transaction: the pledge engine's `Batch` reads definitions and counters once, ledger rows,
log entries and idempotency records are each one multi-row INSERT, and the counters are
written last with one compare-and-set per campaign. A request enqueues its work and awaits the
answer without holding a thread; nothing is answered before the group's commit, and an event
refused by a rule of its own (before it wrote) fails alone, changing nothing.

Idempotency is exactly `run_idempotent`'s: the first answer to a key is stored with the work
in the same transaction and replayed afterwards; the same key twice in one group replays the
first; a key stored meanwhile by another process (the INSERT fails) is replayed on the next
attempt."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from wefirst.auth.keys import Actor
from wefirst.errors import Conflict, invalid
from wefirst.ingest.idempotency import (
    MAX_KEY_LENGTH,
    Pending,
    StoredResponse,
    apply_once,
    request_fingerprint,
)
from wefirst.pledges.batch import Batch
from wefirst.pledges.model import PurchaseIn
from wefirst.services import Services
from wefirst.store.groupcommit import GroupCommit, Tx

GroupedWork = Callable[[Tx], tuple[int, Any]]
_ATTEMPTS = 3
_DEADLOCK = "40P01"


def _retry(exc: DBAPIError) -> bool:
    """A key stored meanwhile by another process (the next attempt replays its answer), or a
    deadlock PostgreSQL broke by rolling this transaction back (two transactions inserting the
    same line key, one holding the counter's lock first: nothing of it was stored)."""
    return isinstance(exc, IntegrityError) or getattr(exc.orig, "sqlstate", None) == _DEADLOCK


@dataclass(frozen=True)
class Hint:
    """What a grouped request tells the rest of its group (`Tx.hints`): its idempotency key,
    and for a purchase the brand, mode and purchase, so that a group of k requests looks its
    keys and its order lines up with one query each instead of k."""

    scope: str
    key: str | None
    purchase: tuple[str, bool, PurchaseIn] | None = None


class _Records:
    """The idempotency records of one group, written with one multi-row INSERT."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pending = Pending()
        self.prefetched = False

    def prefetch(self, tx: Tx) -> None:
        """Once per group of several: which of the group's keys are new, one query per scope
        (`apply_once` then looks up only the others)."""
        if self.prefetched:
            return
        self.prefetched = True
        hints = [h for h in tx.hints if isinstance(h, Hint) and h.key is not None]
        if len(hints) < 2:
            return
        scopes: dict[str, list[str]] = {}
        for h in hints:
            assert h.key is not None
            scopes.setdefault(h.scope, []).append(h.key)
        for scope, keys in scopes.items():
            self.pending.prefetch(self.conn, scope, keys)

    def flush(self) -> None:
        self.pending.flush(self.conn)


def prefetch_purchases(tx: Tx, batch: Batch) -> None:
    """Once per group of several purchases (or of one, see below): which of their line keys
    already hold a pledge, one query per brand (the engine then asks for no line key one by
    one)."""
    if batch.prefetched_group:
        return
    batch.prefetched_group = True
    found = [h.purchase for h in tx.hints if isinstance(h, Hint) and h.purchase is not None]
    # one purchase alone too where counters are read without a lock: the brand's campaigns,
    # their counters and the lines' keys come in one statement (Batch._read_brand)
    if len(found) < (1 if batch.reads_freely else 2):
        return
    by_brand: dict[tuple[str, bool], list[PurchaseIn]] = {}
    for brand_id, livemode, purchase in found:
        by_brand.setdefault((brand_id, livemode), []).append(purchase)
    for brand_id, livemode in sorted(by_brand):
        batch.prefetch_purchases(brand_id, by_brand[(brand_id, livemode)], livemode)


def event_writer(services: Services) -> GroupCommit:
    """The process's event writer, the one the widget's clicks use too: every event of a
    process in the same groups, so a process's transactions never queue behind each other (on
    SQLite, behind `BEGIN IMMEDIATE`)."""
    return services.event_writer


async def grouped_post(
    request: Request,
    services: Services,
    actor: Actor,
    body: bytes,
    key: str | None,
    work: GroupedWork,
    purchase: tuple[str, bool, PurchaseIn] | None = None,
) -> JSONResponse:
    """`idempotent_post` for event intake: `work(tx)` runs in the writer's group. It reaches
    the engine's shared `Batch` with `tx.part(Batch)` once its own refusals are behind it."""
    if key is not None and not (0 < len(key) <= MAX_KEY_LENGTH):
        raise invalid("Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} characters")
    fingerprint = request_fingerprint(request.method, request.url.path, body)
    hint = Hint(actor.key_id, key, purchase)

    def item(tx: Tx) -> StoredResponse:
        if key is None:
            status, answer = work(tx)
            return StoredResponse(status, answer, False)
        records = tx.part(_Records, writes=False)
        records.prefetch(tx)
        return apply_once(
            tx.conn,
            scope=actor.key_id,
            key=key,
            fingerprint=fingerprint,
            work=lambda _conn: work(tx),
            pending=records.pending,
        )

    writer = event_writer(services)
    for _attempt in range(_ATTEMPTS):
        try:
            result = await asyncio.wrap_future(writer.enqueue(item, hint))
        except DBAPIError as exc:
            if not _retry(exc):
                raise
            continue
        headers = {"Idempotent-Replayed": "true"} if result.replayed else None
        return JSONResponse(result.body, status_code=result.status_code, headers=headers)
    raise Conflict("could not apply the request; retry with the same Idempotency-Key")
