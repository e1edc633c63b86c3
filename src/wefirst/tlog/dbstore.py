"""The default tile store: tiles and bundles as rows keyed by their URL path."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, delete, insert, select

from wefirst.store.db import Database
from wefirst.store.tables_tlog import tlog_tiles
from wefirst.tlog.tilestore import check_path, partial_prefix


class DbTileStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, path: str) -> bytes | None:
        with self.db.read() as conn:
            return self.get_in(conn, path)

    @staticmethod
    def get_in(conn: Connection, path: str) -> bytes | None:
        data = conn.execute(select(tlog_tiles.c.data).where(tlog_tiles.c.path == path)).scalar()
        return None if data is None else bytes(data)

    def put_many(self, items: Mapping[str, bytes]) -> None:
        with self.db.write() as conn:
            self.write(conn, items)

    @staticmethod
    def write(conn: Connection, items: Mapping[str, bytes]) -> None:
        """Write in the caller's transaction, so tiles and their checkpoint commit together.
        Rewriting a path stores the same bytes again (integration is deterministic)."""
        if not items:
            return
        paths = list(items)
        for p in paths:
            check_path(p)
        for i in range(0, len(paths), 500):
            conn.execute(delete(tlog_tiles).where(tlog_tiles.c.path.in_(paths[i : i + 500])))
        conn.execute(insert(tlog_tiles), [{"path": p, "data": items[p]} for p in paths])
        for p in paths:
            prefix = partial_prefix(p)
            if prefix is not None:
                conn.execute(delete(tlog_tiles).where(tlog_tiles.c.path.startswith(prefix)))
