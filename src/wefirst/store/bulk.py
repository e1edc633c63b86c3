"""Many rows into one table: a multi-row INSERT, or on PostgreSQL `COPY` once there are enough.

Why (issue 18): SQLAlchemy hands a list of rows to psycopg's `executemany`, which sends one
INSERT per row in a pipeline. For a back office's batch of 500 orders (4,000 rows) that was
half the endpoint's time; `COPY … FROM STDIN` sends the rows as one stream that the server
parses without planning a statement per row (about twice as fast from ~100 rows, measured in
docs/benchmarks.md). Below `COPY_MIN_ROWS` a COPY's extra round trip costs more than it saves,
so small groups keep the INSERT.

The rows are the ones `insert(table)` would take, and they go through the same column types'
bind processing, in the caller's transaction. A failing COPY raises SQLAlchemy's exception for
it (`IntegrityError` for a duplicate key), as an INSERT would, so callers that retry on one
need no second path."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.exc import DBAPIError

#: From this many rows on, PostgreSQL gets a COPY (below it a pipelined INSERT is as fast).
COPY_MIN_ROWS = 32


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table` in the caller's transaction."""
    if not rows:
        return
    if len(rows) >= COPY_MIN_ROWS and conn.dialect.name == "postgresql" and _copyable(table, rows):
        _copy(conn, table, rows)
        return
    conn.execute(insert(table), list(rows))


def _copyable(table: Table, rows: Sequence[dict[str, Any]]) -> bool:
    """COPY fills an omitted column with the server's default only: a column the rows leave
    out that has a Python-side default (which `insert` would apply) keeps the INSERT path, and
    so do rows whose keys differ."""
    keys = rows[0].keys()
    if any(r.keys() != keys for r in rows):
        return False
    return all(c.name in keys or c.default is None for c in table.columns)


def _copy(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    names = list(rows[0])
    dialect = conn.dialect
    processors: list[Callable[[Any], Any] | None] = [
        table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names
    ]
    quote = dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
    raw = conn.connection.driver_connection
    assert raw is not None
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                values = [row[n] for n in names]
                copy.write_row([v if p is None else p(v) for v, p in zip(values, processors, strict=True)])
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(statement, None, exc, dialect.loaded_dbapi.Error) from exc
