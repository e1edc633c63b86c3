"""The sequencer is woken by the commits that queue entries, not by polling (issue 18): an idle
sequencer sends nothing, a woken one runs one round per wake, and entries queued where no wake
reaches it (another process) are still found by its slow idle look."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event, func, insert, select, text

from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.groupcommit import GroupCommit, Tx
from wefirst.store.notify import Notifications
from wefirst.store.tables_tlog import tlog_entries, tlog_index, tlog_pending
from wefirst.tlog.queue import QUEUED, canonical, enqueue
from wefirst.tlog.sequencer import Sequencer
from wefirst.tlog.service import LogService, latest_checkpoint

from tlog.tlog_helpers import entry, fill
from waiting import wait_until


@pytest.fixture(params=["db", "dir"])
def service(request: pytest.FixtureRequest, settings: Settings, db: Database, tmp_path: Path) -> LogService:
    tile_dir = tmp_path / "tiles" if request.param == "dir" else None
    return LogService(settings.model_copy(update={"tlog_tile_dir": tile_dir, "tlog_sequencer": False}), db)


def check_log(service: LogService, expected: int) -> None:
    """Every entry integrated once, in order, nothing left waiting (test_tlog_sequencer.py
    checks the tiles and signatures of rounds; these tests only change what starts them)."""
    with service.db.read() as conn:
        indexed: list[int] = list(conn.execute(select(tlog_index.c.idx).order_by(tlog_index.c.idx)).scalars())
        waiting = conn.execute(select(func.count()).select_from(tlog_pending)).scalar_one()
    assert (list(indexed), waiting, _size(service)) == (list(range(expected)), 0, expected)


@contextmanager
def _statements(db: Database, thread: str) -> Iterator[list[str]]:
    """Statements sent by the thread named `thread` (the app's other threads also talk to the
    database)."""
    seen: list[str] = []

    def log(_conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.current_thread().name == thread:
            seen.append(" ".join(statement.split()))

    engines = {id(e): e for e in (db.engine, db.writer_engine, db._read_engine)}
    for e in engines.values():
        event.listen(e, "before_cursor_execute", log)
    try:
        yield seen
    finally:
        for e in engines.values():
            event.remove(e, "before_cursor_execute", log)


def _queue(n: int, tx: Tx) -> None:
    enqueue(tx.conn, entry(n))


def _has_size(service: LogService, size: int) -> bool:
    return _size(service) == size


def _size(service: LogService) -> int:
    with service.db.read() as conn:
        cp = latest_checkpoint(conn)
    return cp.size if cp else 0


#: Statements of one round of one entry, by (SQLite, database tile store), measured when pinned
#: (were 13, 11, 12, 9 before a round read the checkpoint and the highest index in one
#: statement, and checked its new checkpoint against the stored ones in one instead of two).
_ROUND = {(True, True): 10, (True, False): 8, (False, True): 10, (False, False): 7}


def _polls(statements: list[str]) -> list[str]:
    """`has_work`'s first look: the only statement the idle path sends."""
    return [s for s in statements if "FROM tlog_pending LIMIT" in s]


def test_a_commit_that_queues_entries_wakes_the_sequencer_and_idle_costs_nothing(
    service: LogService,
) -> None:
    """Idle look once an hour: every round below was started by a commit's wake (Database.write,
    then the group-commit writer), one round per commit, and between them the sequencer sent
    no statement at all (it polled five times a second: ~1 statement per event)."""
    seq = Sequencer(service, batch_size=100, wait_ms=1, idle_seconds=3600)
    fill(service.db, 0, 1)
    seq.start()
    writer = GroupCommit(service.db, name="wake-test-writer")
    try:
        wait_until(lambda: _size(service) == 1, what="the first round (on taking the lock)")
        with _statements(service.db, seq.thread_name) as seen:
            rounds: list[int] = []
            for i in range(1, 7):
                before = len(seen)
                if i < 4:
                    fill(service.db, i, 1)
                else:
                    writer.submit(partial(_queue, i))
                wait_until(partial(_has_size, service, i + 1), what=f"entry {i} integrated")
                rounds.append(len(seen) - before)
            quiet = len(seen)
            writer.submit(lambda tx: tx.writing())  # a commit that queued nothing wakes nobody:
            fill(service.db, 7, 1)  # the next commit that queues one costs one round, no more
            wait_until(lambda: _size(service) == 8, what="entry 7 integrated")
            rounds.append(len(seen) - quiet)
    finally:
        writer.stop()
        seq.stop()
    assert _polls(seen) == []
    # the same round each time: the checkpoint row, its read, the claim, the tiles
    checkpoints = [s for s in seen if s.startswith("INSERT INTO tlog_checkpoints")]
    assert len(checkpoints) == 7
    assert len(set(rounds)) == 1, rounds
    per_round = rounds[0]
    assert per_round <= _ROUND[(service.db.is_sqlite, service.is_db_store)], seen[-per_round:]
    check_log(service, 8)


