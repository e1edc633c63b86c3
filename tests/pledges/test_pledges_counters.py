"""Campaign counters in a group-commit writer (issue 18): read without a lock, written last with
a compare-and-set on their version, and applied again with the lock taken first when another
transaction counted in between, so two PostgreSQL workers stop queueing on the row without a
cap ever being overshot. The row-lock tests need PostgreSQL (on SQLite `BEGIN IMMEDIATE`
already serialises every writer); the outcomes are checked on both."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from wefirst.ledger.balances import campaign_balance
from wefirst.pledges import engine
from wefirst.pledges.batch import Batch
from wefirst.pledges.model import EventOutcome, LineIn, PurchaseIn
from wefirst.store.db import Database
from wefirst.store.groupcommit import GroupCommit, Tx
from wefirst.store.tables_core import campaign_counters

from factories import Tenant, make_beneficiary, make_brand, make_campaign
from waiting import PATIENCE
from writer_statements import writer_statements

WHEN = datetime(2026, 3, 14, 10, tzinfo=UTC)


def _order(order_id: str) -> PurchaseIn:
    return PurchaseIn(order_id, "EUR", WHEN, [LineIn("PAMPERS-1", 1, 100, "1")], received_at=WHEN)


def _setup(client: TestClient, db: Database, admin_key: str, **campaign: object) -> tuple[Tenant, str]:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    return brand, make_campaign(client, brand, ben.id, **campaign)


def _pledged_units(db: Database, cid: str) -> int:
    with db.read() as conn:
        bal = campaign_balance(conn, cid)
    assert bal is not None
    return bal.pledged_units


@pytest.fixture
def writer(db: Database) -> Iterator[GroupCommit]:
    w = GroupCommit(db, idle_seconds=0.2)
    yield w
    w.stop()


class _Paused:
    """A purchase applied by the writer that stops after the engine ran (its counters read,
    nothing flushed yet) until the test lets it go on."""

    def __init__(self, brand: Tenant, order: PurchaseIn) -> None:
        self.inside = threading.Event()
        self.go_on = threading.Event()
        self.brand, self.order = brand, order

    def __call__(self, tx: Tx) -> EventOutcome:
        out = engine.apply_purchase(
            tx.conn, brand_id=self.brand.id, purchase=self.order, batch=tx.part(Batch)
        )
        if not self.inside.is_set():  # the first attempt only; a retry runs straight through
            self.inside.set()
            self.go_on.wait(PATIENCE)
        return out[0]


def _in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    got: list[Any] = []

    def run() -> None:
        try:
            got.append(fn())
        except Exception as exc:  # reported by the assertion on `got`
            got.append(exc)

    t = threading.Thread(target=run)
    t.start()
    return t, got


def test_a_group_holds_no_counter_lock_while_it_works(
    client: TestClient, db: Database, admin_key: str, writer: GroupCommit
) -> None:
    if db.is_sqlite:
        pytest.skip("row locks: SQLite serialises writers with BEGIN IMMEDIATE")
    brand, cid = _setup(client, db, admin_key)
    paused = _Paused(brand, _order("A"))
    future = writer.enqueue(paused)
    assert paused.inside.wait(PATIENCE)
    try:
        with db.write() as conn:  # was blocked: SELECT … FOR UPDATE held the row all along
            conn.execute(text("SET LOCAL lock_timeout = '2s'"))
            conn.execute(
                select(campaign_counters).where(campaign_counters.c.campaign_id == cid).with_for_update()
            )
    finally:
        paused.go_on.set()
    assert future.result(PATIENCE).outcome == "pledged"
    assert _pledged_units(db, cid) == 1


def test_a_counter_that_moved_meanwhile_sends_the_group_round_again_and_the_cap_holds(
    client: TestClient, db: Database, admin_key: str, writer: GroupCommit
) -> None:
    if db.is_sqlite:
        pytest.skip("a concurrent writer needs PostgreSQL: SQLite's waits for the group's commit")
    brand, cid = _setup(client, db, admin_key, caps={"total_units": 1})
    paused = _Paused(brand, _order("A"))
    future = writer.enqueue(paused)
    assert paused.inside.wait(PATIENCE)  # A read the room left: one unit

    def other() -> EventOutcome:
        with db.write() as conn:  # takes the last unit while A is still working
            return engine.apply_purchase(conn, brand_id=brand.id, purchase=_order("B"))[0]

    thread, got = _in_thread(other)
    thread.join(PATIENCE / 4)
    paused.go_on.set()
    thread.join(PATIENCE)
    assert [o.outcome for o in got] == ["pledged"]  # not blocked behind A's lock
    assert future.result(PATIENCE).outcome == "over_cap"  # A counted again, against the new room
    assert writer.contended == 1
    assert _pledged_units(db, cid) == 1


def test_the_counter_write_is_the_last_statement_of_a_group(
    client: TestClient, db: Database, admin_key: str, writer: GroupCommit
) -> None:
    """The lock a compare-and-set takes lasts one statement: nothing is written after it."""
    brand, _cid = _setup(client, db, admin_key, caps={"units_per_day": 50})
    with writer_statements(db, writer) as seen:
        order = _order("C")
        out = writer.submit(
            lambda tx: engine.apply_purchase(tx.conn, brand_id=brand.id, purchase=order, batch=tx.part(Batch))
        )
    assert out[0].outcome == "pledged"
    writes = [s for s in seen if not s.upper().startswith(("SELECT", "BEGIN"))]
    if db.is_sqlite:  # the database's lock is held from BEGIN IMMEDIATE anyway: two statements
        assert writes[-2].startswith("UPDATE campaign_counters"), writes
        assert writes[-1].startswith("INSERT INTO campaign_day_units"), writes
    else:  # one statement takes both row locks, right before the commit; the group's rows
        # (ledger, pledge, log entry) go in with it: the group writes in one statement
        assert len(writes) == 1, writes
        assert "c AS ( UPDATE campaign_counters" in writes[-1], writes
        assert "INSERT INTO campaign_day_units" in writes[-1], writes
        assert "INSERT INTO pledges" in writes[-1], writes
