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

from sqlalchemy import Connection, Engine, bindparam, create_engine, event, func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_tlog import tlog_checkpoints, tlog_entries, tlog_index
from wefirst.tlog.checkpoint import Checkpoint, sign_checkpoint
from wefirst.tlog.cosignatures import lines_for, with_lines, witness_rows
from wefirst.tlog.dbstore import DbTileStore
from wefirst.tlog.errors import LogFormatError, VerificationError
from wefirst.tlog.generations import Generation, load_generations
from wefirst.tlog.hashing import EMPTY_HASH
from wefirst.tlog.keys import load_key, load_or_create
from wefirst.tlog.note import Signer
from wefirst.tlog.proofs import inclusion_proof
from wefirst.tlog.reader import TileCache, TileHashReader
from wefirst.tlog.receipts import bundle
from wefirst.tlog.tilestore import CHECKPOINT_PATH, KEY_PATH, DirectoryTileStore, TileStore
from wefirst.tlog.witness_config import parse_witness_endpoints, published_policy


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
    """A row of tlog_checkpoints: ``size`` is the stored (global) size, which is the log's own
    size for the first log and ``base + size`` for the logs after a key rotation."""

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


# Both checks of `record_checkpoint` in one statement (a sequencer round's, issue 18).
_EXISTING_AND_TOP = select(
    select(tlog_checkpoints.c.root).where(tlog_checkpoints.c.size == bindparam("s")).scalar_subquery(),
    select(func.max(tlog_checkpoints.c.size)).scalar_subquery(),
)


def record_checkpoint(conn: Connection, size: int, root: bytes, note: str) -> bool:
    """Store a signed checkpoint; False if it was already there (a replayed batch). Any other
    root for a known size, or a size below the latest, means two writers: refuse."""
    row: Any = conn.execute(_EXISTING_AND_TOP, {"s": size}).one()
    existing, top = row
    if existing is not None:
        if bytes(existing) != root:
            raise ForkError(f"a different root is already signed for size {size}")
        return False
    if top is not None and int(top) > size:
        raise ForkError(f"checkpoint {size} is older than the latest signed size {top}")
    conn.execute(
        insert(tlog_checkpoints).values(size=size, root=root, note=note, created_at=datetime.now(UTC))
    )
    return True


