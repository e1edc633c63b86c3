"""Database access: one engine per process, explicit write and read transactions.

SQLite gets WAL, a busy timeout and `BEGIN IMMEDIATE` for writes, so concurrent writers queue
up instead of failing half-way; PostgreSQL gets a pool and row locks where caps are checked."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url

from wefirst.settings import Settings
from wefirst.store.notify import Notifications

#: `Connection.info` key: the names `signal` raised in the connection's current transaction.
SIGNALS = "wefirst.after_commit"
#: Connection-record key: the PostgreSQL server process of the connection.
BACKEND_PID = "wefirst.backend_pid"


def signal(conn: Connection, name: str) -> None:
    """Say that this transaction did something a thread of this process waits for (`"tlog"`:
    a log entry was queued). The listeners `Database.listen` registered for `name` are called
    after the commit, by whoever committed (`Database.write`, a group-commit writer); a
    rollback drops the signal. Why (issue 18): the log sequencer polled the database five times
    a second to find out — about one statement per event — where the writer could simply tell
    it once its entries are visible. Other processes hear the same commits on PostgreSQL, where
    a trigger NOTIFYs them (`store.notify`)."""
    conn.info.setdefault(SIGNALS, set()).add(name)


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    # A pool keeps connections (and SQLite's page cache) open between transactions; opening a
    # connection per transaction also checkpoints the WAL each time the last one closes.
    engine = create_engine(url, pool_size=8, max_overflow=16, pool_pre_ping=False)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _track_backends(engine: Engine, backends: set[int]) -> None:
    """The server processes of `engine`'s connections: the notifications their commits cause
    name them (`Notify.pid`), and this `Database`, which woke its own listeners at the commit
    already, drops them (`store.notify`). Nothing is sent: psycopg knows the pid from the
    connection's start."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: Any) -> None:
        pid = int(dbapi_conn.info.backend_pid)
        record.info[BACKEND_PID] = pid
        backends.add(pid)

    @event.listens_for(engine, "close")
    def _on_close(_dbapi_conn: Any, record: Any) -> None:
        backends.discard(record.info.get(BACKEND_PID, -1))


def _private_sqlite_file(url: str) -> None:
    """The database holds e-mail addresses, sealed secrets and hashes: it is created (or
    tightened) 0600 before SQLite opens it; SQLite gives its -wal and -shm files the same mode."""
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    # Only a file that does not exist yet is opened here: closing any descriptor of a file
    # releases every POSIX lock this process holds on it, so opening an existing database that
    # an engine of this process already uses would silently drop SQLite's locks (a second
    # Database in one process — a CLI command run in-process, a test — lost writes that way).
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    for p in (path, path + "-wal", path + "-shm"):
        if os.path.exists(p) and os.stat(p).st_mode & 0o077:
            os.chmod(p, 0o600)


class Database:
    """Owns the engines. Built once per app (or CLI command) from settings.

    A CLI command opens it with `with Database(settings) as db:` so its pooled connections are
    closed when the command ends, not left to the garbage collector (psycopg warns, and the
    warning then lands in whatever runs next in the same process, e.g. an unrelated test)."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.database_url
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            _private_sqlite_file(self.url)
            self.engine = _sqlite_engine(self.url, immediate=True)
            self._read_engine = _sqlite_engine(self.url, immediate=False)
            self._writer_engine = self.engine
        else:
            self.engine = create_engine(
                self.url,
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_pool_size,
                pool_pre_ping=True,
            )
            self._read_engine = self.engine
            # made now, not on first use: several writer threads would race to make it
            self._writer_engine = create_engine(self.url, pool_size=2, max_overflow=4, pool_pre_ping=False)
        #: PostgreSQL: the server processes of this Database's connections (`store.notify`).
        self.backends: set[int] = set()
        if not self.is_sqlite:
            _track_backends(self.engine, self.backends)
            _track_backends(self._writer_engine, self.backends)
        self._listeners: dict[str, list[Callable[[], None]]] = {}
        #: PostgreSQL: other processes' commits, heard while anything listens (SQLite has one
        #: writing process: its commits are all this one's).
        self.notifications: Notifications | None = None

    def listen(self, name: str, listener: Callable[[], None]) -> None:
        """Call `listener` (it must only set a flag: it runs in the committing thread) after
        every commit of a transaction that raised `signal(conn, name)` — on PostgreSQL also
        after other processes' commits that queued log entries (`store.notify`)."""
        self._listeners.setdefault(name, []).append(listener)
        if not self.is_sqlite and self.notifications is None:
            self.notifications = Notifications(
                self.url, own=self.backends, names=self._listened, heard=self._fire
            )
            self.notifications.start()

    def unlisten(self, name: str, listener: Callable[[], None]) -> None:
        found = self._listeners.get(name, [])
        if listener in found:
            found.remove(listener)
        if not self._listened():
            self._stop_notifications(wait=False)  # it ends within `store.notify.WAIT_SECONDS`

    def _listened(self) -> set[str]:
        # list(): one step under the GIL, as the notifications thread reads it
        return {name for name, found in list(self._listeners.items()) if found}

    def _fire(self, name: str) -> None:
        for listener in list(self._listeners.get(name, ())):
            listener()

    def _stop_notifications(self, *, wait: bool = True) -> None:
        if self.notifications is not None:
            self.notifications.stop(timeout=10.0 if wait else 0.0)
            self.notifications = None

    def after(self, conn: Connection, *, committed: bool) -> None:
        """The end of `conn`'s transaction: its signals are fired if it committed, and dropped
        either way (`Connection.info` outlives the transaction, on the pooled connection)."""
        names = conn.info.pop(SIGNALS, None)
        if not committed or not names:
            return
        for name in sorted(names):
            self._fire(name)

    @property
    def writer_engine(self) -> Engine:
        """Where the group-commit writers get their connection. On PostgreSQL an engine of its
        own without pre-ping: a writer keeps its connection for as long as work keeps coming, and
        a connection that broke under a group is dropped and replaced before the next one
        (groupcommit.py), so a ping round trip before each checkout would buy nothing."""
        return self._writer_engine

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed on normal exit, rolled back on any exception."""
        with self.engine.connect() as conn:
            try:
                with conn.begin():
                    yield conn
            except BaseException:
                self.after(conn, committed=False)
                raise
            self.after(conn, committed=True)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._read_engine.connect() as conn:
            yield conn

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()

    def dispose(self) -> None:
        """Close every pooled connection of every engine (safe to call more than once)."""
        self._stop_notifications()
        self.engine.dispose()
        if self._writer_engine is not self.engine:
            self._writer_engine.dispose()
        if self._read_engine is not self.engine:
            self._read_engine.dispose()
