"""The brand scorecard (promises kept, public voice, open cases, downloads) and the receipt
page fed by the real log."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.settings import Settings
from wefirst.store.db import Database

from web.web_helpers import integrate_log, open_case, seed_story, seed_voice, text_of, with_pages


def test_scorecard_shows_promises_voice_and_cases(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, settings: Settings, tmp_path: Path
) -> None:
    story = seed_story(client, db, admin_key)
    posts = seed_voice(client, db, settings, story.brand, tmp_path)
    open_case(client, story.brand.id, "Vaccines promised but not paid for")
    web = TestClient(with_pages(app))
    page = web.get(f"/brands/{story.brand.id}")
    assert page.status_code == 200, page.text
    text = text_of(page.text)
    # promise-keeping: €2.00 of €3.00 confirmed; 6 of 10 vaccines delivered
    assert "66.7%" in text
    assert "€2.00 / €3.00" in text
    assert "60%" in text
    assert "6 / 10 tetanus vaccines" in text
    # the voice timeline with its backlash episode marked, and sample posts
    assert '<rect class="episode backlash"' in page.text
    assert "backlash" in text
    assert "vaccine scandal" in text
    # open cases
    assert "Vaccines promised but not paid for" in text
    fr = text_of(web.get(f"/brands/{story.brand.id}?lang=fr").text)
    assert "66,7 %" in fr
    assert "fronde" in fr

    voice = web.get(f"/brands/{story.brand.id}/voice.json").json()
    assert sum(d["posts"] for d in voice) == posts
    surge = max(voice, key=lambda d: d["negative"])
    assert surge["negative"] >= 60
    assert surge["net_sentiment"] < 0
    rows = list(csv.DictReader(io.StringIO(web.get(f"/brands/{story.brand.id}/voice.csv").text)))
    assert [int(r["posts"]) for r in rows] == [d["posts"] for d in voice]

    card = web.get(f"/brands/{story.brand.id}/scorecard.json").json()
    [campaign] = card["campaigns"]
    assert (campaign["paid_confirmed"], campaign["owed"]) == (200, 300)
    assert campaign["oldest_unpaid_pledge_days"] is not None
    assert [c["title"] for c in card["open_cases"]] == ["Vaccines promised but not paid for"]
    assert web.get("/brands/brd_unknown").status_code == 404
    assert web.get("/brands/brd_unknown/voice.csv").status_code == 404


def test_lateness_is_the_age_of_the_oldest_unpaid_pledge(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    from datetime import UTC, datetime

    story = seed_story(client, db, admin_key)
    card = TestClient(with_pages(app)).get(f"/brands/{story.brand.id}/scorecard.json").json()
    [campaign] = card["campaigns"]
    # pledges of 60, 150 and 90 cents on March 1, 3 and 9 (running total 60, 210, 300):
    # 200 confirmed covers March 1 and all but 10 cents of March 3, so March 3 is still owed
    expected = (datetime.now(UTC).date() - datetime(2026, 3, 3).date()).days
    assert campaign["oldest_unpaid_pledge_days"] == expected
    # funded 2, 7, 10 units; 6 delivered: the oldest undelivered unit was funded on March 3
    assert (
        campaign["oldest_undelivered_unit_days"]
        == (datetime.now(UTC).date() - datetime(2026, 3, 3).date()).days
    )


def test_receipt_page_hands_the_browser_a_checkable_bundle(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    story = seed_story(client, db, admin_key)
    web = TestClient(with_pages(app))
    integrate_log(app)  # the app's background sequencer may have done it already
    page = web.get(f"/receipts/{story.receipt_secret}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    bundle_text = page.text.split('<textarea id="receipt" name="receipt"')[1]
    bundle_text = bundle_text.split(">", 1)[1].split("</textarea>")[0]
    import html

    bundle = json.loads(html.unescape(bundle_text))
    assert bundle == client.get(f"/v1/receipts/{story.receipt_secret}").json()
    assert json.loads(bundle["entry"])["kind"] == "pledge"
    assert f'data-secret="{story.receipt_secret}"' in page.text
    key = client.get("/log/key").text.strip()
    assert f'value="{key}"' in page.text
    # and the campaign page now lists the campaign's latest log entries
    campaign = text_of(web.get(f"/campaigns/{story.campaign_id}").text)
    # in words, with the recorded JSON beside them
    assert "Vaccines for All confirmed receiving €2.00." in campaign
    assert "Vaccines for All reported delivering 6 tetanus vaccines." in campaign
    assert "settlement_confirmed" in campaign  # inside the recorded JSON only
    entries = web.get(f"/exports/log.json?campaign={story.campaign_id}").json()
    assert [e["kind"] for e in entries][:4] == ["campaign_defined", "pledge", "pledge", "pledge"]
    assert all(e["campaign"] == story.campaign_id for e in entries)
    as_csv = list(csv.DictReader(io.StringIO(web.get("/exports/log.csv?limit=2").text)))
    assert [int(r["index"]) for r in as_csv] == [0, 1]
    assert json.loads(as_csv[0]["entry"])["kind"] == "campaign_defined"
