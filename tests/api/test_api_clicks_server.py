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


def _click_from(client: TestClient, key: str, cid: str, i: int, ip: str) -> dict[str, object]:
    r = client.post(
        "/v1/clicks",
        json={"campaign_id": cid, "visitor": f"reader-visitor-{i:06d}", "visitor_ip": ip},
        headers=auth(key),
    )
    return {"status": r.status_code, **r.json()}


def test_a_brand_server_naming_its_readers_addresses_is_bounded_per_reader_network(
    client: TestClient, db: Database, admin_key: str
) -> None:
    """A brand's real click flow serves many readers: naming each reader's address moves the
    bound from the key to the reader's network (/24, /48), so readers on other networks still
    count once one network has spent its day."""
    brand, cid = _click_campaign(client, db, admin_key)
    same_24 = [
        _click_from(client, brand.key, cid, i, f"198.51.100.{i + 1}") for i in range(COUNTED_PER_DAY + 2)
    ]
    assert [a["outcome"] for a in same_24].count("pledged") == COUNTED_PER_DAY
    limited = [a for a in same_24 if a["outcome"] == "rate_limited"]
    assert len(limited) == 2
    assert {a["detail"] for a in limited} == {"network_daily"}
    same_48 = [
        _click_from(client, brand.key, cid, 100 + i, f"2001:db8:7:{i:x}::1")
        for i in range(COUNTED_PER_DAY + 1)
    ]
    assert [a["outcome"] for a in same_48].count("pledged") == COUNTED_PER_DAY
    other = _click_from(client, brand.key, cid, 200, "203.0.113.9")
    assert other["outcome"] == "pledged"
    units = client.get(f"/v1/campaigns/{cid}/balance").json()["pledged"]["units"]
    assert units == 2 * COUNTED_PER_DAY + 1
    report = client.get(f"/v1/widget/campaigns/{cid}/fraud-report", headers=auth(brand.key)).json()
    assert report["by_reason"]["rate_limited"] == 3
    # the key alone (no address) still has its own one-network budget, untouched by the above
    assert _click(client, brand.key, cid, 300)["outcome"] == "pledged"


def test_visitor_ip_is_refused_from_a_publisher_and_when_malformed(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, cid = _click_campaign(client, db, admin_key)
    pub = _signup(client)
    r = client.post(f"/v1/publishers/{pub.id}/campaigns", json={"campaign_id": cid}, headers=auth(pub.key))
    assert r.status_code == 200, r.text
    approve_publisher(client, brand.key, cid, pub.id)
    # a publisher may not spread its clicks over invented networks
    answer = _click_from(client, pub.key, cid, 1, "192.0.2.1")
    assert answer["status"] == 422
    assert answer["errors"][0]["field"] == "visitor_ip"  # type: ignore[index]
    bad = _click_from(client, brand.key, cid, 2, "not-an-address")
    assert bad["status"] == 422
    assert bad["errors"][0]["field"] == "visitor_ip"  # type: ignore[index]
    assert client.get(f"/v1/campaigns/{cid}/balance").json()["pledged"]["units"] == 0
    report = client.get(f"/v1/widget/campaigns/{cid}/fraud-report", headers=auth(brand.key)).json()
    assert sum(report["by_reason"].values()) == 0


def test_no_key_and_another_brands_key_count_nothing_even_naming_a_reader(
    client: TestClient, db: Database, admin_key: str
) -> None:
    _brand, cid = _click_campaign(client, db, admin_key)
    other = make_brand(client, db, admin_key)
    body = {"campaign_id": cid, "visitor": "reader-visitor-000001", "visitor_ip": "198.51.100.7"}
    assert client.post("/v1/clicks", json=body).status_code == 401
    r = client.post("/v1/clicks", json=body, headers=auth(other.key))
    assert r.status_code in (403, 404), r.text
    assert client.get(f"/v1/campaigns/{cid}/balance").json()["pledged"]["units"] == 0
