"""The engine does what the disclosure says (issue 12, honest disclosure): day caps count the
days of the campaign's time zone, and a percentage is of the price with or without tax as the
campaign states, converted with the source's tax amount, or not counted at all (`tax_unknown`)
when the source does not say which price it sent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from wefirst.pledges import engine
from wefirst.pledges.model import EventOutcome, LineIn, PurchaseIn
from wefirst.store.db import Database

from factories import Tenant, auth, campaign_body, make_beneficiary, make_brand, make_campaign, purchase

NOW = datetime.now(UTC).isoformat()
# 23:30 UTC on 14 March is 00:30 on 15 March in Paris (UTC+1 in winter)
LATE = datetime(2026, 3, 14, 23, 30, tzinfo=UTC)
EARLY = datetime(2026, 3, 14, 22, 30, tzinfo=UTC)  # 23:30 in Paris, still the 14th


def _order(order_id: str, at: datetime, *, price: int = 100, **extra: object) -> PurchaseIn:
    tax = extra.pop("tax", None)
    line = LineIn("PAMPERS-1", 1, price, "1", tax=tax)  # type: ignore[arg-type]
    return PurchaseIn(order_id, "EUR", at, [line], received_at=at, **extra)  # type: ignore[arg-type]


def _buy(db: Database, brand: Tenant, p: PurchaseIn) -> EventOutcome:
    with db.write() as conn:
        return engine.apply_purchase(conn, brand_id=brand.id, purchase=p)[0]


def _setup(client: TestClient, db: Database, admin_key: str, **campaign: object) -> tuple[Tenant, str]:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    return brand, make_campaign(client, brand, ben.id, **campaign)


@pytest.mark.parametrize(("zone", "same_day"), [("UTC", True), ("Europe/Paris", False)])
def test_day_caps_count_the_days_of_the_campaign_time_zone(
    client: TestClient, db: Database, admin_key: str, zone: str, same_day: bool
) -> None:
    """Two purchases an hour apart around midnight in Paris: one day in UTC, two in Paris."""
    brand, _cid = _setup(client, db, admin_key, caps={"units_per_day": 1}, time_zone=zone)
    assert _buy(db, brand, _order("A", EARLY)).outcome == "pledged"
    second = _buy(db, brand, _order("B", LATE))
    assert second.outcome == ("over_cap" if same_day else "pledged")


def _percent(basis: str) -> dict[str, object]:
    return {"rules": [{"kind": "percent_of_sale", "basis_points": 1000, "price_basis": basis}]}


@pytest.mark.parametrize(
    ("basis", "includes_tax", "tax", "money"),
    [
        ("as_reported", None, None, 120),  # the price as sent, whatever it is
        ("as_reported", False, 200, 120),
        ("with_tax", True, None, 120),  # already with tax
        ("with_tax", False, 200, 140),  # 1200 + 200 tax
        ("without_tax", False, None, 120),  # already without tax
        ("without_tax", True, 200, 100),  # 1200 - 200 tax
    ],
)
def test_a_percentage_is_of_the_price_basis_the_campaign_states(
    client: TestClient,
    db: Database,
    admin_key: str,
    basis: str,
    includes_tax: bool | None,
    tax: int | None,
    money: int,
) -> None:
    brand, _cid = _setup(client, db, admin_key, **_percent(basis))
    got = _buy(db, brand, _order("A", LATE, price=1200, tax=tax, prices_include_tax=includes_tax))
    assert (got.outcome, got.money) == ("pledged", money)


@pytest.mark.parametrize(
    ("basis", "includes_tax"),
    [("with_tax", None), ("with_tax", False), ("without_tax", None), ("without_tax", True)],
)
def test_a_price_on_an_unknown_or_other_basis_without_the_tax_counts_nothing(
    client: TestClient, db: Database, admin_key: str, basis: str, includes_tax: bool | None
) -> None:
    brand, cid = _setup(client, db, admin_key, **_percent(basis))
    got = _buy(db, brand, _order("A", LATE, price=1200, prices_include_tax=includes_tax))
    assert (got.outcome, got.campaign_id, got.money) == ("tax_unknown", cid, 0)
    # the same order, once the source says the tax, counts (the refusal claimed no line key)
    fixed = _buy(
        db, brand, _order("A", LATE, price=1200, tax=200, prices_include_tax=not basis.startswith("with_"))
    )
    assert fixed.outcome == "pledged"


def test_the_purchase_api_takes_the_tax_basis_and_amount(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, _cid = _setup(client, db, admin_key, **_percent("without_tax"))
    body = purchase("T-1", ("PAMPERS-1", 2, 600), when=NOW, prices_include_tax=True)
    body["lines"][0]["tax"] = {"amount": 200, "currency": "EUR"}
    r = client.post("/v1/purchases", json=body, headers=auth(brand.key))
    assert r.status_code == 200, r.text
    assert [(x["outcome"], x["money"]["amount"]) for x in r.json()["results"]] == [("pledged", 100)]
    body = purchase("T-2", ("PAMPERS-1", 1, 600), when=NOW)
    r = client.post("/v1/purchases", json=body, headers=auth(brand.key))
    assert [x["outcome"] for x in r.json()["results"]] == ["tax_unknown"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("time_zone", "Mars/Olympus"), ("time_zone", ""), ("match_funder", "Fondation X")],
)
def test_bad_disclosure_settings_are_refused_naming_the_field(
    client: TestClient, db: Database, admin_key: str, field: str, value: str
) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    body = campaign_body(ben.id, **{field: value})  # match_funder without match_bps: who pays what?
    r = client.post("/v1/campaigns", json=body, headers=auth(brand.key))
    assert r.status_code == 422, r.text
    assert field in r.text
    assert client.get("/v1/campaigns", headers=auth(brand.key)).json()["data"] == []
