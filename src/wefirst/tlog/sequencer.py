"""The single writer of the log: takes queued entries in batches (group commit), gives them
their indexes, writes tiles and bundles, then signs and stores the checkpoint.

Crash safety rests on two facts. (1) Index assignment is committed before any tile is written,
and a batch's tiles, bundles and signed checkpoint are a pure function of the tree before it and
the entries assigned to it (Ed25519 signatures are deterministic too). (2) At the start of every
round, entries that hold an index at or beyond the latest signed size are a batch that was cut
short, and are integrated again, in index order, before anything new. So a kill -9 at any point
leaves either nothing of the batch, or assigned indexes that the next round finishes with
identical bytes: no fork, nothing lost, nothing twice. With the database tile store the tiles
and the checkpoint commit in one transaction.

Exactly one sequencer runs: on PostgreSQL it holds a session advisory lock on a dedicated
connection (released by the server when the process or connection dies, so another process
takes over); on SQLite an exclusive flock on a file next to the database."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, Final, Literal, Protocol

from sqlalchemy import Connection, func, select, text
from sqlalchemy.engine import make_url

from wefirst.background import BackgroundThread
from wefirst.store.db import Database
from wefirst.store.tables_tlog import tlog_checkpoints, tlog_index, tlog_pending
from wefirst.tlog.checkpoint import Checkpoint, sign_checkpoint
from wefirst.tlog.dbstore import DbTileStore
from wefirst.tlog.errors import TlogError
from wefirst.tlog.integrate import compute
from wefirst.tlog.queue import QUEUED
from wefirst.tlog.service import LogService, StoredCheckpoint, latest_checkpoint, record_checkpoint
from wefirst.tlog.tilestore import CHECKPOINT_PATH, TileStore

log = logging.getLogger("wefirst.tlog.sequencer")


def advisory_key(schema: str, role: str = "sequencer") -> int:
    """A 63-bit advisory-lock key per schema and role: advisory locks are database-wide, and two
    deployments (or two test sessions) in different schemas must not block each other, nor the
    sequencer and the witness submitter (each has its own single runner)."""
    digest = hashlib.sha256(f"wefirst.tlog.{role}:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class IntegrityProblem(TlogError):
    """The queue's assigned indexes are not contiguous from the latest signed size."""


class SequencerLock(Protocol):
    def acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

    def release(self) -> None: ...


class PgAdvisoryLock:
    """Session-level advisory lock held on its own connection for as long as we sequence."""

    def __init__(self, db: Database, role: str = "sequencer") -> None:
        self.db = db
        self.role = role
        self.conn: Connection | None = None
        self.key = 0

    def acquire(self) -> bool:
        if self.conn is None:
            self.conn = self.db.engine.connect()
        schema = self.conn.execute(text("SELECT current_schema()")).scalar()
        self.key = advisory_key(str(schema), self.role)
        lock = text("SELECT pg_try_advisory_lock(:k)")
        got = bool(self.conn.execute(lock, {"k": self.key}).scalar())
        self.conn.commit()
        if not got:
            self.conn.close()
            self.conn = None
        return got

    def still_held(self) -> bool:
        if self.conn is None:
            return False
        try:
            self.conn.execute(text("SELECT 1"))
            self.conn.commit()
        except Exception:
            self.release()
            return False
        return True

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self.conn.commit()
            except Exception:  # noqa: S110 - the lock dies with the connection anyway
                pass
            finally:
                self.conn.close()
                self.conn = None


class FileLock:
    """flock is released by the kernel when the holder dies, even on kill -9."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fh: IO[bytes] | None = None

    def acquire(self) -> bool:
        if self.fh is None:
            self.fh = open(self.path, "ab")  # noqa: SIM115 - held open while sequencing
        try:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.close()  # a standby retries later; holding the file open in between holds nothing
            self.fh = None
            return False
        return True

    def still_held(self) -> bool:
        return self.fh is not None

    def release(self) -> None:
        if self.fh is not None:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_UN)
            self.fh.close()
            self.fh = None


class ThreadLock:
    """For in-memory SQLite, where only one process can see the database anyway."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held = False

    def acquire(self) -> bool:
        self._held = self._held or self._lock.acquire(blocking=False)
        return self._held

    def still_held(self) -> bool:
        return self._held

    def release(self) -> None:
        if self._held:
            self._held = False
            self._lock.release()


def lock_for(db: Database, role: str = "sequencer") -> SequencerLock:
    """The single-runner lock for ``role`` ("sequencer", "witness"): one holder across
    processes and hosts."""
    if not db.is_sqlite:
        return PgAdvisoryLock(db, role)
    database = make_url(db.url).database
    if not database or database == ":memory:":
        return ThreadLock()
    return FileLock(os.path.abspath(database) + f".tlog-{role}.lock")


