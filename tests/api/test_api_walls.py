"""Tenants are walls: each key sees and changes only its own data."""

from __future__ import annotations

from fastapi.testclient import TestClient

from wefirst.auth.keys import create_key
from wefirst.store.db import Database

from factories import auth, campaign_body, make_beneficiary, make_brand, make_campaign, purchase


def test_brand_keys_cannot_cross_walls(client: TestClient, db: Database, admin_key: str) -> None:
    a = make_brand(client, db, admin_key, "Brand A")
    b = make_brand(client, db, admin_key, "Brand B")
    ben = make_beneficiary(client, db, admin_key)
    other_ben = make_beneficiary(client, db, admin_key, "Other NGO")
    cid = make_campaign(client, a, ben.id)
    draft = make_campaign(client, a, ben.id, status="draft")

    # B cannot read A's brand record, nor change A's campaign, nor report A's payments
    assert client.get(f"/v1/brands/{a.id}", headers=auth(b.key)).status_code == 403
    assert (
        client.patch(f"/v1/campaigns/{cid}", json={"name": "mine now"}, headers=auth(b.key)).status_code
        == 403
    )
    assert (
        client.post(f"/v1/campaigns/{cid}/status", json={"status": "paused"}, headers=auth(b.key)).status_code
        == 403
    )
    r = client.post(
        f"/v1/campaigns/{cid}/settlements",
        json={
            "amount": {"amount": 1, "currency": "EUR"},
            "external_reference": "x",
            "paid_at": "2026-03-01T00:00:00Z",
        },
        headers=auth(b.key),
    )
    assert r.status_code == 403
    # A's draft is invisible to B and to the public: 404, not 403, so it is not even confirmed
    assert client.get(f"/v1/campaigns/{draft}", headers=auth(b.key)).status_code == 404
    assert client.get(f"/v1/campaigns/{draft}").status_code == 404
    assert client.get(f"/v1/campaigns/{draft}", headers=auth(a.key)).status_code == 200
    listed = client.get("/v1/campaigns", headers=auth(b.key)).json()["data"]
    assert listed == []
    # B's purchase of A's SKUs pledges nothing to A's campaign
    r = client.post("/v1/purchases", json=purchase("B-1", ("PAMPERS-S3", 1, 100)), headers=auth(b.key))
    assert r.json()["results"][0]["outcome"] == "no_rule"
    r = client.post(
        "/v1/purchases", json=purchase("B-2", ("PAMPERS-S3", 1, 100), campaign_id=cid), headers=auth(b.key)
    )
    assert r.status_code == 404
    # a brand key cannot create brands or keys; a campaign for another brand is refused
    assert client.post("/v1/brands", json={"name": "x"}, headers=auth(a.key)).status_code == 403
    assert client.post("/v1/keys", json={"role": "admin"}, headers=auth(a.key)).status_code == 403
    r = client.post(f"/v1/campaigns?brand_id={b.id}", json=campaign_body(ben.id), headers=auth(a.key))
    assert r.status_code == 422

    # only the campaign's own beneficiary confirms its payments
    r = client.post(
        f"/v1/campaigns/{cid}/settlements",
        json={
            "amount": {"amount": 10, "currency": "EUR"},
            "external_reference": "x",
            "paid_at": "2026-03-01T00:00:00Z",
            "beyond_owed_reason": "an advance (this campaign owes less so far)",
        },
        headers=auth(a.key),
    )
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert (
        client.post(f"/v1/settlements/{sid}/confirm", json={}, headers=auth(other_ben.key)).status_code == 403
    )
    assert (
        client.post(
            f"/v1/campaigns/{cid}/deliveries",
            json={
                "units": 1,
                "period_start": "2026-03-01",
                "period_end": "2026-03-02",
                "evidence_url": "https://x.example/r",
            },
            headers=auth(other_ben.key),
        ).status_code
        == 403
    )
    assert client.post(f"/v1/settlements/{sid}/confirm", json={}, headers=auth(ben.key)).status_code == 200


def test_keys_are_checked_and_revocable(client: TestClient, db: Database, admin_key: str) -> None:
    assert client.post("/v1/brands", json={"name": "x"}).status_code == 401
    bad = client.post("/v1/brands", json={"name": "x"}, headers=auth("sk_live_admin_nope"))
    assert bad.status_code == 401
    assert bad.json()["title"] == "Unauthorized"
    assert (
        client.post("/v1/brands", json={"name": "x"}, headers={"Authorization": "Basic abc"}).status_code
        == 401
    )
    r = client.post("/v1/keys", json={"role": "admin", "label": "ops"}, headers=auth(admin_key))
    assert r.status_code == 201
    new = r.json()
    assert new["secret"].startswith("sk_live_admin_")
    assert client.get("/v1/brands", headers=auth(new["secret"])).status_code == 200
    assert client.post(f"/v1/keys/{new['id']}/revoke", headers=auth(admin_key)).status_code == 200
    assert client.get("/v1/brands", headers=auth(new["secret"])).status_code == 401
    # a brand key needs an existing owner
    assert (
        client.post(
            "/v1/keys", json={"role": "brand", "owner_id": "brd_missing"}, headers=auth(admin_key)
        ).status_code
        == 404
    )


def test_test_mode_data_never_mixes_with_live(client: TestClient, db: Database) -> None:
    with db.write() as conn:
        test_admin, _ = create_key(conn, "admin", livemode=False)
    r = client.post("/v1/brands", json={"name": "Sandbox"}, headers=auth(test_admin))
    assert r.json()["livemode"] is False
    with db.write() as conn:
        key, _ = create_key(conn, "brand", r.json()["id"])
    assert key.startswith("sk_test_brand_")
