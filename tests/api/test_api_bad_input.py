"""Bad input gets a problem-details answer naming the field, and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from wefirst.store.db import Database

from factories import auth, campaign_body, make_beneficiary, make_brand, make_campaign, purchase, row_counts


def problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    return body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "eur"}, "currency"),
        ({"ends_at": "2025-01-01T00:00:00Z"}, "ends_at"),
        ({"rules": []}, "rules"),
        (
            {"rules": [{"kind": "per_unit", "sku_patterns": ["X"], "units_per_item": 0}]},
            "rules[0].units_per_item",
        ),
        ({"rules": [{"kind": "percent_of_sale", "basis_points": 10_001}]}, "rules[0].basis_points"),
        ({"rules": [{"kind": "bogus"}]}, "rules[0]"),
        ({"starts_at": "2026-01-01T00:00:00"}, "starts_at"),
        ({"caps": {"total_money": {"amount": 10, "currency": "USD"}}}, ""),
        ({"beneficiary_id": "ben_doesnotexist00000000000000"}, ""),
        (
            {
                "impact_unit": {
                    "labels": {},
                    "cost_per_unit": {"amount": 0, "currency": "EUR"},
                    "cost_source": "x",
                    "cost_date": "2026-01-01",
                }
            },
            "impact_unit",
        ),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_campaigns_are_refused_and_write_nothing(
    client: TestClient, db: Database, admin_key: str, change: dict[str, Any], field: str
) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    before = row_counts(db)
    r = client.post("/v1/campaigns", json={**campaign_body(ben.id), **change}, headers=auth(brand.key))
    assert r.status_code in (404, 422), r.text
    body = problem(r, r.status_code)
    if field:
        assert any(e["field"].startswith(field) for e in body["errors"]), body
    assert row_counts(db) == before


def test_bad_events_are_refused_and_write_nothing(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    make_campaign(client, brand, ben.id)
    before = row_counts(db)
    h = auth(brand.key)
    r = client.post("/v1/purchases", content=b"{not json", headers=h | {"content-type": "application/json"})
    assert problem(r, 400)["errors"][0]["field"] == "body"
    bad_line = purchase("X", ("PAMPERS-1", 1, 100))
    bad_line["lines"].append(
        {"sku": "PAMPERS-2", "quantity": -1, "unit_price": {"amount": 100, "currency": "EUR"}}
    )
    body = problem(client.post("/v1/purchases", json=bad_line, headers=h), 422)
    assert body["errors"][0]["field"] == "lines[1].quantity"
    mixed = purchase("X", ("PAMPERS-1", 1, 100))
    mixed["lines"][0]["unit_price"]["currency"] = "USD"
    problem(client.post("/v1/purchases", json=mixed, headers=h), 422)
    problem(client.post("/v1/purchases", json=purchase("X", ("P", 1, 1), when="yesterday"), headers=h), 422)
    problem(client.post("/v1/purchases", json={**purchase("X", ("P", 1, 1)), "lines": []}, headers=h), 422)
    problem(
        client.post(
            "/v1/refunds",
            json={"order_id": "never-seen", "lines": [{"line_id": "1", "quantity": 1}]},
            headers=h,
        ),
        422,
    )
    problem(client.post("/v1/clicks", json={"campaign_id": "cmp_x", "visitor": "short"}, headers=h), 422)
    problem(
        client.post(
            "/v1/purchases", json=purchase("X", ("P", 1, 1)), headers=h | {"Idempotency-Key": "k" * 300}
        ),
        422,
    )
    assert row_counts(db) == before


def test_settlement_and_delivery_validation(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id)
    before = row_counts(db)
    body: dict[str, Any]
    for body in (
        {
            "amount": {"amount": 10, "currency": "USD"},
            "external_reference": "x",
            "paid_at": "2026-03-01T00:00:00Z",
        },
        {
            "amount": {"amount": 0, "currency": "EUR"},
            "external_reference": "x",
            "paid_at": "2026-03-01T00:00:00Z",
        },
        {
            "amount": {"amount": 10, "currency": "EUR"},
            "external_reference": "",
            "paid_at": "2026-03-01T00:00:00Z",
        },
        {
            "amount": {"amount": 10, "currency": "EUR"},
            "external_reference": "x",
            "paid_at": "2999-03-01T00:00:00Z",
        },
        {
            "amount": {"amount": 10.5, "currency": "EUR"},
            "external_reference": "x",
            "paid_at": "2026-03-01T00:00:00Z",
        },
    ):
        problem(client.post(f"/v1/campaigns/{cid}/settlements", json=body, headers=auth(brand.key)), 422)
    for body in (
        {
            "units": 0,
            "period_start": "2026-03-01",
            "period_end": "2026-03-02",
            "evidence_url": "https://x.example",
        },
        {
            "units": 1,
            "period_start": "2026-03-05",
            "period_end": "2026-03-02",
            "evidence_url": "https://x.example",
        },
        {
            "units": 1,
            "period_start": "2026-03-01",
            "period_end": "2026-03-02",
            "evidence_url": "javascript:alert(1)",
        },
    ):
        problem(client.post(f"/v1/campaigns/{cid}/deliveries", json=body, headers=auth(ben.key)), 422)
    problem(client.post("/v1/settlements/stl_nope/confirm", json={}, headers=auth(ben.key)), 404)
    assert row_counts(db) == before


def test_unknown_routes_and_methods_are_problems(client: TestClient) -> None:
    problem(client.get("/v1/nothing-here"), 404)
    problem(client.delete("/v1/campaigns"), 405)
