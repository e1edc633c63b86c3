"""The default tile store: hash tiles as rows keyed by their URL path.

Entry bundles are not stored a second time: the entries already sit in `tlog_entries`, their
indexes in `tlog_index`, so a bundle is read back from there (and the server caches it). That
halves what a batch writes."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, delete, insert, select

from wefirst.store.db import Database
from wefirst.store.tables_tlog import tlog_entries, tlog_index, tlog_tiles
from wefirst.tlog.errors import LogFormatError
from wefirst.tlog.tiles import TILE_WIDTH, encode_bundle, parse_tile_path
from wefirst.tlog.tilestore import check_path, partial_prefix

ENTRIES_PREFIX = "tile/entries/"


class DbTileStore:
    """The tiles of one log. Logs after a key rotation (docs/tlog.md) keep theirs under the
    path prefix ``<n>/`` and read their bundles from the global entry indexes ``base + i``."""

    def __init__(self, db: Database, prefix: str = "", base: int = 0) -> None:
        self.db = db
        self.prefix = prefix
        self.base = base

    def get(self, path: str) -> bytes | None:
        with self.db.read() as conn:
            return self.get_in(conn, path)

    def get_in(self, conn: Connection, path: str) -> bytes | None:
        if path.startswith(ENTRIES_PREFIX):
            return _bundle(conn, path, self.base)
        data = conn.execute(select(tlog_tiles.c.data).where(tlog_tiles.c.path == self.prefix + path)).scalar()
        return None if data is None else bytes(data)

    def put_many(self, items: Mapping[str, bytes]) -> None:
        with self.db.write() as conn:
            self.write(conn, items)

    def write(self, conn: Connection, items: Mapping[str, bytes]) -> None:
        """Write hash tiles in the caller's transaction, so tiles and their checkpoint commit
        together. Rewriting a path stores the same bytes again (integration is deterministic).
        Bundles are skipped: they are derived from the indexed entries."""
        paths = [p for p in items if not p.startswith(ENTRIES_PREFIX)]
        for p in paths:
            check_path(p)
        if not paths:
            return
        stored = [self.prefix + p for p in paths]
        for i in range(0, len(stored), 500):
            conn.execute(delete(tlog_tiles).where(tlog_tiles.c.path.in_(stored[i : i + 500])))
        conn.execute(insert(tlog_tiles), [{"path": self.prefix + p, "data": items[p]} for p in paths])
        for p in paths:
            prefix = partial_prefix(p)
            if prefix is not None:
                # A range, not LIKE: it uses the primary key on both engines ("0" follows "/").
                lower = self.prefix + prefix
                upper = lower[:-1] + "0"
                conn.execute(delete(tlog_tiles).where(tlog_tiles.c.path >= lower, tlog_tiles.c.path < upper))


def _bundle(conn: Connection, path: str, base: int) -> bytes | None:
    """The bundle from the entries holding its indexes; None unless all of them exist."""
    try:
        tile = parse_tile_path(path)
    except LogFormatError:
        return None
    first = base + tile.n * TILE_WIDTH
    rows = conn.execute(
        select(tlog_index.c.idx, tlog_entries.c.data)
        .join_from(tlog_index, tlog_entries, tlog_entries.c.id == tlog_index.c.entry_id)
        .where(tlog_index.c.idx >= first, tlog_index.c.idx < first + tile.width)
        .order_by(tlog_index.c.idx)
    ).all()
    if len(rows) != tile.width:
        return None
    return encode_bundle([bytes(r.data) for r in rows])
