"""The API sets what the disclosure states and the ledger enforces (issue 12): a payment
schedule (ledger/verdict.py read `payment_schedule`, which no API could set) and a SKU -> name
catalogue shown instead of SKU patterns; bad values are 422 naming the field and change
nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from wefirst.ledger.verdict import payment_terms
from wefirst.store.db import Database
from wefirst.store.tables_core import campaigns

from factories import auth, campaign_body, make_beneficiary, make_brand


def _fields(r: Any) -> list[str]:
    """Field names, and the reasons of cross-field checks (which name the field in the text)."""
    return [f"{e['field']} {e['reason']}" for e in r.json().get("errors", [])] or [r.json()["detail"]]


def test_payment_schedule_and_product_names_reach_the_disclosure_and_the_ledger(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    body = campaign_body(
        ben.id,
        rules=[{"kind": "per_unit", "sku_patterns": ["DOUDOU-*"], "units_per_item": 1}],
        payment_schedule={"period": "month", "within_days": 15},
        product_names={"DOUDOU-01": "Doudou lapin"},
    )
    r = client.post("/v1/campaigns", json=body, headers=auth(brand.key))
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    got = client.get(f"/v1/campaigns/{cid}", headers=auth(brand.key)).json()
    assert got["payment_schedule"] == {"period": "month", "within_days": 15}
    assert "(Doudou lapin)" in got["disclosure"]["en"]
    assert "DOUDOU-*" not in got["disclosure"]["fr"]
    assert "each month within 15 days after the month ends" in got["disclosure"]["en"]
    assert "chaque mois dans les 15 jours après la fin du mois" in got["disclosure"]["fr"]
    with db.read() as conn:
        definition: dict[str, Any] = conn.execute(
            select(campaigns.c.definition).where(campaigns.c.id == cid)
        ).scalar_one()
    terms = payment_terms(definition)
    assert (terms.period, terms.within_days, terms.stated) == ("month", 15, True)

    r = client.patch(
        f"/v1/campaigns/{cid}",
        json={"payment_schedule": {"period": "quarter", "within_days": 30}},
        headers=auth(brand.key),
    )
    assert r.status_code == 200, r.text
    assert "each quarter within 30 days" in r.json()["disclosure"]["en"]


def test_bad_disclosure_settings_are_refused_and_change_nothing(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    rules = [{"kind": "per_unit", "sku_patterns": ["DOUDOU-*"], "units_per_item": 1}]
    for extra, field in (
        ({"payment_schedule": {"period": "weekly", "within_days": 15}}, "payment_schedule.period"),
        ({"payment_schedule": {"period": "month", "within_days": 900}}, "payment_schedule.within_days"),
        ({"product_names": {"DOUDOU-*": "All"}}, "product_names.DOUDOU-*"),
        ({"product_names": {"ARIEL-1": "Ariel"}}, "product_names.ARIEL-1"),
    ):
        r = client.post(
            "/v1/campaigns", json=campaign_body(ben.id, rules=rules, **extra), headers=auth(brand.key)
        )
        assert r.status_code == 422, (extra, r.text)
        assert any(field in f for f in _fields(r)), (field, r.text)
    assert client.get("/v1/campaigns", headers=auth(brand.key)).json()["data"] == []
