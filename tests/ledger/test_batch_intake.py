"""Bulk intake through one Batch gives the same answers as one request at a time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from wefirst.errors import Conflict
from wefirst.ingest.idempotency import Pending, apply_once
from wefirst.ledger.balances import campaign_balance
from wefirst.pledges import engine
from wefirst.pledges.batch import Batch
from wefirst.pledges.model import LineIn, PurchaseIn, RefundIn, RefundLineIn
from wefirst.store.db import Database

from factories import make_beneficiary, make_brand, make_campaign

WHEN = datetime(2026, 3, 14, 10, tzinfo=UTC)


def order(order_id: str, qty: int = 1) -> PurchaseIn:
    return PurchaseIn(order_id, "EUR", WHEN, [LineIn("PAMPERS-1", qty, 100, "1")])


def test_batch_dedupes_within_and_across_batches(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id, caps={"total_units": 10})
    with db.write() as conn:
        engine.apply_purchase(conn, brand_id=brand.id, purchase=order("A", 2))
    with db.write() as conn:
        batch = Batch(conn)
        purchases = [order("A", 2), order("B", 3), order("B", 3), order("C", 9)]
        batch.prefetch_purchases(brand.id, purchases)
        outcomes = [
            engine.apply_purchase(conn, brand_id=brand.id, purchase=p, batch=batch)[0] for p in purchases
        ]
        # a refund inside the same batch sees the buffered pledge of B
        refund = engine.apply_refund(
            conn,
            brand_id=brand.id,
            now=WHEN,
            batch=batch,
            refund=RefundIn("B", "R1", [RefundLineIn("1", 1)]),
        )
        batch.flush()
    assert [o.outcome for o in outcomes] == ["duplicate", "pledged", "duplicate", "pledged"]
    assert outcomes[3].capped
    assert outcomes[3].units == 5  # 10 - 2 (A) - 3 (B)
    assert refund[0].units == 1
    with db.read() as conn:
        bal = campaign_balance(conn, cid)
    assert bal is not None
    assert bal.pledged_units == 9


def test_pending_idempotency_replays_and_conflicts_inside_a_batch(db: Database) -> None:
    calls: list[int] = []

    def work(_conn: object) -> tuple[int, dict[str, int]]:
        calls.append(1)
        return 200, {"n": len(calls)}

    with db.write() as conn:
        pending = Pending()
        pending.prefetch(conn, "s", ["k1"])
        first = apply_once(conn, scope="s", key="k1", fingerprint="f", work=work, pending=pending)
        again = apply_once(conn, scope="s", key="k1", fingerprint="f", work=work, pending=pending)
        with pytest.raises(Conflict):
            apply_once(conn, scope="s", key="k1", fingerprint="other", work=work, pending=pending)
        pending.flush(conn)
    assert (first.body, again.body, again.replayed, len(calls)) == ({"n": 1}, {"n": 1}, True, 1)
    with db.write() as conn:
        later = apply_once(conn, scope="s", key="k1", fingerprint="f", work=work)
    assert later.replayed
    assert len(calls) == 1
