"""The log as the server runs it: signer, tile store, signed checkpoints in the database, and
the reads the HTTP routes need (checkpoint, tiles, receipts with proofs)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, insert, select

from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_tlog import tlog_checkpoints, tlog_entries
from wefirst.tlog.checkpoint import Checkpoint, sign_checkpoint
from wefirst.tlog.dbstore import DbTileStore
from wefirst.tlog.errors import LogFormatError, VerificationError
from wefirst.tlog.hashing import EMPTY_HASH
from wefirst.tlog.keys import load_key, load_or_create
from wefirst.tlog.note import Signer
from wefirst.tlog.proofs import inclusion_proof
from wefirst.tlog.reader import TileCache, TileHashReader
from wefirst.tlog.receipts import bundle
from wefirst.tlog.tilestore import CHECKPOINT_PATH, KEY_PATH, DirectoryTileStore, TileStore


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
        self.store: TileStore
        if settings.tlog_tile_dir is not None:
            self.store = DirectoryTileStore(settings.tlog_tile_dir)
        else:
            self.store = DbTileStore(db)
        self.cache = TileCache(8192)
        self._init_lock = threading.Lock()
        self._initialised = False

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
                with self.db.write() as conn:
                    if latest_checkpoint(conn) is None:
                        record_checkpoint(conn, 0, EMPTY_HASH, note)
            if not self.is_db_store:
                self.store.put_many({KEY_PATH: (self.signer.verifier.key_string + "\n").encode()})
            self._initialised = True

    def checkpoint(self) -> StoredCheckpoint:
        self.ensure_initialised()
        with self.db.read() as conn:
            latest = latest_checkpoint(conn)
        assert latest is not None
        return latest

    def tile(self, path: str) -> bytes | None:
        data = self.cache.get(path)
        if data is None:
            data = self.store.get(path)
            if data is not None:
                self.cache.put(path, data)
        return data

    def receipt(self, commitment: str) -> dict[str, Any] | None:
        """The receipt JSON for the first entry filed under this commitment; status "pending"
        until a signed checkpoint covers it; None if no entry carries it."""
        with self.db.read() as conn:
            row = conn.execute(
                select(tlog_entries.c.data, tlog_entries.c.idx)
                .where(tlog_entries.c.commitment == commitment)
                .order_by(tlog_entries.c.id)
                .limit(1)
            ).first()
            if row is None:
                return None
            latest = latest_checkpoint(conn)
        if row.idx is None or latest is None or row.idx >= latest.size:
            return {"status": "pending", "commitment": commitment}
        reader = TileHashReader(self.tile, latest.size, self.cache)
        proof = inclusion_proof(reader, int(row.idx), latest.size)
        return bundle(
            entry=bytes(row.data),
            index=int(row.idx),
            proof=proof,
            checkpoint=latest.note,
            tree_size=latest.size,
            commitment=commitment,
            log_url=f"{self.settings.base_url.rstrip('/')}/log",
        )
