"""The durable queue in front of the log: the ledger appends an entry in its own transaction,
so a ledger change and its log entry commit (or vanish) together. Inserting the entry is all
it takes: the table's trigger files its id in `tlog_pending`, the sequencer's queue."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import rfc8785
from sqlalchemy import Connection, insert

from wefirst.store.bulk import insert_rows
from wefirst.store.db import signal
from wefirst.store.tables_tlog import tlog_entries
from wefirst.tlog.errors import LogFormatError
from wefirst.tlog.tiles import MAX_ENTRY_SIZE

_COMMITMENT = re.compile(r"[0-9a-f]{64}")
#: The after-commit signal (`store.db.signal`) of a transaction that queued entries: it wakes
#: this process's sequencer once they are visible, instead of the sequencer polling for them.
QUEUED = "tlog"


_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_SAFE = 2**53 - 1


def _plain(value: Any) -> bool:
    """JSON made only of str keys, str/int/bool/None leaves: the case where RFC 8785 output is
    exactly Python's sorted, compact, non-ASCII-escaping json.dumps (no floats to format, no
    lone surrogates, ASCII keys so UTF-16 and code-point key orders agree, integers in the
    I-JSON range the reference accepts). Iterative, with exact type checks: it runs for every
    log entry on the intake path."""
    stack = [value]
    while stack:
        x = stack.pop()
        t = type(x)
        if t is str:
            if not x.isascii() and _SURROGATE.search(x):
                return False
        elif t is int:
            if not -_MAX_SAFE <= x <= _MAX_SAFE:
                return False
        elif t is dict:
            for k, v in x.items():
                if type(k) is not str or not k.isascii():
                    return False
                stack.append(v)
        elif t is list:
            stack.extend(x)
        elif not (x is None or t is bool):
            return False
    return True


def _fast_jcs(entry: Mapping[str, Any]) -> bytes | None:
    """The same bytes as `rfc8785.dumps` for plain entries, an order of magnitude faster;
    None sends anything else through the reference implementation."""
    if not _plain(dict(entry)):
        return None
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def canonical(entry: Mapping[str, Any]) -> bytes:
    """RFC 8785 bytes of a v1 entry. Computed once: these exact bytes are stored, hashed and
    published, never re-serialised."""
    if entry.get("v") != 1:
        raise LogFormatError('log entries carry "v": 1')
    if not isinstance(entry.get("kind"), str):
        raise LogFormatError('log entries carry a string "kind"')
    try:
        data = _fast_jcs(entry) or rfc8785.dumps(dict(entry))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as e:
        raise LogFormatError(f"entry cannot be canonicalised (RFC 8785): {e}") from None
    if len(data) > MAX_ENTRY_SIZE:
        raise LogFormatError(f"entry is {len(data)} bytes; the log's limit is {MAX_ENTRY_SIZE}")
    return data


def enqueue(conn: Connection, entry: Mapping[str, Any], *, commitment: str | None = None) -> int:
    """Store the entry's canonical bytes in the caller's transaction; returns the queue id.

    ``commitment`` (hex SHA-256 of a receipt secret) lets the consumer find the entry later
    without the log holding anything personal."""
    data = canonical(entry)
    if commitment is not None and not _COMMITMENT.fullmatch(commitment):
        raise LogFormatError("commitment must be 64 lowercase hex digits (SHA-256)")
    if commitment is not None and entry.get("commitment", commitment) != commitment:
        raise LogFormatError("the entry's commitment differs from the one it is filed under")
    result = conn.execute(
        insert(tlog_entries).values(data=data, commitment=commitment, created_at=datetime.now(UTC))
    )
    pk = result.inserted_primary_key
    assert pk is not None
    signal(conn, QUEUED)
    return int(pk[0])


def enqueue_many(conn: Connection, entries: list[tuple[Mapping[str, Any], str | None]]) -> None:
    """Bulk form of `enqueue` for batched intake: one multi-row INSERT (a COPY for many
    entries on PostgreSQL), order preserved."""
    if not entries:
        return
    now = datetime.now(UTC)
    rows = []
    for entry, commitment in entries:
        if commitment is not None and not _COMMITMENT.fullmatch(commitment):
            raise LogFormatError("commitment must be 64 lowercase hex digits (SHA-256)")
        rows.append({"data": canonical(entry), "commitment": commitment, "created_at": now})
    insert_rows(conn, tlog_entries, rows)
    signal(conn, QUEUED)
