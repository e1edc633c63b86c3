"""The brand team's story from the foundation issue, end to end through the HTTP API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from wefirst.ingest.idempotency import replayable
from wefirst.store.db import Database

from factories import auth, delivery, make_beneficiary, make_brand, make_campaign, payment, purchase


def test_pledge_cap_refund_settle_deliver(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id, caps={"total_units": 5})

    r = client.post(
        "/v1/purchases",
        json=purchase("A-1", ("PAMPERS-S3", 2, 2499), ("ARIEL-30", 1, 999)),
        headers=auth(brand.key) | {"Idempotency-Key": "p1"},
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    pledged = [x for x in results if x["outcome"] == "pledged"]
    assert [x["units"] for x in pledged] == [2]
    assert pledged[0]["money"] == {"amount": 60, "currency": "EUR"}
    assert pledged[0]["receipt"]["secret"].startswith("rcpt_")
    assert {x["outcome"] for x in results} == {"pledged", "no_rule"}

    # a replay returns the original answer (receipt secrets are shown once) and changes nothing
    again = client.post(
        "/v1/purchases",
        json=purchase("A-1", ("PAMPERS-S3", 2, 2499), ("ARIEL-30", 1, 999)),
        headers=auth(brand.key) | {"Idempotency-Key": "p1"},
    )
    assert again.json() == replayable(r.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    # the same key with another body is a conflict
    other = client.post(
        "/v1/purchases",
        json=purchase("A-2", ("PAMPERS-S3", 1, 2499)),
        headers=auth(brand.key) | {"Idempotency-Key": "p1"},
    )
    assert other.status_code == 409
    assert other.headers["content-type"].startswith("application/problem+json")
    # the same order without a key is a business-level duplicate
    dup = client.post("/v1/purchases", json=purchase("A-1", ("PAMPERS-S3", 2, 2499)), headers=auth(brand.key))
    assert dup.json()["results"][0]["outcome"] == "duplicate"

    # the cap: 5 units in all, so 4 of these 4 + 2 cannot all count
    r = client.post("/v1/purchases", json=purchase("A-3", ("PAMPERS-S4", 4, 2499)), headers=auth(brand.key))
    line = r.json()["results"][0]
    assert (line["outcome"], line["units"], line["capped"]) == ("pledged", 3, True)
    r = client.post("/v1/purchases", json=purchase("A-4", ("PAMPERS-S4", 1, 2499)), headers=auth(brand.key))
    assert r.json()["results"][0]["outcome"] == "over_cap"

    # refund one pack of A-1
    r = client.post(
        "/v1/refunds",
        json={"order_id": "A-1", "refund_id": "R1", "lines": [{"line_id": "1", "quantity": 1}]},
        headers=auth(brand.key),
    )
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["units"] == 1
    # the same refund again reverses nothing more
    r = client.post(
        "/v1/refunds",
        json={"order_id": "A-1", "refund_id": "R1", "lines": [{"line_id": "1", "quantity": 1}]},
        headers=auth(brand.key),
    )
    assert r.json()["results"][0]["outcome"] == "duplicate"

    bal = client.get(f"/v1/campaigns/{cid}/balance").json()
    assert bal["pledged"] == {"units": 4, "money": {"amount": 120, "currency": "EUR"}}

    # payment reported by the brand, confirmed by the beneficiary
    paid = payment(100, "SEPA-2026-0001")
    r = client.post(f"/v1/campaigns/{cid}/settlements", json=paid, headers=auth(brand.key))
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert client.post(f"/v1/settlements/{sid}/confirm", json={}, headers=auth(brand.key)).status_code == 403
    r = client.post(f"/v1/settlements/{sid}/confirm", json={"note": "received"}, headers=auth(ben.key))
    assert r.status_code == 200
    assert r.json()["status"] == "confirmed"
    assert client.post(f"/v1/settlements/{sid}/dispute", json={}, headers=auth(ben.key)).status_code == 409

    march = delivery(3, "https://ngo.example/reports/march")
    r = client.post(f"/v1/campaigns/{cid}/deliveries", json=march, headers=auth(ben.key))
    assert r.status_code == 201, r.text

    bal = client.get(f"/v1/campaigns/{cid}/balance").json()
    assert bal["paid_reported"]["amount"] == 100
    assert bal["paid_confirmed"]["amount"] == 100
    assert bal["delivered"] == {"units": 3, "beyond_pledges_units": 0}
    assert bal["gaps"]["unpaid"]["amount"] == 20
    assert bal["gaps"]["undelivered_units"] == 1