@dataclass
class BatchResult:
    size: int
    integrated: int
    recovered: bool


def _one_round_at_a_time(conn: Connection) -> None:
    """Rounds that claim are serialised by the database, not only by the sequencer lock the
    caller should hold: two rounds that both read the same signed size would number the same
    indexes (the second fails on tlog_index's key — safe, but a failed round). On PostgreSQL a
    transaction-level advisory lock, taken before the size is read, makes the second wait for
    the first's commit and then read its result; SQLite's write transaction already does that.
    The key is per schema (as advisory_key) and computed in the statement: no extra round trip."""
    if conn.dialect.name == "sqlite":
        return
    conn.execute(
        text(
            "SELECT pg_advisory_xact_lock(('x' || substr(md5('wefirst.tlog.claim:'"
            " || current_schema()), 1, 16))::bit(64)::bigint)"
        )
    )


# What a round reads first, in one statement: the latest signed checkpoint and the highest
# assigned index (a claim beyond the checkpoint's size is a batch cut short).
_cp = tlog_checkpoints.c
_START = select(
    select(func.max(tlog_index.c.idx)).scalar_subquery(),
    *(select(c).order_by(_cp.size.desc()).limit(1).scalar_subquery() for c in (_cp.size, _cp.root, _cp.note)),
)


def _start(conn: Connection) -> tuple[StoredCheckpoint | None, int | None]:
    row: Any = conn.execute(_START).one()
    max_idx, size, root, note = row
    latest = None if size is None else StoredCheckpoint(int(size), bytes(root), note)
    return latest, None if max_idx is None else int(max_idx)


_READ: Final = "read"


def _claim(
    conn: Connection, size: int, limit: int, max_idx: int | Literal["read"] | None = _READ
) -> tuple[list[bytes], bool]:
    """The entries of the next batch, in index order: a cut-short batch first, else new ones
    (given their indexes here, in this transaction).

    Giving indexes writes only narrow rows: (idx, entry id) into `tlog_index`, and the same ids
    out of `tlog_pending`; the entries' payload rows are read, never rewritten. All set-based
    (SQLite >= 3.35 and PostgreSQL): numbering 100,000 rows one statement at a time would
    dominate a large batch."""
    if max_idx == _READ:  # not read with the checkpoint by the caller (`_start`)
        max_idx = conn.execute(select(func.max(tlog_index.c.idx))).scalar()
    recovered = max_idx is not None and max_idx >= size
    sqlite = conn.dialect.name == "sqlite"
    if not recovered:
        # The oldest waiting ids, numbered from `size` in id order. Only the sequencer (one
        # holder of its lock) claims, so nothing else numbers or deletes in between.
        if sqlite and max_idx is not None and max_idx == size - 1:
            # idx is the rowid: SQLite numbers the rows max+1, max+2, … in insert order, a
            # third of the cost of row_number() (the window sorts again).
            numbering = (
                "INSERT INTO tlog_index (entry_id)"
                " SELECT entry_id FROM tlog_pending ORDER BY entry_id LIMIT :limit"
            )
        else:
            numbering = (
                "INSERT INTO tlog_index (idx, entry_id)"
                " SELECT :base + row_number() OVER (ORDER BY entry_id) - 1, entry_id FROM ("
                " SELECT entry_id FROM tlog_pending ORDER BY entry_id LIMIT :limit) AS picked"
            )
        inserted = conn.execute(text(numbering), {"base": size, "limit": limit}).rowcount
        if not inserted:
            return [], False
        if sqlite:
            # SQLite has one writer at a time (this transaction): the claimed ids are exactly
            # the waiting ids up to the last one claimed.
            conn.execute(
                text(
                    "DELETE FROM tlog_pending WHERE entry_id <="
                    " (SELECT entry_id FROM tlog_index ORDER BY idx DESC LIMIT 1)"
                )
            )
        else:
            # By the claimed rows, not by an id bound: on PostgreSQL an older id may commit later.
            conn.execute(
                text(
                    "DELETE FROM tlog_pending WHERE entry_id IN"
                    " (SELECT entry_id FROM tlog_index WHERE idx >= :base)"
                ),
                {"base": size},
            )
    result = conn.execute(
        text(
            "SELECT i.idx, e.data FROM tlog_index i JOIN tlog_entries e ON e.id = i.entry_id"
            " WHERE i.idx >= :base ORDER BY i.idx"
        ),
        {"base": size},
    )
    # Plain DBAPI tuples: building 100,000 Row objects cost more than the hashing.
    rows = list(result.cursor.fetchall()) if result.cursor is not None else []
    result.close()
    for i, row in enumerate(rows):
        if int(row[0]) != size + i:
            raise IntegrityProblem(
                f"assigned indexes are not contiguous after size {size}: found {row[0]} at position {i}"
            )
    return [bytes(r[1]) for r in rows], recovered


