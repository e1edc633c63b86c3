"""Group commit: clicks from many request threads are decided one after another by a single
writer thread, in one transaction per batch, and each caller gets its answer only after that
transaction is committed (nothing is acknowledged before it is durable).

Why: a click's cost under load is mostly per-transaction (connection, `BEGIN IMMEDIATE`,
commit) and per-statement; one writer batching the clicks that arrive together pays the first
once per batch, and the pledge engine's `Batch` (shared by the clicks of one transaction) loads
the campaign and locks its counter once and writes ledger rows with one multi-row INSERT.

The writer keeps one connection for as long as it runs (it stops after a few idle seconds):
opening a SQLite connection per transaction costs its PRAGMAs, and closing the last one
checkpoints the WAL, which was most of a click's time before.

A click refused by our own checks before it wrote anything (an unknown campaign) fails alone.
Any other failure, or one after the click started writing, cannot be undone alone (its rows
may be in the shared engine batch, and PostgreSQL aborts a transaction on a failed statement),
so the transaction is rolled back and every click of it is decided again in a transaction of
its own.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from wefirst.errors import WefirstError
from wefirst.ingest.events import Batch
from wefirst.store.db import Database

T = TypeVar("T")


class Tx:
    """What one click's work sees: the connection and, on demand, the shared engine batch.
    Work calls `writing()` before its first write, so the writer knows whether a failing
    click left anything behind in the transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._batch: Batch | None = None
        self.writes = 0

    def writing(self) -> None:
        self.writes += 1

    def engine_batch(self) -> Batch:
        self.writes += 1
        if self._batch is None:
            self._batch = Batch(self.conn)
        return self._batch

    def flush(self) -> None:
        if self._batch is not None:
            self._batch.flush()


class _Poisoned(Exception):
    pass


Item = tuple[Callable[[Tx], T], "Future[T]"]


class GroupWriter(Generic[T]):
    def __init__(self, db: Database, *, max_batch: int = 64, idle_seconds: float = 2.0) -> None:
        self.db = db
        self.max_batch = max_batch
        self.idle_seconds = idle_seconds
        self._queue: queue.SimpleQueue[Item[T]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._conn: Connection | None = None
        self.batches = 0
        self.items = 0

    def _transaction(self) -> Any:
        """One write transaction on the writer's own connection (the engine's `begin` hook
        still makes it `BEGIN IMMEDIATE` on SQLite)."""
        if self._conn is None:
            self._conn = self.db.engine.connect()
        return self._conn.begin()

    def submit(self, work: Callable[[Tx], T], timeout: float = 60.0) -> T:
        return self.enqueue(work).result(timeout=timeout)

    def enqueue(self, work: Callable[[Tx], T]) -> Future[T]:
        """The future is resolved after the commit; async callers await it without a thread."""
        future: Future[T] = Future()
        with self._lock:
            self._queue.put((work, future))
            if self._thread is None:
                # The thread ends after `idle_seconds` without work, so apps built and dropped
                # by tests leave no thread behind; the next click starts a new one.
                self._thread = threading.Thread(target=self._run, name="widget-writer", daemon=True)
                self._thread.start()
        return future

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            self._disconnect()

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _loop(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._commit(batch)
            except BaseException as exc:  # never leave a caller waiting
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)

    def _commit(self, batch: list[Item[T]]) -> None:
        outcomes: list[tuple[Future[T], bool, Any]] = []
        try:
            with self._transaction():
                assert self._conn is not None
                conn = self._conn
                tx = Tx(conn)
                for work, future in batch:
                    writes = tx.writes
                    try:
                        outcomes.append((future, True, work(tx)))
                    except WefirstError as exc:
                        # Our own refusal (an unknown campaign), raised after reads only.
                        if tx.writes != writes:
                            raise _Poisoned from exc
                        outcomes.append((future, False, exc))
                    except Exception as exc:  # a database error may have spoiled the transaction
                        raise _Poisoned from exc
                tx.flush()
        except _Poisoned as poisoned:
            if len(batch) > 1:
                for item in batch:
                    self._commit([item])
                return
            batch[0][1].set_exception(poisoned.__cause__ or poisoned)
            return
        except Exception as exc:  # the commit failed: nothing in the batch is durable
            self._disconnect()  # a connection in an unknown state is not reused
            for _, future in batch:
                future.set_exception(exc)
            return
        self.batches += 1
        self.items += len(batch)
        for future, ok, value in outcomes:
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
