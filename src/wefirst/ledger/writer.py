"""Where ledger rows go: straight to the database, or into a buffer that a batch flushes with
one multi-row INSERT per table. The hot intake path buffers: commits and round trips, not
arithmetic, are what limit events per second."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy import Connection, Table

from wefirst.store.bulk import insert_rows
from wefirst.store.tables_core import (
    ledger_postings,
    ledger_transactions,
    pledge_reversals,
    pledges,
)
from wefirst.tlog.queue import enqueue, enqueue_many

# Parents before children (pledge_reversals reference pledges).
FLUSH_ORDER: tuple[Table, ...] = (ledger_transactions, ledger_postings, pledges, pledge_reversals)


class Writer(Protocol):
    def add(self, table: Table, rows: list[dict[str, Any]]) -> None: ...

    def log(self, entry: Mapping[str, Any], commitment: str | None) -> None: ...


class DirectWriter:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, table: Table, rows: list[dict[str, Any]]) -> None:
        insert_rows(self.conn, table, rows)

    def log(self, entry: Mapping[str, Any], commitment: str | None) -> None:
        enqueue(self.conn, entry, commitment=commitment)


class BufferedWriter:
    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.entries: list[tuple[Mapping[str, Any], str | None]] = []

    def add(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if table not in FLUSH_ORDER:
            raise ValueError(f"{table.name} is not buffered; write it directly")
        self.rows[table.name].extend(rows)

    def log(self, entry: Mapping[str, Any], commitment: str | None) -> None:
        self.entries.append((entry, commitment))

    def flush(self, conn: Connection) -> None:
        for table in FLUSH_ORDER:
            rows = self.rows.pop(table.name, None)
            if rows:
                insert_rows(conn, table, rows)
        entries, self.entries = self.entries, []
        enqueue_many(conn, entries)
