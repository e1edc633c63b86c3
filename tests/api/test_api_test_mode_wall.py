"""A test-mode key of a live brand changes nothing live (issue 12: the test/live wall held for
reads and events, not for writes). PATCH, pause and settle are pinned in
test_api_claims_bounds.py; here: creating a campaign, server clicks, the widget's settings and
publisher approvals, and the brand's shop connections."""

from __future__ import annotations

from fastapi.testclient import TestClient

from wefirst.auth.keys import create_key
from wefirst.store.db import Database

from factories import (
    Tenant,
    auth,
    campaign_body,
    make_beneficiary,
    make_brand,
    make_campaign,
    signup_publisher,
)


def _live_brand_with_test_key(client: TestClient, db: Database, admin_key: str) -> tuple[Tenant, str, str]:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id, rules=[{"kind": "per_click", "units_per_click": 1}])
    with db.write() as conn:
        test_key, _ = create_key(conn, "brand", brand.id, livemode=False)
    return brand, cid, test_key


def test_a_test_key_creates_no_live_campaign(client: TestClient, db: Database, admin_key: str) -> None:
    """Before: the campaign took the brand's mode, so a test key started a live promise."""
    brand, cid, test_key = _live_brand_with_test_key(client, db, admin_key)
    ben = client.get(f"/v1/campaigns/{cid}", headers=auth(brand.key)).json()["beneficiary_id"]
    r = client.post("/v1/campaigns", json=campaign_body(ben, name="Sneaky"), headers=auth(test_key))
    # the campaign would be a test one, and a test campaign cannot fund a live beneficiary
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "beneficiary_id"
    listed = client.get("/v1/campaigns", headers=auth(brand.key)).json()["data"]
    assert [c["id"] for c in listed] == [cid]


def test_a_test_key_counts_no_click_on_a_live_campaign(
    client: TestClient, db: Database, admin_key: str
) -> None:
    _brand, cid, test_key = _live_brand_with_test_key(client, db, admin_key)
    answers = [
        client.post(
            "/v1/clicks",
            json={"campaign_id": cid, "visitor": f"test-visitor-{i:06d}"},
            headers=auth(test_key),
        )
        for i in range(5)
    ]
    assert {r.status_code for r in answers} == {403}
    assert client.get(f"/v1/campaigns/{cid}/balance").json()["pledged"]["units"] == 0


def test_a_test_key_cannot_open_a_live_campaign_or_approve_publishers(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, cid, test_key = _live_brand_with_test_key(client, db, admin_key)
    pub, _ = signup_publisher(client, "Blog", ["blog.example"])
    joined = client.post(
        f"/v1/publishers/{pub.id}/campaigns", json={"campaign_id": cid}, headers=auth(pub.key)
    )
    assert joined.status_code == 200, joined.text
    h = auth(test_key)
    settings = f"/v1/widget/campaigns/{cid}/settings"
    assert client.put(settings, json={"open_to_verified_publishers": True}, headers=h).status_code == 403
    assert client.put(settings, json={"pow_bits": 0}, headers=h).status_code == 403
    approval = f"/v1/widget/campaigns/{cid}/publishers/{pub.id}/approval"
    assert client.put(approval, headers=h).status_code == 403
    listed = client.get(f"/v1/widget/campaigns/{cid}/publishers", headers=auth(brand.key)).json()
    assert listed["open_to_verified_publishers"] is False
    assert [p["counts"] for p in listed["data"]] == [False]
    assert client.put(approval, headers=auth(brand.key)).status_code == 200  # the live key can


def test_a_test_key_cannot_change_a_live_shop_connection(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, cid, test_key = _live_brand_with_test_key(client, db, admin_key)
    r = client.post(
        "/v1/connectors",
        json={"platform": "shopify", "account": "pampy.myshopify.com", "secret": "s" * 32},
        headers=auth(brand.key),
    )
    assert r.status_code == 201, r.text
    conn_id = r.json()["id"]
    h = auth(test_key)
    rules = {"rules": [{"kind": "sku", "pattern": "*", "campaign_id": cid}]}
    assert client.put(f"/v1/connectors/{conn_id}/mappings", json=rules, headers=h).status_code == 403
    assert (
        client.post(f"/v1/connectors/{conn_id}/secrets", json={"secret": "t" * 32}, headers=h).status_code
        == 403
    )
    assert client.post(f"/v1/connectors/{conn_id}/process", headers=h).status_code == 403
    report = client.post(
        f"/v1/connectors/{conn_id}/sales-reports", content=b"x", headers={**h, "Content-Type": "text/csv"}
    )
    assert report.status_code == 403
    after = client.get(f"/v1/connectors/{conn_id}", headers=auth(brand.key)).json()
    assert after["mappings"] == [] or after.get("rules") == []
