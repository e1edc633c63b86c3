"""One verdict wherever a promise is shown: home, campaign page, live counters, scorecard and
exports all divide by what is owed (the guaranteed minimum when larger than the pledges), call
a payment paid only once confirmed, and never plot before the campaign starts."""

from __future__ import annotations

import re
from datetime import date

from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.ledger import accounts
from wefirst.store.db import Database
from wefirst.web import queries

from factories import auth, make_beneficiary, make_brand, make_campaign, purchase
from web.web_helpers import report_two_payments, text_of, with_pages


def gmin_story(client: TestClient, db: Database, admin_key: str) -> tuple[str, str]:
    """10 packs pledged (€3.00) under a €500.00 guaranteed minimum; €2.00 paid and confirmed,
    €0.90 reported and not confirmed."""
    brand = make_brand(client, db, admin_key, name="Clairo Home")
    ben = make_beneficiary(client, db, admin_key, name="Clear Water Fund")
    cid = make_campaign(client, brand, ben.id, guaranteed_minimum={"amount": 50_000, "currency": "EUR"})
    r = client.post("/v1/purchases", json=purchase("O-1", ("PAMPERS-S3", 10, 2499)), headers=auth(brand.key))
    assert r.status_code == 200, r.text
    sids = report_two_payments(client, brand, cid, paid_at="2026-03-20T09:00:00Z")
    assert (
        client.post(f"/v1/settlements/{sids[0]}/confirm", json={}, headers=auth(ben.key)).status_code == 200
    )
    return brand.id, cid


def test_every_page_divides_by_what_is_owed(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    brand_id, cid = gmin_story(client, db, admin_key)
    web = TestClient(with_pages(app))
    share = "€2.00 of €500.00 (0.4%)"

    campaign = text_of(web.get(f"/campaigns/{cid}").text)
    assert "Owed €500.00 (guaranteed minimum)" in campaign
    assert f"Paid and confirmed {share}" in campaign
    assert "Awaiting confirmation €0.90" in campaign
    assert "Delivered 0 of 1,666 tetanus vaccines" in campaign  # what €500 buys at €0.30
    assert (
        "Awaiting confirmation: Clairo Home reports paying €0.90; Clear Water Fund has not confirmed it yet."
        in campaign
    )
    assert "The campaign states no payment schedule" in campaign

    home = text_of(web.get("/").text)
    assert share in home
    assert "Awaiting confirmation: Clairo Home reports paying €0.90" in home

    for page in (web.get(f"/campaigns/{cid}").text, web.get("/").text):  # one macro draws both
        assert '<p class="verdict awaiting_confirmation">' in page
        assert f'<dl class="figures" data-live="/campaigns/{cid}/live.json">' in page

    live = web.get(f"/campaigns/{cid}/live.json").json()
    assert live["paid_confirmed"] == share

    card = text_of(web.get(f"/brands/{brand_id}").text)
    assert "€2.00 / €500.00" in card
    assert "0 / 1,666 tetanus vaccines" in card
    assert "Awaiting confirmation" in card

    [row] = web.get(f"/campaigns/{cid}/balance.json").json()
    assert (row["owed"], row["paid_confirmed"], row["owed_units"]) == (50_000, 200, 1_666)
    assert (row["standing"], row["late"], row["late_since"]) == ("awaiting_confirmation", 0, None)
    [scored] = web.get(f"/brands/{brand_id}/scorecard.json").json()["campaigns"]
    assert scored["verdict"]["owed"] == {"amount": 50_000, "currency": "EUR"}
    assert scored["verdict"]["standing"] == "awaiting_confirmation"

    fr = text_of(web.get(f"/campaigns/{cid}?lang=fr").text)
    assert "Dû 500,00 € (minimum garanti)" in fr
    assert "Versé et confirmé 2,00 € sur 500,00 € (0,4 %)" in fr
    assert "La promesse est-elle tenue ?" in fr


def test_french_pages_put_a_no_break_space_before_colons(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    _, cid = gmin_story(client, db, admin_key)
    page = TestClient(with_pages(app)).get(f"/campaigns/{cid}?lang=fr").text
    assert "En attente de confirmation\u00a0: Clairo Home" in page
    assert "tenue\u00a0?" in page
    # the promise's own sentence comes from domain/disclosure.py (issue 12 owns its typography)
    page = re.sub(r'<p class="promise".*?</p>', "", page, flags=re.S)
    visible = re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", page))
    assert re.search(r" [:;?!]", visible) is None, re.findall(r".{30} [:;?!].{10}", visible)


def test_the_chart_never_plots_before_the_campaign_starts() -> None:
    """A refund dated before the start (the demo had one) is folded into the first day."""
    start = date(2026, 10, 1)
    days = {
        date(2026, 3, 19): {accounts.COMMITMENTS: -60},
        date(2026, 10, 2): {accounts.COMMITMENTS: 300, accounts.PAID_CONFIRMED: -100},
    }
    points = queries.cumulative(days, start)
    assert [(p.day, p.pledged, p.confirmed) for p in points] == [
        (date(2026, 10, 1), -60, 0),
        (date(2026, 10, 2), 240, 100),
    ]
    assert queries.cumulative(days, date(2026, 10, 2))[0].day == date(2026, 10, 2)
    assert len(queries.cumulative(days, date(2026, 10, 2))) == 1
