"""Receipts for the people who hold them: /verify takes the rcpt_ code, a receipt link or the
receipt JSON, and the receipt page leads with what the click or purchase funded and where the
promise stands (paid and confirmed, delivered, refunded, awaiting payment), then the proof."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.store.db import Database

from factories import auth, delivery, make_beneficiary, make_brand, make_campaign
from web.web_helpers import buy_three_orders, csrf_of, integrate_log, report_two_payments, text_of, with_pages


def shop(client: TestClient, db: Database, admin_key: str) -> dict[str, Any]:
    """Three orders (2, 5 and 3 packs at one vaccine each, 30 cents a vaccine); €2.00 paid and
    confirmed, €0.90 reported; 6 vaccines delivered; the last order refunded in full."""
    brand = make_brand(client, db, admin_key, name="Pampy")
    ben = make_beneficiary(client, db, admin_key, name="Vaccines for All")
    cid = make_campaign(client, brand, ben.id)
    secrets = buy_three_orders(client, brand)
    sids = report_two_payments(client, brand, cid)
    assert (
        client.post(f"/v1/settlements/{sids[0]}/confirm", json={}, headers=auth(ben.key)).status_code == 200
    )
    march = delivery(6, "https://example.org/march.pdf")
    r = client.post(f"/v1/campaigns/{cid}/deliveries", json=march, headers=auth(ben.key))
    assert r.status_code == 201, r.text
    r = client.post(
        "/v1/refunds",
        json={"order_id": "O-2", "refund_id": "R-2", "lines": [{"line_id": "1", "quantity": 3}]},
        headers=auth(brand.key),
    )
    assert r.status_code == 200, r.text
    return {"campaign": cid, "secrets": secrets, "brand": brand}


@pytest.fixture
def web(app: FastAPI) -> TestClient:
    return TestClient(with_pages(app))


def test_a_paid_and_delivered_purchase_leads_with_its_story(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, web: TestClient
) -> None:
    s = shop(client, db, admin_key)
    integrate_log(app)
    page = web.get(f"/receipts/{s['secrets'][0]}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Your purchase funded 2 tetanus vaccines, promised by Pampy to Vaccines for All." in text
    assert "Paid on Mar 10, 2026, and Vaccines for All confirmed receiving it." in text
    assert "Delivered between Mar 1, 2026 and Mar 31, 2026." in text
    assert f'href="/campaigns/{s["campaign"]}"' in page.text
    # the story comes first, the proof after it
    assert text.index("Your purchase funded") < text.index("The proof, for those who want it")
    assert "data-autorun" in page.text
    fr = text_of(web.get(f"/receipts/{s['secrets'][0]}?lang=fr").text)
    assert (
        "Votre achat a financé 2 vaccins contre le tétanos : une promesse de Pampy à Vaccines for All." in fr
    )
    # raw codes stay out of the summary: the entry is named in words
    assert "Promise" in text
    assert ">pledge<" not in page.text


def test_a_later_purchase_waits_for_its_payment_and_delivery(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, web: TestClient
) -> None:
    s = shop(client, db, admin_key)
    text = text_of(web.get(f"/receipts/{s['secrets'][1]}").text)
    # pledges 60 + 150 = 210 cents > 200 confirmed; with the 90 reported, 290 ≥ 210
    assert "Pampy reports paying it on Mar 10, 2026; Vaccines for All has not confirmed it yet." in text
    assert "Not delivered yet." in text  # 2 + 5 = 7 units > 6 delivered


def test_a_refunded_purchase_never_reads_as_standing(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, web: TestClient
) -> None:
    s = shop(client, db, admin_key)
    integrate_log(app)
    page = web.get(f"/receipts/{s['secrets'][2]}")
    text = text_of(page.text)
    assert text.startswith(text[: text.index("Your receipt")])  # the page renders
    headline = text.split("Your receipt", 1)[1]
    assert "Your purchase was refunded on" in headline
    assert "the promise it carried (3 tetanus vaccines) is cancelled." in headline
    assert "Your purchase funded" not in text
    assert "Paid on" not in text
    assert "Delivered between" not in text


@pytest.mark.parametrize(
    "shape",
    [
        lambda secret: secret,
        lambda secret: f"  {secret}\n",
        lambda secret: f"https://wefirst.example/receipts/{secret}",
        lambda secret: f"http://127.0.0.1:8000/v1/receipts/{secret}?x=1",
    ],
)
def test_verify_takes_the_code_or_the_link(
    client: TestClient, db: Database, admin_key: str, web: TestClient, shape: Any
) -> None:
    """/verify rejected the rcpt_ code people actually hold (a JavaScript JSON error)."""
    s = shop(client, db, admin_key)
    token = csrf_of(web.get("/verify").text)
    secret = s["secrets"][0]
    r = web.post("/verify", data={"csrf_token": token, "receipt": shape(secret)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/receipts/{secret}"


def test_verify_tells_a_pasted_json_receipt_and_refuses_anything_else(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, web: TestClient
) -> None:
    s = shop(client, db, admin_key)
    integrate_log(app)
    bundle = client.get(f"/v1/receipts/{s['secrets'][0]}").json()
    token = csrf_of(web.get("/verify").text)
    r = web.post("/verify", data={"csrf_token": token, "receipt": json.dumps(bundle)})
    assert r.status_code == 200
    assert "Your purchase funded 2 tetanus vaccines" in text_of(r.text)
    for junk in ("hello", "{not json", '{"entry": 3}', "https://example.org/nothing", "rcpt_" + "x" * 300):
        r = web.post("/verify", data={"csrf_token": token, "receipt": junk})
        assert r.status_code == 422, junk
        assert "This is not a receipt. Paste the code that starts with rcpt_" in text_of(r.text)
        assert 'aria-invalid="true"' in r.text
    fr = web.post("/verify?lang=fr", data={"csrf_token": token, "receipt": "bonjour"})
    assert "Ce n’est pas un reçu." in text_of(fr.text)
    # no token, no answer (the form is CSRF-protected like every other)
    assert web.post("/verify", data={"receipt": s["secrets"][0]}, follow_redirects=False).status_code == 403


def test_unknown_and_oversized_receipts_are_not_found(web: TestClient, db: Database) -> None:
    assert web.get("/receipts/rcpt_nobody-has-this-one").status_code == 404
    assert web.get("/receipts/" + "a" * 201).status_code == 404
