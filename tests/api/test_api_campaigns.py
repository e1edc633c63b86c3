"""Campaign lifecycle: status transitions, versioned changes, disclosures, pagination."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from wefirst.store.db import Database
from wefirst.store.tables_core import pledges

from factories import auth, make_beneficiary, make_brand, make_campaign, purchase, unit


def test_status_transitions(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id, status="draft")
    h = auth(brand.key)
    # drafts pledge nothing
    r = client.post("/v1/purchases", json=purchase("O-1", ("PAMPERS-1", 1, 100)), headers=h)
    assert r.json()["results"][0]["outcome"] == "no_rule"
    assert (
        client.post(f"/v1/campaigns/{cid}/status", json={"status": "active"}, headers=h).json()["status"]
        == "active"
    )
    assert (
        client.post(f"/v1/campaigns/{cid}/status", json={"status": "paused"}, headers=h).json()["status"]
        == "paused"
    )
    r = client.post("/v1/purchases", json=purchase("O-2", ("PAMPERS-1", 1, 100)), headers=h)
    assert r.json()["results"][0]["outcome"] == "inactive"
    assert client.post(f"/v1/campaigns/{cid}/status", json={"status": "ended"}, headers=h).status_code == 200
    r = client.post(f"/v1/campaigns/{cid}/status", json={"status": "active"}, headers=h)
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "status"
    assert client.post(f"/v1/campaigns/{cid}/status", json={"status": "draft"}, headers=h).status_code == 422


def test_outside_the_window_is_inactive(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    make_campaign(client, brand, ben.id)
    r = client.post(
        "/v1/purchases",
        json=purchase("O-1", ("PAMPERS-1", 1, 100), when="2025-06-01T00:00:00Z"),
        headers=auth(brand.key),
    )
    assert r.json()["results"][0]["outcome"] == "inactive"


def test_changes_make_versions_and_pledges_keep_theirs(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id)
    h = auth(brand.key)
    client.post("/v1/purchases", json=purchase("O-1", ("PAMPERS-1", 1, 100)), headers=h)
    r = client.patch(
        f"/v1/campaigns/{cid}", json={"impact_unit": unit(cost=40), "caps": {"units_per_day": 100}}, headers=h
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == 2
    assert body["impact_unit"]["version"] == 2
    assert body["impact_unit"]["cost_per_unit"]["amount"] == 40
    assert body["caps"]["units_per_day"] == 100
    r = client.post("/v1/purchases", json=purchase("O-2", ("PAMPERS-1", 1, 100)), headers=h)
    assert r.json()["results"][0]["money"]["amount"] == 40
    with db.read() as conn:
        versions = sorted(row.impact_unit_version for row in conn.execute(select(pledges)))
    assert versions == [1, 2]
    # a change that would make the campaign invalid is refused whole
    r = client.patch(f"/v1/campaigns/{cid}", json={"ends_at": "2020-01-01T00:00:00Z"}, headers=h)
    assert r.status_code == 422
    assert client.get(f"/v1/campaigns/{cid}").json()["version"] == 2
    assert client.patch(f"/v1/campaigns/{cid}", json={}, headers=h).status_code == 422


def test_disclosure_in_french_and_english(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key, "Doudou")
    ben = make_beneficiary(client, db, admin_key, "Vaccins Sans Frontières")
    cid = make_campaign(
        client,
        brand,
        ben.id,
        caps={"total_units": 1_000_000},
        guaranteed_minimum={"amount": 5_000_000, "currency": "EUR"},
    )
    d = client.get(f"/v1/campaigns/{cid}").json()["disclosure"]
    assert "1 tetanus vaccine" in d["en"]
    assert "1,000,000 tetanus vaccines" in d["en"]
    assert "€50,000.00" in d["en"]
    assert "Vaccins Sans Frontières" in d["en"]
    assert "1 January 2026" in d["en"]
    assert "1 vaccin contre le tétanos" in d["fr"]
    assert "1\u202f000\u202f000 vaccins" in d["fr"] or "1 000 000 vaccins" in d["fr"]
    assert "50\u202f000,00\u00a0€" in d["fr"]
    assert "Bénéficiaire\u00a0: Vaccins Sans Frontières" in d["fr"]


def test_cursor_pagination(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    made = [make_campaign(client, brand, ben.id, name=f"c{i}") for i in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        url = "/v1/campaigns?limit=2" + (f"&starting_after={cursor}" if cursor else "")
        page = client.get(url).json()
        seen += [c["id"] for c in page["data"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert seen == made
    assert client.get("/v1/campaigns?starting_after=cmp_unknown").status_code == 422
    assert client.get("/v1/campaigns?limit=0").status_code == 422
