"""`insert_rows`: many rows stored exactly as `insert(table)` stores them — on PostgreSQL by a
COPY from `COPY_MIN_ROWS` rows on — in the caller's transaction, a duplicate key raising the
same `IntegrityError` an INSERT raises and storing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, event, select
from sqlalchemy.exc import IntegrityError

from wefirst.store.bulk import COPY_MIN_ROWS, insert_rows
from wefirst.store.db import Database
from wefirst.store.tables_core import idempotency_records
from wefirst.store.tables_tlog import tlog_entries


def _entries(n: int, start: int = 0) -> list[dict[str, Any]]:
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    return [
        {
            "data": bytes([i % 256]) * 40 + b"\x00\\\n\t'\"",  # bytes a text COPY must escape
            "commitment": f"{i:064x}" if i % 2 else None,
            "created_at": at + timedelta(microseconds=i),
            "idx": None,
        }
        for i in range(start, start + n)
    ]


def _stored(conn: Connection) -> list[tuple[Any, ...]]:
    rows = conn.execute(
        select(tlog_entries.c.data, tlog_entries.c.commitment, tlog_entries.c.created_at).order_by(
            tlog_entries.c.id
        )
    )
    return [
        (bytes(r[0]), r[1], r[2].astimezone(UTC) if r[2].tzinfo else r[2].replace(tzinfo=UTC)) for r in rows
    ]


def _statements(db: Database) -> list[str]:
    seen: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: seen.append(str(a[2])))
    return seen


@pytest.mark.parametrize("n", [1, COPY_MIN_ROWS - 1, COPY_MIN_ROWS, 500])
def test_rows_are_stored_in_order_exactly_as_given(db: Database, n: int) -> None:
    rows = _entries(n)
    seen = _statements(db)
    with db.write() as conn:
        insert_rows(conn, tlog_entries, rows)
    copied = not db.is_sqlite and n >= COPY_MIN_ROWS
    assert not any("INSERT INTO tlog_entries" in s for s in seen) if copied else seen
    with db.read() as conn:
        assert _stored(conn) == [(r["data"], r["commitment"], r["created_at"]) for r in rows]


def test_a_duplicate_key_raises_integrity_error_and_stores_nothing(db: Database) -> None:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    rows = [
        {
            "scope": "k",
            "key": f"order-{i}",
            "request_hash": "h" * 64,
            "status_code": 200,
            "response": "{}",
            "created_at": at,
        }
        for i in range(COPY_MIN_ROWS)
    ]
    with db.write() as conn:
        insert_rows(conn, idempotency_records, rows[:1])

    def both() -> None:
        with db.write() as conn:
            insert_rows(conn, tlog_entries, _entries(COPY_MIN_ROWS))
            insert_rows(conn, idempotency_records, rows)  # order-0 is stored already

    with pytest.raises(IntegrityError):
        both()
    with db.read() as conn:
        assert conn.execute(select(idempotency_records.c.key)).scalars().all() == ["order-0"]
        assert _stored(conn) == []


def test_rows_with_different_keys_still_go_in(db: Database) -> None:
    rows = _entries(COPY_MIN_ROWS)
    for r in rows[::2]:
        del r["idx"]  # the INSERT path: COPY takes one column list
    with db.write() as conn:
        insert_rows(conn, tlog_entries, rows)
    with db.read() as conn:
        assert len(_stored(conn)) == COPY_MIN_ROWS
