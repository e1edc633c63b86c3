"""The log as the server runs it: signer, tile store, signed checkpoints in the database, and
the reads the HTTP routes need (checkpoint, tiles, receipts with proofs)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, create_engine, event, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_tlog import tlog_checkpoints, tlog_entries
from wefirst.tlog.checkpoint import Checkpoint, sign_checkpoint
from wefirst.tlog.cosignatures import lines_for, with_lines, witness_rows
from wefirst.tlog.dbstore import DbTileStore
from wefirst.tlog.errors import LogFormatError, VerificationError
from wefirst.tlog.hashing import EMPTY_HASH
from wefirst.tlog.keys import load_key, load_or_create
from wefirst.tlog.note import Signer
from wefirst.tlog.proofs import inclusion_proof
from wefirst.tlog.reader import TileCache, TileHashReader
from wefirst.tlog.receipts import bundle
from wefirst.tlog.tilestore import CHECKPOINT_PATH, KEY_PATH, DirectoryTileStore, TileStore
from wefirst.tlog.witness_config import parse_witness_endpoints


def _sqlite_read_engine(url: str) -> Engine | None:
    if make_url(url).database in (None, "", ":memory:"):
        return None
    engine = create_engine(url, pool_size=4, max_overflow=4, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA query_only=ON")
        cur.close()

    return engine


def origin_for(settings: Settings) -> str:
    """The configured origin, or the deployment's URL without scheme plus ``/log``."""
    if settings.tlog_origin:
        return settings.tlog_origin
    parts = urlsplit(settings.base_url)
    return f"{parts.netloc}{parts.path.rstrip('/')}/log"


def key_path_for(settings: Settings) -> Path:
    return settings.tlog_key_path or settings.data_dir / "tlog.key"


def load_signer(settings: Settings) -> Signer:
    origin = origin_for(settings)
    path = key_path_for(settings)
    if settings.tlog_key_autocreate:
        return load_or_create(path, origin)
    signer = load_key(path)
    if signer.name != origin:
        raise LogFormatError(f"{path}: key is for {signer.name!r}, the log origin is {origin!r}")
    return signer


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: str


class ForkError(VerificationError):
    """A second, different root for a size that already has a signed checkpoint."""


def latest_checkpoint(conn: Connection) -> StoredCheckpoint | None:
    row = conn.execute(
        select(tlog_checkpoints.c.size, tlog_checkpoints.c.root, tlog_checkpoints.c.note)
        .order_by(tlog_checkpoints.c.size.desc())
        .limit(1)
    ).first()
    return None if row is None else StoredCheckpoint(int(row.size), bytes(row.root), row.note)


def checkpoint_at(conn: Connection, size: int) -> StoredCheckpoint | None:
    row = conn.execute(
        select(tlog_checkpoints.c.root, tlog_checkpoints.c.note).where(tlog_checkpoints.c.size == size)
    ).first()
    return None if row is None else StoredCheckpoint(size, bytes(row.root), row.note)


def record_checkpoint(conn: Connection, size: int, root: bytes, note: str) -> bool:
    """Store a signed checkpoint; False if it was already there (a replayed batch). Any other
    root for a known size, or a size below the latest, means two writers: refuse."""
    existing = conn.execute(select(tlog_checkpoints.c.root).where(tlog_checkpoints.c.size == size)).scalar()
    if existing is not None:
        if bytes(existing) != root:
            raise ForkError(f"a different root is already signed for size {size}")
        return False
    latest = latest_checkpoint(conn)
    if latest is not None and latest.size > size:
        raise ForkError(f"checkpoint {size} is older than the latest signed size {latest.size}")
    conn.execute(
        insert(tlog_checkpoints).values(size=size, root=root, note=note, created_at=datetime.now(UTC))
    )
    return True