def has_work(db: Database) -> bool:
    """A cheap read, so an idle sequencer never takes SQLite's write lock."""
    with db.read() as conn:
        if conn.execute(select(tlog_pending.c.entry_id).limit(1)).first() is not None:
            return True
        latest = latest_checkpoint(conn)
        max_idx = conn.execute(select(func.max(tlog_index.c.idx))).scalar()
    size = latest.size if latest else 0
    return max_idx is not None and max_idx >= size


def integrate_batch(service: LogService, batch_size: int, *, crash_after: str = "") -> BatchResult:
    """One round. The caller holds the sequencer lock. ``crash_after`` names a step after which
    the process kills itself (crash tests only: "claim", "tiles", "checkpoint").

    Database tile store: claim, tiles, bundles and checkpoint are one transaction. Directory
    store: the claim commits first, then the files are written, then the checkpoint row, and
    only then the public ``checkpoint`` file (publication follows the durable record).

    Indexes and stored sizes are global (they continue across key rotations); the tree of the
    current log starts at ``service.base``, so its own size is ``stored size - base``."""
    service.ensure_initialised()
    db = service.db
    base = service.base
    store = service.store
    if isinstance(store, DbTileStore):
        with db.write() as conn:
            _one_round_at_a_time(conn)
            latest, max_idx = _start(conn)
            size = latest.size if latest else 0
            entries, recovered = _claim(conn, size, batch_size, max_idx)
            if not entries:
                return BatchResult(size, 0, False)
            _maybe_crash(crash_after, "claim")
            # No bundles: this store serves them from the indexed entries.
            result = compute(lambda path: store.get_in(conn, path), size - base, entries, bundles=False)
            note = sign_checkpoint(Checkpoint(service.origin, result.size, result.root), service.signer)
            store.write(conn, result.items)
            _maybe_crash(crash_after, "tiles")
            record_checkpoint(conn, base + result.size, result.root, note)
        _maybe_crash(crash_after, "checkpoint")
        return BatchResult(base + result.size, len(entries), recovered)

    with db.write() as conn:
        _one_round_at_a_time(conn)
        latest, max_idx = _start(conn)
        size = latest.size if latest else 0
        entries, recovered = _claim(conn, size, batch_size, max_idx)
    if latest is not None and not _published(store, latest.note):
        store.put_many({CHECKPOINT_PATH: latest.note.encode()})  # republish after a crash
    if not entries:
        return BatchResult(size, 0, False)
    _maybe_crash(crash_after, "claim")
    result = compute(store.get, size - base, entries)
    note = sign_checkpoint(Checkpoint(service.origin, result.size, result.root), service.signer)
    store.put_many(result.items)
    _maybe_crash(crash_after, "tiles")
    with db.write() as conn:
        record_checkpoint(conn, base + result.size, result.root, note)
    _maybe_crash(crash_after, "checkpoint")
    store.put_many({CHECKPOINT_PATH: note.encode()})
    return BatchResult(base + result.size, len(entries), recovered)


def _published(store: TileStore, note: str) -> bool:
    """The public checkpoint file holds this checkpoint (maybe with cosignature lines after it)."""
    current = store.get(CHECKPOINT_PATH)
    return current is not None and current.decode("utf-8", "replace").startswith(note)


def _maybe_crash(crash_after: str, step: str) -> None:
    if crash_after == step:
        os.kill(os.getpid(), 9)


MAX_ROUND = 100_000
GROWTH = 16


class RoundSize:
    """How many entries the next round takes. ``base`` (WEFIRST_TLOG_BATCH_SIZE) while the
    sequencer keeps up; a round that came back full means more were waiting, so the next one
    takes twice as many, up to ``GROWTH`` × base (never above ``MAX_ROUND``), and a round that
    empties the queue brings it back to ``base``. Under steady heavy traffic a round's fixed
    costs (the checkpoint's signature and commit, the right edge's partial tiles rewritten,
    the directory store's flush) are paid per 16,000 entries instead of per 1,000, while a
    quiet log still signs small rounds at once. A round that took longer than ``budget``
    seconds (the batch wait) does not grow the next: a database-store round is one
    transaction, and SQLite's write lock, which the ledger's writers wait for, stays held
    about one batch wait at most."""

    def __init__(self, base: int, budget: float = float("inf")) -> None:
        self.base = base
        self.budget = budget
        self.top = max(base, min(base * GROWTH, MAX_ROUND))
        self.limit = base

    def after(self, done: int, seconds: float = 0.0) -> int:
        """Record a round that integrated ``done`` entries in ``seconds``; the next round's
        limit."""
        if done < self.limit:
            self.limit = self.base
        elif seconds < self.budget:
            self.limit = min(self.limit * 2, self.top)
        return self.limit


