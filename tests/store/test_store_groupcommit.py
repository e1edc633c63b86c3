"""The one group-commit writer: answers only after commit, a failed commit acknowledges
nothing, a poison item fails alone, shared parts are flushed once per group, and the thread
ends when idle or stopped."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from sqlalchemy import Connection, event, insert, select

from wefirst.errors import NotFound
from wefirst.store.db import Database
from wefirst.store.groupcommit import OPTIMISTIC, Contended, GroupCommit, Tx
from wefirst.store.tables_shared import pseudonym_salts

from waiting import PATIENCE


def _put(day: str) -> Callable[[Tx], str]:
    def work(tx: Tx) -> str:
        tx.writing()
        tx.conn.execute(insert(pseudonym_salts).values(day=day, salt=b"s" * 32))
        return day

    return work


def _days(db: Database) -> list[str]:
    with db.read() as conn:
        return sorted(conn.execute(select(pseudonym_salts.c.day)).scalars())


def _outcome(future: Future[Any]) -> object:
    try:
        return future.result(10)
    except Exception as exc:
        return exc


class _Gate:
    """A first item that holds the writer until the others are queued, so they land in one
    group (the thread takes everything waiting when it starts a group)."""

    def __init__(self, writer: GroupCommit) -> None:
        self.open = threading.Event()
        self.entered = threading.Event()
        self.future = writer.enqueue(self._hold)

    def _hold(self, tx: Tx) -> str:
        self.entered.set()
        self.open.wait(PATIENCE)
        return "gate"


def _one_group(writer: GroupCommit, works: list[Callable[[Tx], Any]]) -> list[object]:
    gate = _Gate(writer)
    assert gate.entered.wait(PATIENCE)
    futures = [writer.enqueue(w) for w in works]
    gate.open.set()
    gate.future.result(10)
    return [_outcome(f) for f in futures]


@pytest.fixture
def writer(db: Database) -> Iterator[GroupCommit]:
    w = GroupCommit(db, idle_seconds=0.2)
    yield w
    w.stop()


def test_nobody_is_answered_before_the_commit(db: Database, writer: GroupCommit) -> None:
    hold = threading.Event()
    inside = threading.Event()

    def slow(tx: Tx) -> str:
        inside.set()
        hold.wait(PATIENCE)
        return "slow"

    gate = _Gate(writer)
    assert gate.entered.wait(PATIENCE)
    first = writer.enqueue(_put("2026-05-01"))
    second = writer.enqueue(slow)
    gate.open.set()
    assert inside.wait(PATIENCE)
    # the first item's work is done and its row written, but the group is not committed
    assert not first.done()
    assert _days(db) == []
    hold.set()
    assert first.result(10) == "2026-05-01"
    assert second.result(10) == "slow"
    assert _days(db) == ["2026-05-01"]


def test_a_failed_commit_acknowledges_nothing(db: Database, writer: GroupCommit) -> None:
    """The disk (or the server) refuses the commit: every caller of the group gets the error
    and none of the group's rows is stored; the writer goes on with a fresh connection."""

    def refuse(conn: Connection) -> None:
        if conn.info.pop("refuse_commit", False):
            raise OSError("disk full")

    def doomed(tx: Tx) -> str:
        tx.conn.info["refuse_commit"] = True
        return "doomed"

    event.listen(db.writer_engine, "commit", refuse)
    try:
        got = _one_group(writer, [_put("2026-06-01"), doomed, _put("2026-06-02")])
    finally:
        event.remove(db.writer_engine, "commit", refuse)
    assert all(isinstance(g, OSError) for g in got), got
    assert _days(db) == []
    assert writer.submit(_put("2026-06-09")) == "2026-06-09"
    assert _days(db) == ["2026-06-09"]


def test_a_refusal_before_writing_fails_alone_in_the_group(db: Database, writer: GroupCommit) -> None:
    def refused(tx: Tx) -> str:
        raise NotFound("campaign cmp_x does not exist")

    got = _one_group(writer, [_put("2026-01-01"), refused, _put("2026-01-02")])
    assert got[0] == "2026-01-01"
    assert isinstance(got[1], NotFound)
    assert got[2] == "2026-01-02"
    assert _days(db) == ["2026-01-01", "2026-01-02"]


def test_a_poison_item_after_writing_fails_alone_and_leaves_nothing(
    db: Database, writer: GroupCommit
) -> None:
    def broken(tx: Tx) -> str:
        tx.writing()
        tx.conn.execute(insert(pseudonym_salts).values(day="2026-02-09", salt=b"x" * 32))
        raise RuntimeError("bug after a write")

    got = _one_group(writer, [_put("2026-02-01"), broken, _put("2026-02-02")])
    assert got[0] == "2026-02-01"
    assert isinstance(got[1], RuntimeError)
    assert got[2] == "2026-02-02"
    assert _days(db) == ["2026-02-01", "2026-02-02"]  # nothing of the broken item is left