class LogService:
    """One per app: owns the current log's signer and tile store, serves the logs that came
    before it (key rotation, docs/tlog.md) read-only, and shares caches of immutable tiles."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        with db.read() as conn:
            self.generations = load_generations(conn, origin_for(settings))
        self.current = self.generations[-1]
        if len(self.generations) == 1:
            self.signer = load_signer(settings)
        else:
            assert self.current.key_path is not None
            self.signer = load_key(self.current.key_path)
            if self.signer.verifier != self.current.key:
                raise LogFormatError(f"{self.current.key_path} is not the key of log {self.current.origin}")
        self.origin = self.signer.name
        self.base = self.current.base
        self.witnesses = parse_witness_endpoints(settings.tlog_witnesses)
        self.store = self.store_for(self.current)
        self._caches: dict[int, TileCache] = {}
        self._subtrees: dict[int, dict[tuple[int, int], bytes]] = {}
        self.cache = self.cache_for(self.current)
        self._read_engine = _sqlite_read_engine(db.url) if db.is_sqlite else None
        self._init_lock = threading.Lock()
        self._initialised = False

    def store_for(self, gen: Generation) -> TileStore:
        if self.settings.tlog_tile_dir is not None:
            return DirectoryTileStore(self.settings.tlog_tile_dir / gen.prefix)
        return DbTileStore(self.db, gen.prefix, gen.base)

    def cache_for(self, gen: Generation) -> TileCache:
        """Tile paths repeat from one log to the next: each log has its own cache."""
        cache = self._caches.get(gen.number)
        if cache is None:
            cache = self._caches[gen.number] = TileCache(8192 if gen.is_current else 1024)
        return cache

    def generation(self, number: int) -> Generation | None:
        return next((g for g in self.generations if g.number == number), None)

    def key_of(self, number: int) -> str | None:
        """The verifier key line of log ``number`` (the current one's is the signer's)."""
        gen = self.generation(number)
        if gen is None:
            return None
        return (gen.key or self.signer.verifier).key_string

    def published_policy(self) -> str | None:
        """The trust policy this deployment shows as a copyable default (its current log key,
        its witnesses, k = WEFIRST_TLOG_WITNESS_QUORUM), or None without witnesses. A reader
        should check each key elsewhere: a policy served by the host it judges proves nothing."""
        if not self.witnesses:
            return None
        key = self.signer.verifier.key_string
        return published_policy(key, self.witnesses, self.settings.tlog_witness_quorum)

    def log_url(self, gen: Generation) -> str:
        return f"{self.settings.base_url.rstrip('/')}/log" + (f"/{gen.number}" if gen.number > 1 else "")

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

    def checkpoint(self, number: int | None = None) -> StoredCheckpoint:
        """A log's checkpoint as served (the current log's latest, or an earlier log's final
        one): the signed note followed by the witnesses' cosignature lines collected for it.
        ``size`` is the log's own size, as in the note."""
        gen = self.current if number is None else self.generation(number)
        if gen is None:
            raise LookupError(f"no log number {number}")
        self.ensure_initialised()
        with self.read() as conn:
            stored = latest_checkpoint(conn) if gen.end is None else checkpoint_at(conn, gen.end)
            assert stored is not None
            lines = lines_for(conn, [stored.size])[stored.size]
        return StoredCheckpoint(stored.size - gen.base, stored.root, with_lines(stored.note, lines))

    def publish_cosigned(self, stored_size: int) -> None:
        """A directory log's public ``checkpoint`` file gains the new cosignature lines, if
        ``stored_size`` is still the latest (the store never lets the file go back)."""
        if self.is_db_store:
            return
        cp = self.checkpoint()
        if cp.size + self.base == stored_size:
            self.store.put_many({CHECKPOINT_PATH: cp.note.encode()})

    def tile(self, path: str, number: int | None = None) -> bytes | None:
        gen = self.current if number is None else self.generation(number)
        if gen is None:
            return None
        cache = self.cache_for(gen)
        data = cache.get(path)
        if data is None:
            store = self.store if gen is self.current else self.store_for(gen)
            if isinstance(store, DbTileStore):
                with self.read() as conn:
                    data = store.get_in(conn, path)
            else:
                data = store.get(path)
            if data is not None:
                cache.put(path, data)
        return data

    def receipt(self, commitment: str) -> dict[str, Any] | None:
        """The receipt JSON for the first entry filed under this commitment; status "pending"
        until a signed checkpoint covers it; None if no entry carries it. One database
        connection serves the lookup and any tile the caches miss. An entry of an earlier log
        (before a key rotation) is proven against that log's final checkpoint."""
        with self.read() as conn:
            # No ORDER BY ... LIMIT here: PostgreSQL may then walk the primary key instead of
            # using the commitment index. A commitment names one entry, rarely a few.
            rows = conn.execute(
                select(tlog_entries.c.id, tlog_entries.c.data, tlog_index.c.idx)
                .outerjoin_from(tlog_entries, tlog_index, tlog_index.c.entry_id == tlog_entries.c.id)
                .where(tlog_entries.c.commitment == commitment)
            ).all()
            if not rows:
                return None
            row = min(rows, key=lambda r: int(r.id))
            latest = latest_checkpoint(conn)
            if row.idx is None or latest is None or row.idx >= latest.size:
                return {"status": "pending", "commitment": commitment}
            index = int(row.idx)
            gen = next(g for g in self.generations if g.covers(index))
            if gen.end is None:
                chosen, lines = self._best_witnessed(conn, latest, index)
            else:
                final = checkpoint_at(conn, gen.end)
                assert final is not None
                chosen, lines = final, lines_for(conn, [gen.end])[gen.end]
            store = self.store if gen is self.current else self.store_for(gen)

            def fetch(path: str) -> bytes | None:
                if isinstance(store, DbTileStore):
                    return store.get_in(conn, path)
                return store.get(path)

            size = chosen.size - gen.base
            subtrees = self._subtrees.setdefault(gen.number, {})
            reader = CachedHashReader(TileHashReader(fetch, size, self.cache_for(gen)), subtrees)
            proof = inclusion_proof(reader, index - gen.base, size)
        return bundle(
            entry=bytes(row.data),
            index=index - gen.base,
            proof=proof,
            checkpoint=with_lines(chosen.note, lines),
            tree_size=size,
            commitment=commitment,
            log_url=self.log_url(gen),
        )

    def _best_witnessed(
        self, conn: Connection, latest: StoredCheckpoint, index: int
    ) -> tuple[StoredCheckpoint, list[str]]:
        """The checkpoint a receipt should carry: among the latest and the ones each witness
        last cosigned that cover the entry, the one with the most cosignatures (the newest on
        a tie). Just after a batch the latest has none yet, while the previous one has all.
        Sizes here are stored (global) sizes; witnesses count in the current log's own."""
        if not self.witnesses:
            return latest, []
        sizes = {latest.size}
        sizes |= {
            self.base + r.size
            for r in witness_rows(conn).values()
            if r.size is not None and index < self.base + r.size < latest.size
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