class LogService:
    """One per app: owns the signer, the tile store and a shared cache of immutable tiles."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.signer = load_signer(settings)
        self.origin = self.signer.name
        self.witnesses = parse_witness_endpoints(settings.tlog_witnesses)
        self.store: TileStore
        if settings.tlog_tile_dir is not None:
            self.store = DirectoryTileStore(settings.tlog_tile_dir)
        else:
            self.store = DbTileStore(db)
        self.cache = TileCache(8192)
        self._read_engine = _sqlite_read_engine(db.url) if db.is_sqlite else None
        self.subtree_cache: dict[tuple[int, int], bytes] = {}
        self._init_lock = threading.Lock()
        self._initialised = False

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read connection for the public endpoints. On a SQLite file the app's read engine
        opens a new connection per use (a few milliseconds with its PRAGMAs), more than a whole
        proof costs; the log keeps a small pool of read-only connections of its own instead."""
        if self._read_engine is None:
            with self.db.read() as conn:
                yield conn
            return
        with self._read_engine.connect() as conn:
            yield conn

    def close(self) -> None:
        if self._read_engine is not None:
            self._read_engine.dispose()

    @property
    def is_db_store(self) -> bool:
        return isinstance(self.store, DbTileStore)

    def ensure_initialised(self) -> None:
        """Sign the empty tree once, so /log/checkpoint answers from the first request."""
        if self._initialised:
            return
        with self._init_lock:
            if self._initialised:
                return
            with self.db.read() as conn:
                latest = latest_checkpoint(conn)
            if latest is None:
                note = sign_checkpoint(Checkpoint(self.origin, 0, EMPTY_HASH), self.signer)
                if not self.is_db_store:
                    self.store.put_many({CHECKPOINT_PATH: note.encode()})
                try:
                    with self.db.write() as conn:
                        if latest_checkpoint(conn) is None:
                            record_checkpoint(conn, 0, EMPTY_HASH, note)
                except IntegrityError:
                    pass  # another process signed the empty tree at the same moment
            if not self.is_db_store:
                self.store.put_many({KEY_PATH: (self.signer.verifier.key_string + "\n").encode()})
            self._initialised = True

    def checkpoint(self) -> StoredCheckpoint:
        """The latest checkpoint as served: the log's signed note followed by the witnesses'
        cosignature lines collected for it so far."""
        self.ensure_initialised()
        with self.read() as conn:
            latest = latest_checkpoint(conn)
            assert latest is not None
            if not self.witnesses:
                return latest
            lines = lines_for(conn, [latest.size])[latest.size]
        return StoredCheckpoint(latest.size, latest.root, with_lines(latest.note, lines))

    def publish_cosigned(self, size: int) -> None:
        """A directory log's public ``checkpoint`` file gains the new cosignature lines, if
        ``size`` is still the latest (the store never lets the file go back to a smaller size)."""
        if self.is_db_store:
            return
        cp = self.checkpoint()
        if cp.size == size:
            self.store.put_many({CHECKPOINT_PATH: cp.note.encode()})

    def tile(self, path: str) -> bytes | None:
        data = self.cache.get(path)
        if data is None:
            if isinstance(self.store, DbTileStore):
                with self.read() as conn:
                    data = DbTileStore.get_in(conn, path)
            else:
                data = self.store.get(path)
            if data is not None:
                self.cache.put(path, data)
        return data

    def receipt(self, commitment: str) -> dict[str, Any] | None:
        """The receipt JSON for the first entry filed under this commitment; status "pending"
        until a signed checkpoint covers it; None if no entry carries it. One database
        connection serves the lookup and any tile the caches miss."""
        with self.read() as conn:
            # No ORDER BY ... LIMIT here: PostgreSQL may then walk the primary key instead of
            # using the commitment index. A commitment names one entry, rarely a few.
            rows = conn.execute(
                select(tlog_entries.c.id, tlog_entries.c.data, tlog_entries.c.idx).where(
                    tlog_entries.c.commitment == commitment
                )
            ).all()
            if not rows:
                return None
            row = min(rows, key=lambda r: int(r.id))
            latest = latest_checkpoint(conn)
            if row.idx is None or latest is None or row.idx >= latest.size:
                return {"status": "pending", "commitment": commitment}
            chosen, lines = self._best_witnessed(conn, latest, int(row.idx))

            def fetch(path: str) -> bytes | None:
                if isinstance(self.store, DbTileStore):
                    return DbTileStore.get_in(conn, path)
                return self.store.get(path)

            reader = CachedHashReader(TileHashReader(fetch, chosen.size, self.cache), self.subtree_cache)
            proof = inclusion_proof(reader, int(row.idx), chosen.size)
        return bundle(
            entry=bytes(row.data),
            index=int(row.idx),
            proof=proof,
            checkpoint=with_lines(chosen.note, lines),
            tree_size=chosen.size,
            commitment=commitment,
            log_url=f"{self.settings.base_url.rstrip('/')}/log",
        )

    def _best_witnessed(
        self, conn: Connection, latest: StoredCheckpoint, index: int
    ) -> tuple[StoredCheckpoint, list[str]]:
        """The checkpoint a receipt should carry: among the latest and the ones each witness
        last cosigned that cover the entry, the one with the most cosignatures (the newest on
        a tie). Just after a batch the latest has none yet, while the previous one has all."""
        if not self.witnesses:
            return latest, []
        sizes = {latest.size}
        sizes |= {
            r.size for r in witness_rows(conn).values() if r.size is not None and index < r.size < latest.size
        }
        lines = lines_for(conn, sizes)
        for size in sorted(sizes, key=lambda s: (len(lines[s]), s), reverse=True):
            cp = latest if size == latest.size else checkpoint_at(conn, size)
            if cp is not None:
                return cp, lines[size]
        return latest, lines[latest.size]


class CachedHashReader:
    """Complete subtree hashes never change once they exist (the tree is append-only), so the
    ones computed inside tiles (levels that are not multiples of 8) are kept across requests."""

    def __init__(self, inner: TileHashReader, cache: dict[tuple[int, int], bytes]) -> None:
        self.inner = inner
        self.cache = cache

    def hash_at(self, level: int, index: int) -> bytes:
        if level % 8 == 0:
            return self.inner.hash_at(level, index)
        key = (level, index)
        h = self.cache.get(key)
        if h is None:
            h = self.inner.hash_at(level, index)
            if len(self.cache) >= 200_000:
                self.cache.clear()
            self.cache[key] = h
        return h
