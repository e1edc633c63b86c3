"""The pledge engine's four guarantees, through the engine itself (the domain's properties are
in tests/domain; the HTTP story and multi-process caps in tests/api)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from wefirst.ledger.balances import campaign_balance
from wefirst.pledges import engine
from wefirst.pledges.batch import Batch
from wefirst.pledges.model import EventOutcome, LineIn, PurchaseIn, RefundIn, RefundLineIn
from wefirst.store.db import Database

from factories import Tenant, make_beneficiary, make_brand, make_campaign

WHEN = datetime(2026, 3, 14, 10, tzinfo=UTC)


def _order(order_id: str, qty: int = 1, when: datetime = WHEN, sku: str = "PAMPERS-1") -> PurchaseIn:
    """A purchase received when it says it happened (day caps count the received day)."""
    return PurchaseIn(order_id, "EUR", when, [LineIn(sku, qty, 100, "1")], received_at=when)


def _buy(db: Database, brand: Tenant, p: PurchaseIn) -> EventOutcome:
    with db.write() as conn:
        return engine.apply_purchase(conn, brand_id=brand.id, purchase=p)[0]


def _pledged_units(db: Database, cid: str) -> int:
    with db.read() as conn:
        bal = campaign_balance(conn, cid)
    assert bal is not None
    return bal.pledged_units


def _setup(client: TestClient, db: Database, admin_key: str, **campaign: object) -> tuple[Tenant, str]:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    return brand, make_campaign(client, brand, ben.id, **campaign)


def test_a_line_key_pledges_once_in_a_batch_across_transactions_and_under_races(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, cid = _setup(client, db, admin_key)
    with db.write() as conn:
        batch = Batch(conn)
        inside = [
            engine.apply_purchase(conn, brand_id=brand.id, purchase=_order("A", 2), batch=batch)[0]
            for _ in range(2)
        ]
        batch.flush()
    assert [o.outcome for o in inside] == ["pledged", "duplicate"]
    assert _buy(db, brand, _order("A", 2)).outcome == "duplicate"

    outcomes: list[str] = []
    lock = threading.Lock()

    def send() -> None:
        got = _buy(db, brand, _order("B", 3))
        with lock:
            outcomes.append(got.outcome)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["duplicate"] * 5 + ["pledged"]
    assert _pledged_units(db, cid) == 5


def test_caps_hold_inside_one_batch(client: TestClient, db: Database, admin_key: str) -> None:
    brand, cid = _setup(client, db, admin_key, caps={"total_units": 5, "units_per_day": 3})
    day2 = WHEN + timedelta(days=1)
    with db.write() as conn:
        batch = Batch(conn)
        got = [
            engine.apply_purchase(conn, brand_id=brand.id, purchase=p, batch=batch)[0]
            for p in [
                _order("A", 2),
                _order("B", 2),
                _order("C", 1),
                _order("D", 3, day2),
                _order("E", 1, day2),
            ]
        ]
        batch.flush()
    assert [(o.outcome, o.units, o.capped) for o in got] == [
        ("pledged", 2, False),
        ("pledged", 1, True),  # the day cap: 3 a day
        ("over_cap", 0, False),
        ("pledged", 2, True),  # the total cap: 5 in all
        ("over_cap", 0, False),
    ]
    assert _pledged_units(db, cid) == 5


def test_remainders_carry_across_events(client: TestClient, db: Database, admin_key: str) -> None:
    """A matching partner adds 50 %: each pack is 1.5 vaccines. Four separate orders of one
    pack pledge 1, 2, 1, 2 — never 1, 1, 1, 1 (which would lose two vaccines for good)."""
    brand, cid = _setup(client, db, admin_key, match_bps=5_000)
    got = [_buy(db, brand, _order(f"O{i}")).units for i in range(4)]
    assert got == [1, 2, 1, 2]
    assert _pledged_units(db, cid) == 6


def test_refunds_never_reverse_more_than_was_counted(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, cid = _setup(client, db, admin_key, match_bps=5_000)
    pledged = _buy(db, brand, _order("A", 3))
    assert pledged.units == 4  # 4.5, the half carried

    def refund(refund_id: str, qty: int) -> tuple[str, int]:
        with db.write() as conn:
            [r] = engine.apply_refund(
                conn, brand_id=brand.id, now=WHEN, refund=RefundIn("A", refund_id, [RefundLineIn("1", qty)])
            )
        return r.outcome, r.units

    assert refund("R1", 2) == ("reversed", 2)  # floor(4 * 2 / 3)
    assert refund("R2", 2) == ("reversed", 2)  # only one item was left: the rest of the 4
    assert refund("R3", 1) == ("nothing_to_reverse", 0)
    assert refund("R1", 2) == ("duplicate", 0)
    assert _pledged_units(db, cid) == 0
