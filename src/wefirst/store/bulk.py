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

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Table, insert, text
from sqlalchemy.exc import DBAPIError

#: From this many rows on, PostgreSQL gets a COPY (below it a pipelined INSERT is as fast).
COPY_MIN_ROWS = 32


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table` in the caller's transaction."""
    if not rows:
        return
    pending = conn.info.get(DEFERRED)
    if pending is not None:
        if _copyable(table, rows):
            pending.append((table, [dict(r) for r in rows]))
            return
        _write(conn, pending)  # rows collected before these go in first (parents before children)
    _insert_now(conn, table, rows)


def _insert_now(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
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


# -- deferred inserts: a group-commit writer's rows in one statement ----------------------------
#: `Connection.info` key: while set (`deferred`), `insert_rows` collects instead of executing.
DEFERRED = "wefirst.deferred_inserts"

_Pending = list[tuple[Table, list[dict[str, Any]]]]


@contextmanager
def deferred(conn: Connection) -> Iterator[None]:
    """Inside: `insert_rows` calls on `conn` are collected, not executed. A caller may take them
    into a statement of its own (`take_ctes`: the pledge engine puts them in front of its
    counters' compare-and-set); whatever is left is written on a normal exit — on PostgreSQL as
    one statement, each table's rows an INSERT … SELECT FROM unnest(…) in a WITH clause;
    otherwise (SQLite, or a table with enough rows for a COPY) table by table, in the order
    given. On an exception nothing is written (the caller's transaction is rolled back)."""
    if DEFERRED in conn.info:  # nested: the outer one writes
        yield
        return
    pending: _Pending = []
    conn.info[DEFERRED] = pending
    try:
        yield
    finally:
        conn.info.pop(DEFERRED, None)
    if not pending:
        return
    _write(conn, pending)


def write_deferred(conn: Connection) -> None:
    """Write what `deferred` collected so far on `conn`, now (nothing when not deferring)."""
    pending = conn.info.get(DEFERRED)
    if pending:
        _write(conn, pending)


def _write(conn: Connection, pending: _Pending) -> None:
    ctes, params = take_ctes(conn, pending)
    if ctes is None:
        for table, rows in pending:
            _insert_now(conn, table, rows)
    else:
        conn.execute(text("WITH " + ", ".join(ctes) + " SELECT 1"), params)
    pending.clear()


def take_ctes(conn: Connection, pending: _Pending | None = None) -> tuple[list[str] | None, dict[str, Any]]:
    """The collected rows as WITH-clause INSERTs (PostgreSQL) and their parameters, and the
    collection emptied; `(None, {})` — nothing taken — when they cannot be: not PostgreSQL, or a
    table with `COPY_MIN_ROWS` rows (a COPY is faster; the caller then lets `deferred` write
    them in order). Rows of the same table keep their order (serial ids follow it)."""
    if pending is None:
        pending = conn.info.get(DEFERRED)
    if not pending or conn.dialect.name != "postgresql":
        return None, {}
    merged: dict[Table, list[dict[str, Any]]] = {}
    for table, rows in pending:
        merged.setdefault(table, []).extend(rows)
    if any(len(rows) >= COPY_MIN_ROWS for rows in merged.values()):
        return None, {}
    ctes: list[str] = []
    params: dict[str, Any] = {}
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    for n, (table, rows) in enumerate(merged.items()):
        names = list(rows[0])
        arrays = []
        for k, name in enumerate(names):
            column = table.c[name]
            process = column.type.dialect_impl(dialect).bind_processor(dialect)
            values = [row[name] for row in rows]
            key = f"w{n}_{k}"
            params[key] = values if process is None else [process(v) for v in values]
            arrays.append(f"CAST(:{key} AS {column.type.compile(dialect)}[])")
        cols = ", ".join(quote(c) for c in names)
        alias = ", ".join(f"x{k}" for k in range(len(names)))
        ctes.append(
            f"w{n} AS (INSERT INTO {quote(table.name)} ({cols}) SELECT {alias} "
            f"FROM unnest({', '.join(arrays)}) WITH ORDINALITY AS t({alias}, o) ORDER BY o)"
        )
    pending.clear()
    return ctes, params