def test_entries_no_wake_reaches_are_found_by_the_idle_look(service: LogService) -> None:
    """Queued outside `Database.write` and the writers (as another process would): no wake,
    so the idle look finds them."""
    seq = Sequencer(service, batch_size=100, wait_ms=1, idle_seconds=0.05)
    seq.start()
    try:
        wait_until(lambda: seq.is_leader, what="the sequencer lock")
        with service.db.engine.begin() as conn:  # no signal raised
            conn.execute(insert(tlog_entries).values(data=canonical(entry(0)), created_at=datetime.now(UTC)))
        wait_until(lambda: _size(service) == 1, what="the idle look to find the entry")
    finally:
        seq.stop()
    check_log(service, 1)


def test_signals_fire_after_the_commit_only(db: Database) -> None:
    """`store.db.signal`: a rolled-back transaction's signal is dropped, not carried to the
    connection's next transaction; a committed one calls each listener once."""
    calls: list[str] = []

    def heard() -> None:
        calls.append("tlog")

    db.listen(QUEUED, heard)
    try:

        class Refused(Exception):
            pass

        try:
            with db.write() as conn:
                enqueue(conn, entry(0))
                raise Refused
        except Refused:
            pass
        assert calls == []
        with db.write() as conn:
            pass  # the same pooled connection, most likely: nothing left over
        assert calls == []
        with db.write() as conn:
            enqueue(conn, entry(1))
            enqueue(conn, entry(2))
            assert calls == []  # not before the commit
        assert calls == ["tlog"]
        writer = GroupCommit(db, name="signal-test-writer")
        try:

            def refused(tx: Tx) -> None:
                enqueue(tx.conn, entry(3))
                raise RuntimeError("after a write: the group is rolled back")

            failed = writer.enqueue(refused)
            with suppress(RuntimeError):
                failed.result(60)
            assert calls == ["tlog"]
            writer.submit(lambda tx: enqueue(tx.conn, entry(4)))
            assert calls == ["tlog", "tlog"]
        finally:
            writer.stop()
    finally:
        db.unlisten(QUEUED, heard)


@contextmanager
def _woken_across_processes(
    settings: Settings, service: LogService
) -> Iterator[tuple[Database, Notifications]]:
    """A leading sequencer with an idle look once an hour, listening on the log's channel, and a
    second `Database` on the same schema — what another worker or a CLI command opens (its own
    engines and connections): whatever the other commits reaches the sequencer by NOTIFY only."""
    if service.db.is_sqlite:
        pytest.skip("SQLite: one process writes; PostgreSQL processes hear each other's commits")
    seq = Sequencer(service, batch_size=100, wait_ms=1, idle_seconds=3600)
    seq.start()
    try:
        with Database(settings) as other:
            heard = service.db.notifications
            assert heard is not None
            wait_until(lambda: seq.is_leader and heard.listening == {QUEUED}, what="the lock and LISTEN")
            yield other, heard
    finally:
        seq.stop()


def test_another_process_commits_wake_the_sequencer_on_postgresql(
    settings: Settings, service: LogService
) -> None:
    """Idle look once an hour: entries another process queues are integrated at once, woken by
    the NOTIFY of migration 0031's trigger (they waited for the idle look, up to a second)."""
    with _woken_across_processes(settings, service) as (other, _):
        for i in range(3):
            fill(other, 2 * i, 2)
            wait_until(partial(_has_size, service, 2 * (i + 1)), what=f"the other process's entries {i}")
    check_log(service, 6)


def test_a_process_does_not_hear_its_own_commits_twice(settings: Settings, db: Database) -> None:
    """Its own commits woke its listeners once already (`Database.after`); their notifications
    come back to it and are dropped, another process's are heard: by the time the other's has
    arrived (delivered in commit order, after its own), the listener ran twice, not three times."""
    if db.is_sqlite:
        pytest.skip("SQLite: one process writes; PostgreSQL processes hear each other's commits")
    calls: list[str] = []

    def listener() -> None:
        calls.append("tlog")

    other = Database(settings)
    db.listen(QUEUED, listener)
    try:
        heard = db.notifications
        assert heard is not None
        wait_until(lambda: heard.listening == {QUEUED}, what="LISTEN on the log's channel")
        with db.write() as conn:
            enqueue(conn, entry(0))
        assert calls == ["tlog"]  # at once, by the commit itself
        with other.write() as conn:
            enqueue(conn, entry(1))
        wait_until(lambda: heard.received == 2, what="both notifications")
        assert calls == ["tlog", "tlog"]
    finally:
        db.unlisten(QUEUED, listener)
        other.dispose()


def test_the_listening_connection_comes_back_after_it_is_cut(settings: Settings, service: LogService) -> None:
    """A notification is a wake, not the data: when the server drops the listening connection,
    it is made again (after a backoff) and other processes' commits wake the sequencer again."""
    with _woken_across_processes(settings, service) as (other, heard):
        with other.write() as conn:
            cut: int = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = :name"
                ),
                {"name": heard.name},
            ).scalar_one()
        assert cut == 1
        wait_until(lambda: heard.connections == 2 and heard.listening == {QUEUED}, what="LISTEN again")
        fill(other, 0, 1)
        wait_until(partial(_has_size, service, 1), what="the entry, woken through the new connection")
    check_log(service, 1)
