"""Group commit: many request threads hand their writes to one writer thread, which applies
everything waiting in one transaction and answers each of them only after that commit.

Why: under load a write's cost is mostly per transaction (`BEGIN IMMEDIATE` or a row lock,
the commit's flush to disk) and per statement. One writer that applies together what arrives
together pays the first once per group, and lets the work of a group share state (the pledge
engine's `Batch` loads a campaign and locks its counter once, and writes ledger rows with one
multi-row INSERT per table; the connector inbox stores a group of deliveries with one INSERT).

The rules every user of this writer relies on:

- **Nothing is acknowledged before it is durable.** A caller's future is resolved after the
  group's transaction is committed; if the commit fails, every caller of the group gets the
  error and nothing of the group is stored.
- **A failing item does not take others with it.** Work that raises our own refusal
  (`WefirstError`) before it wrote anything fails alone inside the group. Any other failure, or
  one after the work started writing, cannot be undone alone (its rows may sit in a shared
  part, and PostgreSQL aborts a transaction on a failed statement), so the group is rolled back
  and each of its items is applied again in a transaction of its own.
- **Work says when it writes.** It calls `tx.writing()` before its first write, or reaches the
  group's shared state through `tx.part(...)`, which counts as writing.
- **Counters are read optimistically first.** A group's first attempt runs with
  `tx.conn.info[OPTIMISTIC]` set: the pledge engine then reads campaign counters without a lock
  and writes them last with a compare-and-set, so the row is locked for one statement before
  the commit instead of the whole transaction (PostgreSQL workers queued on it). If a counter
  moved meanwhile (`Contended`), the group is rolled back and applied again with the locks
  taken first, which cannot be contended; items re-applied alone after a failure also take
  their locks first, so every retry makes progress. After a contended attempt the writer takes
  the locks first for `contended_seconds`: when several processes write the same campaign
  (PostgreSQL, 2 workers), optimism lost more than it saved — the compare-and-set waited for
  the other process's commit and then the whole group ran again (issue 18: 95 re-runs for 240
  purchases, statements per event doubled).

The thread keeps one connection while it runs (opening a SQLite connection costs its PRAGMAs,
and closing the last one checkpoints the WAL) and ends after `idle_seconds` without work, so
apps built and dropped by tests leave no thread behind; the next `enqueue` starts a new one.
`stop()` lets the thread finish what is queued and end now."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection

from wefirst.errors import WefirstError
from wefirst.store.bulk import deferred
from wefirst.store.db import Database

T = TypeVar("T")


class Part(Protocol):
    """State shared by the items of one group, written once before the commit."""

    def flush(self) -> None: ...


P = TypeVar("P", bound=Part)


class Tx:
    """What one item's work sees: the group's connection and its shared parts."""

    def __init__(self, conn: Connection, hints: list[Any] | None = None) -> None:
        self.conn = conn
        #: what every item of the group said of itself when it was enqueued (`enqueue(hint=…)`),
        #: in the group's order: lets a part read for the whole group in one query (e.g. which
        #: of its idempotency keys are new) instead of one per item
        self.hints: list[Any] = hints or []
        self.writes = 0
        self._parts: dict[object, Part] = {}

    def writing(self) -> None:
        self.writes += 1

    def part(self, make: Callable[[Connection], P], *, writes: bool = True) -> P:
        """The group's one instance of `make(conn)` (e.g. the pledge engine's `Batch`), made on
        first use and flushed before the commit (`flush` says in which order). `writes=False`
        for a part that an item only adds to once its work succeeded (the idempotency
        records): reaching it does not stop a later refusal from failing alone."""
        if writes:
            self.writes += 1
        found = self._parts.get(make)
        if found is None:
            found = self._parts[make] = make(self.conn)
        return found  # type: ignore[return-value]

    def flush(self) -> None:
        """Parts in the order first used, except those marked `flush_last` (the pledge
        engine's `Batch`, whose counter writes take row locks), which come after the others.

        Their rows are collected (`bulk.deferred`) rather than inserted part by part: on
        PostgreSQL the pledge engine sends them in one statement with its counters'
        compare-and-set, and whatever is left goes in as one statement at the end — a group's
        writes cost one round trip, not one per table (issue 18)."""
        with deferred(self.conn):
            for part in sorted(self._parts.values(), key=lambda p: bool(getattr(p, "flush_last", False))):
                part.flush()


#: `Connection.info` key: true while a group's first, optimistic attempt runs.
OPTIMISTIC = "wefirst.optimistic"


class Contended(Exception):
    """A row read without a lock changed before the write that checks it: nothing of the
    transaction may be kept; apply it again with the lock taken first."""


class _Poisoned(Exception):
    pass


_Item = tuple[Callable[[Tx], Any], "Future[Any]", Any]
_WAKE = None  # put by `stop()`: end the thread once the queue is empty


class GroupCommit:
    """One writer thread and its queue. Work is `work(tx) -> result`; results may differ in
    type from one caller to the next, so one writer can serve every kind of event."""

    def __init__(
        self,
        db: Database,
        *,
        name: str = "group-commit",
        max_group: int = 64,
        idle_seconds: float = 2.0,
        contended_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.name = name
        self.max_group = max_group
        self.idle_seconds = idle_seconds
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._conn: Connection | None = None
        self.groups = 0  # committed groups
        self.items = 0  # items in committed groups
        self.contended = 0  # optimistic attempts rolled back and applied again with locks
        self.contended_seconds = contended_seconds
        self._clock = clock
        self._locks_first_until = float("-inf")

    @property
    def running(self) -> bool:
        with self._lock:
            return self._thread is not None

    def submit(self, work: Callable[[Tx], T], timeout: float = 60.0) -> T:
        """Blocking form of `enqueue`, for threads."""
        return self.enqueue(work).result(timeout=timeout)

    def enqueue(self, work: Callable[[Tx], T], hint: Any = None) -> Future[T]:
        """The future is resolved after the commit; async callers await it with
        `asyncio.wrap_future`, holding no thread while they wait. `hint` is shown to the
        group's items as `tx.hints`."""
        future: Future[T] = Future()
        with self._lock:
            self._queue.put((work, future, hint))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
        return future

    def stop(self, timeout: float = 10.0) -> None:
        """Apply what is queued, then end the thread (a later `enqueue` starts a new one)."""
        with self._lock:
            thread = self._thread
            if thread is None:
                return
            self._queue.put(_WAKE)
        thread.join(timeout)

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            self._disconnect()

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.info.pop(OPTIMISTIC, None)  # the pool may hand it to someone else
            self._conn.close()
            self._conn = None

    def _drop_signals(self) -> None:
        """A rolled-back attempt's signals (`store.db.signal`) are not for its retry to fire."""
        if self._conn is not None and not self._conn.invalidated:
            self.db.after(self._conn, committed=False)

    def _idle_exit(self) -> bool:
        with self._lock:
            if self._queue.empty():
                self._thread = None
                return True
        return False

    def _loop(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self.idle_seconds)
            except queue.Empty:
                first = _WAKE
            if first is _WAKE:
                if self._idle_exit():
                    return
                continue
            group = [first]
            woken = False
            while len(group) < self.max_group:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _WAKE:
                    woken = True
                    break
                group.append(nxt)
            try:
                self._commit(group, optimistic=self._clock() >= self._locks_first_until)
            except BaseException as exc:  # never leave a caller waiting
                for _, future, _ in group:
                    if not future.done():
                        future.set_exception(exc)
            if woken and self._idle_exit():
                return

    def _commit(self, group: list[_Item], *, optimistic: bool) -> None:
        outcomes: list[tuple[Future[Any], bool, Any]] = []
        try:
            if self._conn is not None and self._conn.invalidated:
                self._disconnect()  # broken under the last group: this one opens another
            if self._conn is None:
                self._conn = self.db.writer_engine.connect()
            self._conn.info[OPTIMISTIC] = optimistic
            # the engine's `begin` hook makes this `BEGIN IMMEDIATE` on SQLite
            with self._conn.begin():
                tx = Tx(self._conn, [hint for _, _, hint in group])
                for work, future, _ in group:
                    writes = tx.writes
                    try:
                        outcomes.append((future, True, work(tx)))
                    except WefirstError as exc:
                        if tx.writes != writes:
                            raise _Poisoned from exc
                        outcomes.append((future, False, exc))  # refused after reads only
                    except Exception as exc:  # a database error may have spoiled the transaction
                        raise _Poisoned from exc
                try:
                    tx.flush()
                except Exception as exc:
                    raise _Poisoned from exc
        except _Poisoned as poisoned:
            self._drop_signals()
            if optimistic and isinstance(poisoned.__cause__, Contended):
                self.contended += 1
                self._locks_first_until = self._clock() + self.contended_seconds
                self._commit(group, optimistic=False)
                return
            if len(group) > 1:
                for item in group:
                    self._commit([item], optimistic=False)
                return
            if self._conn is not None and self._conn.invalidated:
                self._disconnect()  # the failure broke the connection: the next group opens one
            group[0][1].set_exception(poisoned.__cause__ or poisoned)
            return
        except Exception as exc:  # the commit failed: nothing of the group is durable
            self._drop_signals()
            self._disconnect()  # a connection in an unknown state is not reused
            for _, future, _ in group:
                future.set_exception(exc)
            return
        conn = self._conn
        if conn is not None:
            self.db.after(conn, committed=True)  # e.g. wakes the log sequencer (store/db.py)
        self.groups += 1
        self.items += len(group)
        for future, ok, value in outcomes:
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