def test_a_database_error_fails_its_item_only(db: Database, writer: GroupCommit) -> None:
    assert writer.submit(_put("2026-03-01")) == "2026-03-01"
    got = _one_group(writer, [_put("2026-03-02"), _put("2026-03-01"), _put("2026-03-03")])
    assert got[0] == "2026-03-02"
    assert got[2] == "2026-03-03"
    assert not isinstance(got[1], str)  # the duplicate key (PostgreSQL aborts the transaction)
    assert _days(db) == ["2026-03-01", "2026-03-02", "2026-03-03"]


class _Days:
    """A shared part: the group's days written with one multi-row INSERT before the commit."""

    made = 0

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.days: list[str] = []
        _Days.made += 1

    def flush(self) -> None:
        if self.days:
            self.conn.execute(insert(pseudonym_salts), [{"day": d, "salt": b"p" * 32} for d in self.days])


def _add(day: str) -> Callable[[Tx], str]:
    def work(tx: Tx) -> str:
        tx.part(_Days).days.append(day)
        return day

    return work


def test_a_shared_part_is_made_once_and_flushed_before_the_commit(db: Database, writer: GroupCommit) -> None:
    _Days.made = 0
    got = _one_group(writer, [_add("2026-07-01"), _add("2026-07-02"), _add("2026-07-03")])
    assert got == ["2026-07-01", "2026-07-02", "2026-07-03"]
    assert _Days.made == 1
    assert _days(db) == ["2026-07-01", "2026-07-02", "2026-07-03"]


def test_a_failing_part_flush_retries_each_item_alone(db: Database, writer: GroupCommit) -> None:
    """A duplicate inside the shared multi-row INSERT fails the whole flush; alone, only the
    duplicate fails."""
    assert writer.submit(_put("2026-08-02")) == "2026-08-02"
    _Days.made = 0
    got = _one_group(writer, [_add("2026-08-01"), _add("2026-08-02"), _add("2026-08-03")])
    assert got[0] == "2026-08-01"
    assert not isinstance(got[1], str)
    assert got[2] == "2026-08-03"
    assert _Days.made == 4  # once for the group, then once per item alone
    assert _days(db) == ["2026-08-01", "2026-08-02", "2026-08-03"]


def test_the_thread_stops_when_idle_and_comes_back(db: Database) -> None:
    writer = GroupCommit(db, idle_seconds=0.05)
    assert writer.submit(_put("2026-04-01")) == "2026-04-01"
    thread = writer._thread
    assert thread is not None
    thread.join(10)
    assert not thread.is_alive()
    assert not writer.running
    assert writer.submit(_put("2026-04-02")) == "2026-04-02"
    writer.stop()


def test_stop_applies_what_is_queued_then_ends_the_thread(db: Database) -> None:
    writer = GroupCommit(db, idle_seconds=60)  # only `stop` can end it quickly
    gate = _Gate(writer)
    assert gate.entered.wait(PATIENCE)
    futures = [writer.enqueue(_put(f"2026-09-0{i}")) for i in range(1, 4)]
    thread = writer._thread
    assert thread is not None
    stopper = threading.Thread(target=writer.stop)
    stopper.start()
    gate.open.set()
    stopper.join(10)
    assert not thread.is_alive()
    assert [f.result(0) for f in futures] == ["2026-09-01", "2026-09-02", "2026-09-03"]
    assert _days(db) == ["2026-09-01", "2026-09-02", "2026-09-03"]


def test_many_threads_at_once_share_groups(db: Database, writer: GroupCommit) -> None:
    results: list[str] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        got = writer.submit(_put(f"2027-01-{i:02d}"))
        with lock:
            results.append(got)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(1, 21)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == _days(db)
    assert len(results) == 20
    assert writer.items == 20
    assert writer.groups <= writer.items


def test_after_a_contended_attempt_groups_take_their_locks_first_for_a_while(db: Database) -> None:
    """Two processes writing one campaign: each optimistic attempt waited for the other's
    commit and then ran again, so after a contended attempt the writer stops being optimistic
    for `contended_seconds` (a fake clock here), then tries optimism again."""
    now = [100.0]
    writer = GroupCommit(db, idle_seconds=0.2, contended_seconds=1.0, clock=lambda: now[0])
    seen: list[bool] = []

    def work(contend: bool) -> Callable[[Tx], bool]:
        def run(tx: Tx) -> bool:
            optimistic = bool(tx.conn.info[OPTIMISTIC])
            seen.append(optimistic)
            tx.writing()
            if contend and optimistic:
                raise Contended("the counter moved")
            return optimistic

        return run

    try:
        assert writer.submit(work(contend=True)) is False  # applied again with its locks first
        assert writer.contended == 1
        assert writer.submit(work(contend=False)) is False  # still within the second
        now[0] += 1.0
        assert writer.submit(work(contend=False)) is True  # optimistic again
    finally:
        writer.stop()
    assert seen == [True, False, False, True]