#: How often an idle sequencer looks for entries it was not woken for (queued outside
#: `Database.write` and the group-commit writers, or by another process on SQLite or while the
#: PostgreSQL listening connection is down), and checks its lock.
IDLE_POLL_SECONDS = 1.0


class Sequencer(BackgroundThread):
    """Background thread: wins (or waits for) the lock, then integrates until stopped.

    It runs a round when woken: by this process's commits that queued entries
    (`store.db.signal`, fired by `Database.write` and the group-commit writers), on becoming
    the leader (a backlog, a round cut short), and again at once after a full round. Between
    rounds it waits the batch wait, so what arrives meanwhile goes in one round. On PostgreSQL
    other processes' commits wake it too (a trigger's NOTIFY, `store.notify`). Idle, it sends
    nothing but one cheap look (`has_work`) and a lock check every `idle_seconds`, for entries
    no wake announced. (Issue 18: it polled five times a second, about one statement per event
    on the write path.)"""

    thread_name = "tlog-sequencer"

    def __init__(
        self,
        service: LogService,
        *,
        batch_size: int,
        wait_ms: int,
        idle_seconds: float = IDLE_POLL_SECONDS,
    ) -> None:
        self.service = service
        self.batch_size = batch_size
        self.wait = wait_ms / 1000
        self.idle_seconds = idle_seconds
        self.rounds = RoundSize(batch_size, budget=max(self.wait, 0.05))
        self.lock = lock_for(service.db)
        super().__init__()
        self.is_leader = False
        self._wake = threading.Event()
        self._checked = 0.0  # when the lock was last checked (time.monotonic)
        # Called after each batch that signed a new checkpoint (the witness submitter's wake):
        # a callable that only sets a flag, so integration never waits on what it starts.
        self.after_checkpoint: list[Callable[[], None]] = []

    def wake(self) -> None:
        """Entries were committed: integrate them (after the batch wait, if a round just ran)."""
        self._wake.set()

    def start(self) -> None:
        self.service.db.unlisten(QUEUED, self.wake)
        self.service.db.listen(QUEUED, self.wake)
        super().start()

    def stop(self, timeout: float = 10.0) -> None:
        self.service.db.unlisten(QUEUED, self.wake)
        self._stop.set()
        self._wake.set()  # the loop idles on the wake
        super().stop(timeout)
        self.lock.release()
        self.is_leader = False

    def _idle(self) -> bool:
        """Wait for a wake; without one, after `idle_seconds`, look for work. True: run a round."""
        if self._wake.wait(self.idle_seconds) or self._stop.is_set():
            return True
        return self._still_leader(force=True) and has_work(self.service.db)

    def _still_leader(self, *, force: bool = False) -> bool:
        """The lock is checked (PostgreSQL: a statement on its connection) every `idle_seconds`
        at most, not before every round: two rounds at once are serialised by the database
        anyway (`_one_round_at_a_time`), so a lost lock is noticed a little late, never unsafely."""
        now = time.monotonic()
        if not force and now - self._checked < self.idle_seconds:
            return True
        self._checked = now
        if self.lock.still_held():
            return True
        self.is_leader = False
        log.warning("sequencer lock lost")
        return False

    def _run(self) -> None:
        look = True  # a round without waiting for a wake: just led, or the last round was full
        while not self._stop.is_set():
            try:
                if not self.is_leader:
                    self.is_leader = self.lock.acquire()
                    if not self.is_leader:
                        self._stop.wait(max(self.wait, 1.0))  # standby: retry for takeover
                        continue
                    log.info("sequencer lock acquired")
                    look = True
                    self._checked = time.monotonic()
                ready = self._still_leader() if look else self._idle()
                if not ready:
                    continue
                if self._stop.is_set():
                    return
                self._wake.clear()  # a commit from now on wakes the next round
                started = time.monotonic()
                limit = self.rounds.limit
                done = integrate_batch(self.service, limit).integrated
                self.rounds.after(done, time.monotonic() - started)
                if done:
                    for notify in self.after_checkpoint:
                        notify()
                look = done >= limit
                if not look:
                    self._stop.wait(max(0.0, self.wait - (time.monotonic() - started)))
            except Exception:
                log.exception("sequencer round failed; retrying")
                look = True
                self._stop.wait(1.0)
