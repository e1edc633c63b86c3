"""Server-to-server clicks (issue 12, first finding): an open sign-up publisher key counted a
pledge on any public campaign it never joined, for any visitor string, with no limit and no row
in the fraud report (20 of 20 pledged). Now a publisher clicks only where it joined, its key is
limited like a network, and every attempt is in the fraud report."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from wefirst.settings import Settings
from wefirst.store.db import Database

from factories import (
    Tenant,
    approve_publisher,
    auth,
    make_beneficiary,
    make_brand,
    make_campaign,
    signup_publisher,
)

COUNTED_PER_DAY = 5


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"widget_network_counted_per_day": COUNTED_PER_DAY})


def _click_campaign(client: TestClient, db: Database, admin_key: str) -> tuple[Tenant, str]:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id, rules=[{"kind": "per_click", "units_per_click": 1}])
    return brand, cid


def _signup(client: TestClient) -> Tenant:
    return signup_publisher(client, "Some blog", ["blog.example"])[0]


def _click(client: TestClient, key: str, cid: str, i: int) -> dict[str, object]:
    r = client.post(
        "/v1/clicks", json={"campaign_id": cid, "visitor": f"forged-visitor-{i:06d}"}, headers=auth(key)
    )
    assert r.status_code in (200, 403), r.text
    return {"status": r.status_code, **r.json()}


def test_a_publisher_cannot_count_clicks_on_a_campaign_it_never_joined(
    client: TestClient, db: Database, admin_key: str
) -> None:
    _brand, cid = _click_campaign(client, db, admin_key)
    pub = _signup(client)
    answers = [_click(client, pub.key, cid, i) for i in range(20)]
    assert {a["status"] for a in answers} == {403}
    assert client.get(f"/v1/campaigns/{cid}/balance").json()["pledged"]["units"] == 0


def test_a_joined_publishers_api_clicks_are_limited_and_in_the_fraud_report(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, cid = _click_campaign(client, db, admin_key)
    pub = _signup(client)
    r = client.post(f"/v1/publishers/{pub.id}/campaigns", json={"campaign_id": cid}, headers=auth(pub.key))
    assert r.status_code == 200, r.text
    approve_publisher(client, brand.key, cid, pub.id)
    answers = [_click(client, pub.key, cid, i) for i in range(20)]
    outcomes = [a["outcome"] for a in answers]
    assert outcomes.count("pledged") == COUNTED_PER_DAY
    assert outcomes.count("rate_limited") == 20 - COUNTED_PER_DAY
    assert client.get(f"/v1/campaigns/{cid}/balance").json()["pledged"]["units"] == COUNTED_PER_DAY
    report = client.get(f"/v1/widget/campaigns/{cid}/fraud-report", headers=auth(brand.key)).json()
    assert report["by_reason"]["counted"] == COUNTED_PER_DAY
    assert report["by_reason"]["rate_limited"] == 20 - COUNTED_PER_DAY
    assert report["by_publisher"] == [
        {"publisher_id": pub.id, "counted": COUNTED_PER_DAY, "rate_limited": 20 - COUNTED_PER_DAY}
    ]


def test_a_brand_server_cannot_count_a_click_for_a_publisher(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, cid = _click_campaign(client, db, admin_key)
    pub = _signup(client)
    r = client.post(
        "/v1/clicks",
        json={"campaign_id": cid, "visitor": "forged-visitor-000001", "publisher_id": pub.id},
        headers=auth(brand.key),
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "publisher_id"
    # its own clicks go through the same per-key limits as a network, and are reported
    # (before: a brand key was not limited at all)
    outcomes = [_click(client, brand.key, cid, i)["outcome"] for i in range(COUNTED_PER_DAY + 2)]
    assert outcomes.count("pledged") == COUNTED_PER_DAY
    assert outcomes.count("rate_limited") == 2
    report = client.get(f"/v1/widget/campaigns/{cid}/fraud-report", headers=auth(brand.key)).json()
    assert report["by_reason"]["counted"] == COUNTED_PER_DAY
    assert report["by_reason"]["rate_limited"] == 2
    assert report["by_publisher"] == [
        {"publisher_id": brand.id, "counted": COUNTED_PER_DAY, "rate_limited": 2}
    ]
