"""Outcome figures (issue 12): where the impact unit has an outcome conversion ("3 doses
protect 1 child"), the balance and the widget give the figure, computed exactly: whole outcomes
(floor) and the units left towards the next, never rounded up."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.store.db import Database

from factories import auth, make_beneficiary, make_brand, make_campaign, purchase, unit
from web.web_helpers import with_pages


def _unit_with_outcome() -> dict[str, Any]:
    u = unit()
    u["outcome"] = {
        "units_per_outcome": 3,
        "labels": {
            "en": {"singular": "child protected", "plural": "children protected"},
            "fr": {"singular": "enfant protégé", "plural": "enfants protégés"},
        },
    }
    return u


def test_the_balance_and_export_give_the_outcome_figure_floor_and_remainder(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id, impact_unit=_unit_with_outcome())
    r = client.post("/v1/purchases", json=purchase("O-1", ("PAMPERS-1", 7, 100)), headers=auth(brand.key))
    assert r.status_code == 200, r.text
    balance = client.get(f"/v1/campaigns/{cid}/balance").json()
    assert balance["pledged"]["units"] == 7
    out = balance["pledged"]["outcome"]
    assert (out["count"], out["remainder_units"], out["units_per_outcome"]) == (2, 1, 3)
    assert out["text"]["en"] == "2 children protected (+1 tetanus vaccine towards the next)"
    assert out["text"]["fr"] == "2 enfants protégés (+1 vaccin contre le tétanos vers le suivant)"
    assert balance["delivered"]["outcome"]["count"] == 0

    # the open-data export carries the same figure
    rows = TestClient(with_pages(app)).get("/exports/balances.json").json()
    row = next(r for r in rows if r["campaign_id"] == cid)
    assert (row["pledged_outcomes"], row["pledged_outcome_remainder_units"]) == (2, 1)
    assert (row["delivered_outcomes"], row["delivered_outcome_remainder_units"]) == (0, 0)


def test_no_outcome_figure_without_a_conversion(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id)
    balance = client.get(f"/v1/campaigns/{cid}/balance").json()
    assert "outcome" not in balance["pledged"]


def test_the_campaign_page_gives_the_outcome_figure(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id, impact_unit=_unit_with_outcome())
    r = client.post("/v1/purchases", json=purchase("O-1", ("PAMPERS-1", 7, 100)), headers=auth(brand.key))
    assert r.status_code == 200, r.text
    web = TestClient(with_pages(app))
    assert (
        "2 children protected (+1 tetanus vaccine towards the next)"
        in web.get(f"/campaigns/{cid}?lang=en").text
    )
    fr = web.get(f"/campaigns/{cid}?lang=fr").text
    assert "2 enfants protégés (+1 vaccin contre le tétanos vers le suivant)" in fr
