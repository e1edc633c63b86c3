"""POST /v1/purchases/batch: each order answers as if sent alone with its own key; bad input
(an invalid order, too many orders, a key twice) is refused whole and changes nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from wefirst.api.purchases_batch import MAX_ORDERS
from wefirst.store.db import Database
from wefirst.store.tables_core import idempotency_records, pledges

from factories import Tenant, auth, make_beneficiary, make_brand, make_campaign, purchase


def _order(key: str, order_id: str, qty: int = 1, **extra: Any) -> dict[str, Any]:
    return {"idempotency_key": key, **purchase(order_id, ("PAMPERS-1", qty, 100), **extra)}


def _stored(db: Database) -> tuple[int, int]:
    with db.read() as conn:
        n_pledges = conn.execute(select(func.count()).select_from(pledges)).scalar_one()
        n_keys = conn.execute(select(func.count()).select_from(idempotency_records)).scalar_one()
    return int(n_pledges), int(n_keys)


def _setup(client: TestClient, db: Database, admin_key: str) -> tuple[Tenant, str]:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    return brand, make_campaign(client, brand, ben.id)


def test_each_order_answers_alone_and_replays(client: TestClient, db: Database, admin_key: str) -> None:
    brand, _ = _setup(client, db, admin_key)
    orders = [_order(f"k-{i}", f"o-{i}", qty=i + 1) for i in range(3)]
    r = client.post("/v1/purchases/batch", json={"orders": orders}, headers=auth(brand.key))
    assert r.status_code == 200, r.text
    body = r.json()
    assert [a["index"] for a in body["results"]] == [0, 1, 2]
    assert [a["result"]["results"][0]["units"] for a in body["results"]] == [1, 2, 3]
    assert all(a["status"] == 200 and a["replayed"] is False for a in body["results"])
    assert _stored(db) == (3, 3)

    # the same batch again, with one new order: the three replay, the new one pledges
    again = client.post(
        "/v1/purchases/batch", json={"orders": [*orders, _order("k-3", "o-3")]}, headers=auth(brand.key)
    ).json()
    assert [a["replayed"] for a in again["results"]] == [True, True, True, False]

    def pledge_ids(answers: list[dict[str, Any]]) -> list[str]:
        return [a["result"]["results"][0]["pledge_id"] for a in answers]

    assert pledge_ids(again["results"][:3]) == pledge_ids(body["results"])  # receipts' secrets are shown once
    assert _stored(db) == (4, 4)

    # a key reused with another order is that order's conflict; the others go through
    mixed = client.post(
        "/v1/purchases/batch",
        json={"orders": [_order("k-0", "other-order"), _order("k-4", "o-4")]},
        headers=auth(brand.key),
    ).json()
    assert [a["status"] for a in mixed["results"]] == [409, 200]
    assert mixed["results"][0]["problem"]["status"] == 409
    assert _stored(db) == (5, 5)


def test_another_brands_campaign_is_refused_for_that_order_only(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, _ = _setup(client, db, admin_key)
    _other, other_cid = _setup(client, db, admin_key)
    r = client.post(
        "/v1/purchases/batch",
        json={"orders": [_order("a", "o-a", campaign_id=other_cid), _order("b", "o-b")]},
        headers=auth(brand.key),
    )
    assert r.status_code == 200
    first, second = r.json()["results"]
    assert first["status"] == 404
    assert first["problem"]["status"] == 404
    assert "result" not in first
    assert second["status"] == 200
    with db.read() as conn:
        in_other = conn.execute(
            select(func.count()).select_from(pledges).where(pledges.c.campaign_id == other_cid)
        ).scalar_one()
    assert in_other == 0
    assert _stored(db) == (1, 1)  # the refused order left no idempotency record either


def test_only_a_brand_key_sends_a_batch(client: TestClient, db: Database, admin_key: str) -> None:
    _setup(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key, "Other NGO")
    body = {"orders": [_order("a", "o-a")]}
    assert client.post("/v1/purchases/batch", json=body).status_code == 401
    assert client.post("/v1/purchases/batch", json=body, headers=auth(ben.key)).status_code == 403
    assert client.post("/v1/purchases/batch", json=body, headers=auth(admin_key)).status_code in (403, 422)
    assert _stored(db) == (0, 0)


def test_bad_input_is_refused_whole_naming_the_order(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, _ = _setup(client, db, admin_key)

    def refused(orders: list[dict[str, Any]]) -> set[str]:
        r = client.post("/v1/purchases/batch", json={"orders": orders}, headers=auth(brand.key))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        return {e["field"] for e in r.json()["errors"]}

    good = [_order(f"k-{i}", f"o-{i}") for i in range(3)]
    bad_quantity = [*good, _order("k-9", "o-9", qty=0)]
    assert refused(bad_quantity) == {"orders[3].lines[0].quantity"}
    assert refused([*good, _order("k-1", "o-other")]) == {"orders[3].idempotency_key"}
    no_key = [*good, purchase("o-x", ("PAMPERS-1", 1, 100))]
    assert refused(no_key) == {"orders[3].idempotency_key"}
    assert refused([_order(f"k-{i}", f"o-{i}") for i in range(MAX_ORDERS + 1)]) == {"orders"}
    assert refused([]) == {"orders"}
    assert _stored(db) == (0, 0)
