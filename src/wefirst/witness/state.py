"""The witness's memory: for each log, the latest checkpoint it cosigned, plus the evidence of
any inconsistent checkpoint it refused. One SQLite file, `synchronous=FULL`: a witness that
forgot a cosigned size after a power cut could later cosign a smaller one, which is the one thing
it must never do.

Every add-checkpoint runs in one `BEGIN IMMEDIATE` transaction: read the stored size, check,
sign, store, commit. SQLite's write lock serialises submissions for a log across threads and
processes, so two requests can never both pass the check against the same old size."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS logs (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    checkpoint TEXT NOT NULL,     -- the signed checkpoint last cosigned, as submitted
    cosigned_at INTEGER NOT NULL  -- timestamp of the last cosignature for this log
);
CREATE TABLE IF NOT EXISTS evidence (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    origin TEXT NOT NULL,
    kind TEXT NOT NULL,           -- same-size-different-root | inconsistent-proof
    cosigned TEXT NOT NULL,       -- the checkpoint this witness had cosigned
    submitted TEXT NOT NULL,      -- the validly signed checkpoint it refused
    old_size INTEGER NOT NULL,
    proof TEXT NOT NULL,          -- the consistency proof sent, base64 lines
    digest TEXT NOT NULL UNIQUE,  -- one record per refused checkpoint
    detected_at INTEGER NOT NULL
);
"""
MAX_EVIDENCE_PER_LOG = 1000  # only the log's key can make evidence; still, bound the table


@dataclass(frozen=True)
class LogState:
    origin: str
    size: int
    root: bytes
    checkpoint: str
    cosigned_at: int


@dataclass(frozen=True)
class Evidence:
    id: int
    origin: str
    kind: str
    cosigned: str
    submitted: str
    old_size: int
    proof: str
    detected_at: int

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "origin": self.origin,
            "kind": self.kind,
            "cosigned_checkpoint": self.cosigned,
            "submitted_checkpoint": self.submitted,
            "old_size": self.old_size,
            "proof": [line for line in self.proof.split("\n") if line],
            "detected_at": self.detected_at,
        }


class Transaction:
    """The reads and writes one add-checkpoint may do, inside its write lock."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def get(self, origin: str) -> LogState | None:
        row = self.conn.execute(
            "SELECT origin, size, root, checkpoint, cosigned_at FROM logs WHERE origin = ?", (origin,)
        ).fetchone()
        return None if row is None else LogState(row[0], int(row[1]), bytes(row[2]), row[3], int(row[4]))

    def put(self, state: LogState) -> None:
        self.conn.execute(
            "INSERT INTO logs (origin, size, root, checkpoint, cosigned_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, "
            "checkpoint = excluded.checkpoint, cosigned_at = excluded.cosigned_at",
            (state.origin, state.size, state.root, state.checkpoint, state.cosigned_at),
        )

    def record_evidence(
        self, origin: str, kind: str, cosigned: str, submitted: str, old_size: int, proof: str, now: int
    ) -> None:
        count = self.conn.execute("SELECT count(*) FROM evidence WHERE origin = ?", (origin,)).fetchone()[0]
        if count >= MAX_EVIDENCE_PER_LOG:
            return
        digest = hashlib.sha256(f"{origin}\n{submitted}".encode()).hexdigest()
        self.conn.execute(
            "INSERT INTO evidence (origin, kind, cosigned, submitted, old_size, proof, digest, detected_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING",
            (origin, kind, cosigned, submitted, old_size, proof, digest, now),
        )


class WitnessState:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        with self._connect() as conn:
            conn.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=True)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """BEGIN IMMEDIATE … COMMIT; any exception rolls back. The caller decides what to keep
        (an evidence record is committed even though the request it belongs to is refused)."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield Transaction(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def logs(self) -> list[LogState]:
        rows = (
            self._conn()
            .execute("SELECT origin, size, root, checkpoint, cosigned_at FROM logs ORDER BY origin")
            .fetchall()
        )
        return [LogState(r[0], int(r[1]), bytes(r[2]), r[3], int(r[4])) for r in rows]

    def evidence(self, *, origin: str | None = None, after: int = 0, limit: int = 100) -> list[Evidence]:
        sql = (
            "SELECT id, origin, kind, cosigned, submitted, old_size, proof, detected_at FROM evidence "
            "WHERE id > ?" + (" AND origin = ?" if origin else "") + " ORDER BY id LIMIT ?"
        )
        args: tuple[Any, ...] = (after, origin, limit) if origin else (after, limit)
        return [Evidence(*row) for row in self._conn().execute(sql, args).fetchall()]

    def close(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
