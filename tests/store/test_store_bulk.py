"""`insert_rows`: many rows stored exactly as `insert(table)` stores them — on PostgreSQL by a
COPY from `COPY_MIN_ROWS` rows on — in the caller's transaction, a duplicate key raising the
same `IntegrityError` an INSERT raises and storing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, event, func, select, text
from sqlalchemy.exc import IntegrityError

from wefirst.store.bulk import COPY_MIN_ROWS, deferred, insert_rows, take_ctes
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
        del r["commitment"]  # the INSERT path: COPY takes one column list
    with db.write() as conn:
        insert_rows(conn, tlog_entries, rows)
    with db.read() as conn:
        assert len(_stored(conn)) == COPY_MIN_ROWS


# -- deferred inserts (a group-commit writer's rows in one statement) ---------------------------
def _records(n: int, start: int = 0) -> list[dict[str, Any]]:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    return [
        {
            "scope": "k",
            "key": f"order-{i}",
            "request_hash": "h" * 64,
            "status_code": 200,
            "response": '{"a": "\'x\'"}',
            "created_at": at + timedelta(seconds=i),
        }
        for i in range(start, start + n)
    ]


def test_deferred_rows_are_stored_exactly_as_given_in_one_statement_on_postgresql(db: Database) -> None:
    entries, records = _entries(5), _records(3)
    seen = _statements(db)
    with db.write() as conn, deferred(conn):
        insert_rows(conn, tlog_entries, entries[:2])
        insert_rows(conn, idempotency_records, records)
        insert_rows(conn, tlog_entries, entries[2:])
        assert [s for s in seen if "INSERT" in s] == []  # collected, not sent
    writes = [s for s in seen if "INSERT" in s]
    assert len(writes) == (3 if db.is_sqlite else 1), writes
    with db.read() as conn:
        assert _stored(conn) == [(r["data"], r["commitment"], r["created_at"]) for r in entries]
        stored = conn.execute(select(idempotency_records).order_by(idempotency_records.c.key)).all()
        assert [(*r[:5], r[5].replace(tzinfo=UTC) if r[5].tzinfo is None else r[5]) for r in stored] == [
            (r["scope"], r["key"], r["request_hash"], r["status_code"], r["response"], r["created_at"])
            for r in records
        ]


def test_deferred_rows_are_dropped_when_the_transaction_fails(db: Database) -> None:
    def failing() -> None:
        with db.write() as conn, deferred(conn):
            insert_rows(conn, tlog_entries, _entries(3))
            raise RuntimeError("a later failure")

    with pytest.raises(RuntimeError):
        failing()
    with db.read() as conn:
        assert _stored(conn) == []


def test_a_deferred_duplicate_raises_integrity_error_and_stores_nothing(db: Database) -> None:
    with db.write() as conn:
        insert_rows(conn, idempotency_records, _records(1))

    def both() -> None:
        with db.write() as conn, deferred(conn):
            insert_rows(conn, tlog_entries, _entries(2))
            insert_rows(conn, idempotency_records, _records(2))  # order-0 is stored already

    with pytest.raises(IntegrityError):
        both()
    with db.read() as conn:
        assert conn.execute(select(idempotency_records.c.key)).scalars().all() == ["order-0"]
        assert _stored(conn) == []


def test_deferred_rows_taken_into_a_statement_of_ones_own(db: Database) -> None:
    """`take_ctes` hands the rows to a caller's WITH clause (PostgreSQL) and empties the
    collection; elsewhere it takes nothing and `deferred` writes them."""
    entries = _entries(2)
    with db.write() as conn, deferred(conn):
        insert_rows(conn, tlog_entries, entries)
        ctes, params = take_ctes(conn)
        if db.is_sqlite:
            assert ctes is None
        else:
            assert ctes is not None
            conn.execute(text("WITH " + ", ".join(ctes) + " SELECT 1"), params)
            ctes, _ = take_ctes(conn)
            assert ctes is None  # nothing left: not written twice
    with db.read() as conn:
        assert _stored(conn) == [(r["data"], r["commitment"], r["created_at"]) for r in entries]


def test_a_copys_worth_of_deferred_rows_goes_in_table_by_table_in_order(db: Database) -> None:
    entries, records = _entries(COPY_MIN_ROWS), _records(2)
    seen = _statements(db)
    with db.write() as conn, deferred(conn):
        insert_rows(conn, idempotency_records, records)
        insert_rows(conn, tlog_entries, entries)
        assert take_ctes(conn) == (None, {})  # too many rows for one statement: a COPY is faster
    assert not any(s.startswith("WITH") for s in seen)
    with db.read() as conn:
        assert _stored(conn) == [(r["data"], r["commitment"], r["created_at"]) for r in entries]
        assert conn.execute(select(func.count()).select_from(idempotency_records)).scalar() == 2
