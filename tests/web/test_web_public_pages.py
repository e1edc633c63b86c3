"""The public pages and exports against a real database: what a consumer and a journalist read
must be the ledger's figures, in their language."""

from __future__ import annotations

import csv
import html
import io
import json
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.app import create_app
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.tlog.cosignature import CosignatureSigner
from wefirst.tlog.policy import parse_policy

from web.web_helpers import seed_story, text_of, with_pages


def pages_client(app: FastAPI) -> TestClient:
    return TestClient(with_pages(app))


def test_home_lists_active_campaigns_with_impact(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    story = seed_story(client, db, admin_key)
    web = pages_client(app)
    page = web.get("/")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "1 pack = 1 vaccine" in text
    assert "10 tetanus vaccines" in text  # 2 + 5 + 3 packs, one vaccine each
    assert "€3.00" in text  # 10 × €0.30 pledged
    assert f'href="/campaigns/{story.campaign_id}"' in page.text
    fr = text_of(web.get("/?lang=fr").text)
    assert "10 vaccins contre le tétanos" in fr
    assert "3,00 €" in fr


def test_campaign_page_tells_the_whole_story(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    story = seed_story(client, db, admin_key)
    web = pages_client(app)
    page = web.get(f"/campaigns/{story.campaign_id}")
    assert page.status_code == 200, page.text
    text = text_of(page.text)
    # the promise is the campaign's own disclosure
    assert "For each eligible product bought (PAMPERS-*), Pampy funds 1 tetanus vaccine" in text
    # impact so far: pledged, paid and confirmed, delivered
    assert "€2.00" in text  # the confirmed payment
    assert "6 tetanus vaccines" in text
    # the payments: one confirmed, one still reported
    assert "confirmed — received" in text
    assert "reported" in text
    # delivery evidence is linked and never sends a referrer
    assert 'href="https://example.org/report-march.pdf" rel="nofollow noopener noreferrer"' in page.text
    # the chart: three series with a table of the same data
    assert page.text.count('<polyline class="series') == 3
    assert "Mar 9, 2026" in text
    # downloads
    for link in ("balance.csv", "balance.json", "series.csv", "series.json"):
        assert f"/campaigns/{story.campaign_id}/{link}" in page.text


def test_unknown_and_draft_campaigns_are_not_found(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    from factories import make_beneficiary, make_brand, make_campaign

    web = pages_client(app)
    assert web.get("/campaigns/cmp_nope").status_code == 404
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    draft = make_campaign(client, brand, ben.id, status="draft")
    response = web.get(f"/campaigns/{draft}")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert web.get(f"/campaigns/{draft}/balance.json").status_code == 404
    assert web.get(f"/campaigns/{draft}/live.json").status_code == 404


def test_exports_carry_the_ledger_figures(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    story = seed_story(client, db, admin_key)
    web = pages_client(app)
    balance = web.get(f"/campaigns/{story.campaign_id}/balance.json")
    assert balance.status_code == 200
    [row] = balance.json()
    api = client.get(f"/v1/campaigns/{story.campaign_id}/balance").json()
    assert row["pledged_units"] == api["pledged"]["units"] == 10
    assert row["pledged_amount"] == api["pledged"]["money"]["amount"] == 300
    assert row["paid_confirmed"] == api["paid_confirmed"]["amount"] == 200
    assert row["paid_awaiting_confirmation"] == 90
    assert row["delivered_units"] == api["delivered"]["units"] == 6

    as_csv = web.get(f"/campaigns/{story.campaign_id}/balance.csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    [csv_row] = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert csv_row["pledged_amount"] == "300"
    assert csv_row["delivered_units"] == "6"

    series = web.get(f"/campaigns/{story.campaign_id}/series.json").json()
    assert [p["date"] for p in series][:3] == ["2026-03-01", "2026-03-03", "2026-03-09"]
    assert [p["pledged"] for p in series][:3] == [60, 210, 300]
    assert series[-1]["confirmed"] == 200
    assert series[-1]["delivered_units"] == 6

    everything = web.get("/exports/balances.json").json()
    assert [r["campaign_id"] for r in everything] == [story.campaign_id]
    assert web.get("/exports/balances.xml").status_code == 404


def test_live_counters_answer_in_the_page_language(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    story = seed_story(client, db, admin_key)
    web = pages_client(app)
    live = web.get(f"/campaigns/{story.campaign_id}/live.json", headers={"Accept-Language": "fr"}).json()
    assert live["pledged_units"] == "10 vaccins contre le tétanos (3,00\u00a0€)"
    assert live["delivered_units"] == "6 sur 10 vaccins contre le tétanos"
    assert live["paid_confirmed"] == "2,00\u00a0€ sur 3,00\u00a0€ (66,7\u00a0%)"
    assert live["standing"] == "En attente de confirmation"


def test_csv_cells_cannot_become_formulas(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    from factories import make_beneficiary, make_brand, make_campaign

    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    make_campaign(client, brand, ben.id, name='=HYPERLINK("http://x")')
    body = pages_client(app).get("/exports/balances.csv").text
    assert "'=HYPERLINK" in body
    assert json.dumps("=HYPERLINK") not in body


def test_campaign_page_offers_the_trust_policy_only_as_text_to_copy(
    settings: Settings, db: Database, admin_key: str
) -> None:
    """With witnesses configured, the campaign page shows the deployment's policy (log key,
    witnesses, k) in a read-only box to copy and check elsewhere; the verifier page never
    fills its policy box from the server. Without witnesses there is no such section."""
    w1 = CosignatureSigner("charity.example/w", bytes(range(10, 42))).verifier.key_string
    w2 = CosignatureSigner("watchdog.example/w", bytes(range(50, 82))).verifier.key_string
    witnessed = settings.model_copy(
        update={
            "tlog_witnesses": f"{w1} https://w1.example\n{w2} https://w2.example/",
            "tlog_witness_quorum": 1,
            "tlog_witness_submitter": False,
        }
    )
    app = create_app(witnessed, db=db)
    with TestClient(app) as api:
        story = seed_story(api, db, admin_key)
        web = pages_client(app)
        page = web.get(f"/campaigns/{story.campaign_id}")
        assert page.status_code == 200, page.text
        box = re.search(r'<textarea id="trust-policy"([^>]*)>(.*?)</textarea>', page.text, re.S)
        assert box is not None
        assert "readonly" in box.group(1)
        policy = parse_policy(html.unescape(box.group(2)))
        log_key = web.get("/log/key").text.strip()
        assert [lg.verifier.key_string for lg in policy.logs] == [log_key]
        assert sorted(w.verifier.key_string for w in policy.witnesses.values()) == sorted([w1, w2])
        assert "group witnesses 1 charity.example/w watchdog.example/w" in html.unescape(box.group(2))
        assert "Check each key with the witness operators themselves" in text_of(page.text)
        assert "Vérifiez chaque clé" in text_of(web.get(f"/campaigns/{story.campaign_id}?lang=fr").text)
        verifier = web.get("/verify").text
        assert re.search(r'<textarea id="policy"[^>]*></textarea>', verifier), "never pre-filled"
    plain = pages_client(create_app(settings, db=db)).get(f"/campaigns/{story.campaign_id}")
    assert plain.status_code == 200
    assert "trust-policy" not in plain.text
