"""The group-commit writer: answers only after commit, failures stay with their own click."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import insert, select

from wefirst.errors import NotFound
from wefirst.store.db import Database
from wefirst.store.tables_widget import widget_salts
from wefirst.widget.writer import GroupWriter, Tx


def _put(day: str) -> Callable[[Tx], str]:
    def work(tx: Tx) -> str:
        tx.writing()
        tx.conn.execute(insert(widget_salts).values(day=day, salt=b"s" * 32))
        return day

    return work


def _days(db: Database) -> list[str]:
    with db.read() as conn:
        return sorted(conn.execute(select(widget_salts.c.day)).scalars())


def _batch(writer: GroupWriter[str], works: list[Callable[[Tx], str]]) -> list[object]:
    """A first work holds the writer until the others are queued, so they land in one batch."""
    gate = threading.Event()

    def hold(tx: Tx) -> str:
        gate.wait(5)
        return "gate"

    first = writer.enqueue(hold)
    futures = [writer.enqueue(w) for w in works]
    gate.set()
    first.result(10)
    out: list[object] = []
    for f in futures:
        try:
            out.append(f.result(10))
        except Exception as exc:
            out.append(exc)
    return out


def test_results_after_commit_and_refusals_stay_alone(db: Database) -> None:
    writer: GroupWriter[str] = GroupWriter(db, idle_seconds=0.2)

    def refused(tx: Tx) -> str:
        raise NotFound("campaign cmp_x does not exist")

    got = _batch(writer, [_put("2026-01-01"), refused, _put("2026-01-02")])
    assert got[0] == "2026-01-01"
    assert isinstance(got[1], NotFound)
    assert got[2] == "2026-01-02"
    assert _days(db) == ["2026-01-01", "2026-01-02"]
    assert writer.items >= 3


def test_a_failure_after_writing_reruns_the_others_alone(db: Database) -> None:
    writer: GroupWriter[str] = GroupWriter(db, idle_seconds=0.2)

    def broken(tx: Tx) -> str:
        tx.writing()
        tx.conn.execute(insert(widget_salts).values(day="2026-02-09", salt=b"x" * 32))
        raise RuntimeError("bug after a write")

    got = _batch(writer, [_put("2026-02-01"), broken, _put("2026-02-02")])
    assert got[0] == "2026-02-01"
    assert isinstance(got[1], RuntimeError)
    assert got[2] == "2026-02-02"
    assert _days(db) == ["2026-02-01", "2026-02-02"]  # nothing of the broken click is left


def test_a_duplicate_key_fails_its_click_only(db: Database) -> None:
    writer: GroupWriter[str] = GroupWriter(db, idle_seconds=0.2)
    assert writer.submit(_put("2026-03-01")) == "2026-03-01"
    got = _batch(writer, [_put("2026-03-02"), _put("2026-03-01"), _put("2026-03-03")])
    assert got[0] == "2026-03-02"
    assert got[2] == "2026-03-03"
    assert not isinstance(got[1], str)
    assert _days(db) == ["2026-03-01", "2026-03-02", "2026-03-03"]


def test_the_thread_stops_when_idle_and_comes_back(db: Database) -> None:
    writer: GroupWriter[str] = GroupWriter(db, idle_seconds=0.05)
    assert writer.submit(_put("2026-04-01")) == "2026-04-01"
    thread = writer._thread
    assert thread is not None
    thread.join(2)
    assert writer._thread is None
    assert writer.submit(_put("2026-04-02")) == "2026-04-02"


@pytest.mark.parametrize("n", [40])
def test_many_threads_at_once(db: Database, n: int) -> None:
    writer: GroupWriter[str] = GroupWriter(db, idle_seconds=0.2)
    results: list[str] = []

    def client(i: int) -> None:
        results.append(writer.submit(_put(f"2027-01-{i:02d}")))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(1, n // 2 + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(results) == _days(db)
    assert len(results) == n // 2
    assert writer.batches <= writer.items
