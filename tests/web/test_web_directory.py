"""Public pages for every party a person meets (issue 15, story 4): campaigns, brands and
beneficiaries indexes, a beneficiary's page, the log explorer, share previews, and the API
reference served without a CDN."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.store.db import Database

from factories import auth, make_campaign
from web.web_helpers import integrate_log, seed_story, text_of, with_pages


def test_indexes_list_public_campaigns_brands_and_beneficiaries(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    story = seed_story(client, db, admin_key)
    hidden = make_campaign(client, story.brand, story.beneficiary.id, name="Secret draft", status="draft")
    paused = make_campaign(client, story.brand, story.beneficiary.id, name="Taking a break")
    assert (
        client.post(
            f"/v1/campaigns/{paused}/status", json={"status": "paused"}, headers=auth(story.brand.key)
        ).status_code
        == 200
    )
    web = TestClient(with_pages(app))
    page = web.get("/campaigns")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "1 pack = 1 vaccine" in text
    assert "Taking a break" in text
    assert "Secret draft" not in text
    assert hidden not in page.text
    assert "Awaiting confirmation: Pampy reports paying €0.90" in text  # the verdict, as on its page
    only_paused = text_of(web.get("/campaigns?status=paused").text)
    assert "Taking a break" in only_paused
    assert "1 pack = 1 vaccine" not in only_paused
    assert "Status: paused" in only_paused
    assert web.get("/campaigns?status=draft").text.count('class="card"') == 2  # unknown filter: all public

    brands = text_of(web.get("/brands").text)
    assert "Pampy — 2 campaigns" in brands  # the draft does not count
    bens = web.get("/beneficiaries")
    assert f'href="/beneficiaries/{story.beneficiary.id}"' in bens.text
    assert "Vaccines for All — 2 campaigns" in text_of(bens.text)


def test_a_beneficiary_page_shows_its_campaigns_payments_and_deliveries(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    story = seed_story(client, db, admin_key)
    make_campaign(client, story.brand, story.beneficiary.id, name="Secret draft", status="draft")
    web = TestClient(with_pages(app))
    page = web.get(f"/beneficiaries/{story.beneficiary.id}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Vaccines for All" in text
    assert "1 pack = 1 vaccine" in text
    assert "Secret draft" not in text
    assert "Mar 10, 2026 Pampy 1 pack = 1 vaccine €2.00 confirmed — received" in text
    assert "€0.90 reported" in text
    assert "6 tetanus vaccines" in text
    assert 'href="https://example.org/report-march.pdf" rel="nofollow noopener noreferrer"' in page.text
    fr = text_of(web.get(f"/beneficiaries/{story.beneficiary.id}?lang=fr").text)
    assert "Versements reçus" in fr
    assert "confirmé — received" in fr
    web.get("/?lang=en")
    assert web.get("/beneficiaries/ben_nobody").status_code == 404


def test_the_log_explorer_reads_entries_in_words_and_finds_them(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    story = seed_story(client, db, admin_key)
    integrate_log(app)
    web = TestClient(with_pages(app))
    page = web.get("/log")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Pampy promised 3 tetanus vaccines (€0.90) to Vaccines for All." in text
    assert "Vaccines for All confirmed receiving €2.00." in text
    assert "Vaccines for All reported delivering 6 tetanus vaccines." in text
    assert "Pampy published the campaign “1 pack = 1 vaccine”." in text
    assert "settlement_confirmed" not in re.sub(r"<code>.*?</code>", "", page.text, flags=re.S)
    fr = text_of(web.get("/log?lang=fr").text)
    assert "Pampy a promis 3 vaccins contre le tétanos (0,90 €) à Vaccines for All." in fr
    web.get("/log?lang=en")  # the choice sticks in a cookie: back to English
    # find by position and by receipt
    r = web.get("/log?find=1", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/log?before=2#entry-1")
    r = web.get(
        "/log", params={"find": f"https://x.example/receipts/{story.receipt_secret}"}, follow_redirects=False
    )
    assert r.status_code == 303
    index = client.get(f"/v1/receipts/{story.receipt_secret}").json()["index"]
    assert r.headers["location"] == f"/log?before={index + 1}#entry-{index}"
    assert f'id="entry-{index}"' in web.get(r.headers["location"]).text
    missing = web.get("/log", params={"find": "rcpt_nobody-has-this-receipt"})
    assert missing.status_code == 404
    assert "No entry in the log carries this receipt yet." in text_of(missing.text)
    assert web.get("/log?find=99999").status_code == 404
    assert "Type a position in the log" in text_of(web.get("/log?find=hello there").text)


def test_pages_carry_share_previews_without_leaking_receipts(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    story = seed_story(client, db, admin_key)
    integrate_log(app)
    web = TestClient(with_pages(app))
    page = web.get(f"/campaigns/{story.campaign_id}").text
    assert '<meta property="og:title" content="1 pack = 1 vaccine">' in page
    assert f'<meta property="og:url" content="http://testserver/campaigns/{story.campaign_id}">' in page
    description = re.search(r'<meta property="og:description" content="([^"]+)">', page)
    assert description is not None
    assert description.group(1).startswith("Awaiting confirmation: Pampy reports paying €0.90")
    receipt = web.get(f"/receipts/{story.receipt_secret}").text
    assert story.receipt_secret not in "".join(re.findall(r"<meta [^>]+>", receipt))
    assert '<meta property="og:url" content="http://testserver/verify">' in receipt


def test_api_reference_is_served_from_the_package(app: FastAPI, client: TestClient) -> None:
    web = TestClient(with_pages(app))
    assert web.get("/redoc").status_code == 404  # ReDoc's page fetches a logo from a CDN
    for path in ("/docs",):
        page = web.get(path)
        assert page.status_code == 200
        assert "http" not in re.sub(r'content="[^"]*"', "", page.text.split("<body>")[1])  # no CDN, no origin
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "cdn" not in csp
    swagger = web.get("/docs").text
    for src in re.findall(r'(?:src|href)="(/[^"]+)"', swagger):
        assert web.get(src).status_code == 200, src
    assert web.get("/docs/assets/redoc.standalone.js").status_code == 404
    assert web.get("/docs/assets/../../core.py").status_code == 404
    assert web.get("/docs/assets/core.py").status_code == 404
    assert client.get("/openapi.json").json()["info"]["title"] == "wefirst"
