"""Bounds on what brands and beneficiaries claim after a pledge (issue 12, "What was seen"):
deliveries beyond the funded units and payments beyond what is owed need an acknowledged
reason and are shown apart (never a share over 100 %), future periods are refused, a dispute
needs a reason, a partial receipt can be confirmed with its bank reference, a test-mode key
cannot change a live campaign, and a cancelled order loses its whole pledge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from wefirst.auth.keys import create_key
from wefirst.store.db import Database

from factories import Tenant, auth, delivery, make_beneficiary, make_brand, make_campaign, payment, purchase


def _story(client: TestClient, db: Database, admin_key: str, qty: int = 3) -> tuple[Tenant, Tenant, str]:
    """A campaign whose pledges fund `qty` units (€1 each: cost 100, one unit per item)."""
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id, impact_unit=_unit())
    r = client.post("/v1/purchases", json=purchase("O-1", ("PAMPERS-1", qty, 100)), headers=auth(brand.key))
    assert r.status_code == 200, r.text
    return brand, ben, cid


def _unit() -> dict[str, Any]:
    return {
        "labels": {"en": {"singular": "vaccine", "plural": "vaccines"}},
        "cost_per_unit": {"amount": 100, "currency": "EUR"},
        "cost_source": "supplier price list",
        "cost_date": "2026-01-15",
    }


def _field(r: Any) -> str:
    assert r.status_code == 422, r.text
    return str(r.json()["errors"][0]["field"])


def _settle(client: TestClient, brand: Tenant, cid: str, amount: int, **extra: Any) -> Any:
    return client.post(
        f"/v1/campaigns/{cid}/settlements", json=payment(amount, **extra), headers=auth(brand.key)
    )


def test_a_delivery_beyond_the_funded_units_needs_an_acknowledged_reason(
    client: TestClient, db: Database, admin_key: str
) -> None:
    _brand, ben, cid = _story(client, db, admin_key, qty=3)
    r = client.post(f"/v1/campaigns/{cid}/deliveries", json=delivery(5000), headers=auth(ben.key))
    assert _field(r) == "units"
    assert "beyond_funded_reason" in r.json()["detail"]
    assert client.get(f"/v1/campaigns/{cid}/balance").json()["delivered"]["units"] == 0
    r = client.post(
        f"/v1/campaigns/{cid}/deliveries",
        json=delivery(5000, beyond_funded_reason="our own donors funded the rest"),
        headers=auth(ben.key),
    )
    assert r.status_code == 201, r.text
    assert r.json()["beyond_funded"] == {"units": 4997, "reason": "our own donors funded the rest"}
    delivered = client.get(f"/v1/campaigns/{cid}/balance").json()["delivered"]
    assert delivered == {"units": 3, "beyond_pledges_units": 4997}


def test_the_scorecard_never_shows_a_share_delivered_over_100_percent(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, ben, cid = _story(client, db, admin_key, qty=3)
    r = client.post(
        f"/v1/campaigns/{cid}/deliveries",
        json=delivery(5000, beyond_funded_reason="our own donors funded the rest"),
        headers=auth(ben.key),
    )
    assert r.status_code == 201, r.text
    page = client.get(f"/brands/{brand.id}")
    assert page.status_code == 200
    assert "672" not in page.text
    assert "100%" in page.text
    assert "funded otherwise" in page.text
    [card] = client.get(f"/brands/{brand.id}/scorecard.json").json()["campaigns"]
    assert (card["delivered_units"], card["delivered_beyond_pledges_units"]) == (3, 4997)


def test_a_delivery_for_a_future_period_is_refused(client: TestClient, db: Database, admin_key: str) -> None:
    _brand, ben, cid = _story(client, db, admin_key)
    today = datetime.now(UTC).date()
    later = today + timedelta(days=40)
    r = client.post(
        f"/v1/campaigns/{cid}/deliveries",
        json=delivery(1, period_start=(today - timedelta(days=5)).isoformat(), period_end=later.isoformat()),
        headers=auth(ben.key),
    )
    assert _field(r) == "period_end"
    r = client.post(
        f"/v1/campaigns/{cid}/deliveries",
        json=delivery(1, period_start=later.isoformat(), period_end=later.isoformat()),
        headers=auth(ben.key),
    )
    assert _field(r) == "period_start"
    assert client.get(f"/v1/campaigns/{cid}/deliveries").json()["data"] == []


def test_a_payment_beyond_what_is_owed_needs_an_acknowledged_reason(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, _ben, cid = _story(client, db, admin_key, qty=3)  # €3 owed
    r = _settle(client, brand, cid, 99_999)
    assert _field(r) == "amount.amount"
    assert "beyond_owed_reason" in r.json()["detail"]
    r = _settle(client, brand, cid, 99_999, beyond_owed_reason="an advance on next quarter's pledges")
    assert r.status_code == 201, r.text
    assert r.json()["beyond_owed"] == {
        "amount": {"amount": 99_699, "currency": "EUR"},
        "reason": "an advance on next quarter's pledges",
    }
    balance = client.get(f"/v1/campaigns/{cid}/balance").json()
    assert balance["paid_beyond_owed"] == {"amount": 99_699, "currency": "EUR"}


def test_a_dispute_needs_a_reason(client: TestClient, db: Database, admin_key: str) -> None:
    brand, ben, cid = _story(client, db, admin_key)
    sid = _settle(client, brand, cid, 300).json()["id"]
    r = client.post(f"/v1/settlements/{sid}/dispute", json={}, headers=auth(ben.key))
    assert _field(r) == "note"
    assert client.get(f"/v1/settlements/{sid}").json()["status"] == "reported"
    r = client.post(
        f"/v1/settlements/{sid}/dispute", json={"note": "not on our statement"}, headers=auth(ben.key)
    )
    assert r.status_code == 200, r.text


def test_a_beneficiary_confirms_a_partial_amount_with_its_bank_reference(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, ben, cid = _story(client, db, admin_key)
    sid = _settle(client, brand, cid, 300).json()["id"]
    r = client.post(
        f"/v1/settlements/{sid}/confirm",
        json={"amount": {"amount": 200, "currency": "EUR"}, "bank_reference": "STMT-2026-03-22-0042"},
        headers=auth(ben.key),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "partially_confirmed"
    assert body["confirmed_amount"] == {"amount": 200, "currency": "EUR"}
    assert body["bank_reference"] == "STMT-2026-03-22-0042"
    balance = client.get(f"/v1/campaigns/{cid}/balance").json()
    assert balance["paid_confirmed"]["amount"] == 200
    assert balance["paid_disputed"]["amount"] == 100
    # more than was reported cannot be confirmed
    sid2 = _settle(client, brand, cid, 50, beyond_owed_reason="rounding").json()["id"]
    r = client.post(
        f"/v1/settlements/{sid2}/confirm",
        json={"amount": {"amount": 51, "currency": "EUR"}, "bank_reference": "X"},
        headers=auth(ben.key),
    )
    assert _field(r) == "amount.amount"


def test_a_test_mode_key_cannot_change_a_live_campaign(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, _ben, cid = _story(client, db, admin_key)
    with db.write() as conn:
        test_key, _ = create_key(conn, "brand", brand.id, livemode=False)
    h = auth(test_key)
    assert client.patch(f"/v1/campaigns/{cid}", json={"name": "Renamed"}, headers=h).status_code == 403
    assert client.post(f"/v1/campaigns/{cid}/status", json={"status": "paused"}, headers=h).status_code == 403
    r = client.post(f"/v1/campaigns/{cid}/settlements", json=payment(100, "T"), headers=h)
    assert r.status_code == 403
    campaign = client.get(f"/v1/campaigns/{cid}").json()
    assert campaign["status"] == "active"
    assert campaign["name"] != "Renamed"
    assert client.get(f"/v1/campaigns/{cid}/settlements").json()["data"] == []


def test_cancel_without_lines_reverses_the_whole_order(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, _ben, cid = _story(client, db, admin_key, qty=3)
    r = client.post(
        "/v1/purchases",
        json=purchase("O-2", ("PAMPERS-1", 2, 100), ("PAMPERS-2", 1, 100)),
        headers=auth(brand.key),
    )
    assert r.status_code == 200, r.text
    r = client.post("/v1/refunds", json={"order_id": "O-2", "reason": "cancel"}, headers=auth(brand.key))
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert sorted((x["outcome"], x["units"]) for x in results) == [("reversed", 1), ("reversed", 2)]
    assert client.get(f"/v1/campaigns/{cid}/balance").json()["pledged"]["units"] == 3
    again = client.post("/v1/refunds", json={"order_id": "O-2", "reason": "cancel"}, headers=auth(brand.key))
    assert again.status_code == 200
    assert all(x["outcome"] != "reversed" for x in again.json()["results"])
    assert client.get(f"/v1/campaigns/{cid}/balance").json()["pledged"]["units"] == 3
