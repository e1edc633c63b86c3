"""Each user story of the pages issue, in real Chromium against the real app under uvicorn on
loopback, with axe-core run on every page a story visits (serious or critical = failure).

Set WEFIRST_SCREENSHOTS=<folder> to save the home, campaign, scorecard and verifier pages as
PNG (docs/screenshots/ holds the committed ones)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.services import replace
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.web import sessions

from factories import auth, make_beneficiary, make_brand, signup_publisher
from web.web_helpers import integrate_log, open_case, seed_story, seed_voice

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery staple"
SHOTS = os.environ.get("WEFIRST_SCREENSHOTS")


def shoot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def clean(page: Any, axe: Any) -> None:
    violations = axe(page)
    assert violations == [], f"{page.url}: {violations}"


def sign_in(page: Any, email: str, axe: Any = None) -> None:
    page.goto("/signin")
    if axe is not None:
        clean(page, axe)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("form[action='/signin'] button[type=submit]")
    page.wait_for_url(re.compile(r"/console/"))


def test_consumer_sees_impact_and_verifies_a_receipt(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, new_page: Any, axe: Any
) -> None:
    story = seed_story(client, db, admin_key)
    integrate_log(app)
    page = new_page(viewport={"width": 1100, "height": 900})
    problems: list[str] = []  # CSP violations and script errors, on every page of the story
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/")
    card = page.locator(".card", has_text="1 pack = 1 vaccine")
    assert "10 tetanus vaccines" in card.inner_text()
    clean(page, axe)
    shoot(page, "home")

    card.locator("a", has_text="1 pack = 1 vaccine").click()
    page.wait_for_url(f"**/campaigns/{story.campaign_id}")
    assert "Pampy funds 1 tetanus vaccine" in page.locator(".promise").inner_text()
    assert page.locator("svg.chart polyline").count() == 3
    assert page.locator("a[href='https://example.org/report-march.pdf']").count() == 1
    clean(page, axe)
    shoot(page, "campaign")

    # the widget's receipt link: the page checks the receipt by itself and says so
    page.goto(f"/receipts/{story.receipt_secret}")
    verdict = page.locator("#verify-verdict[data-code=ok]")
    verdict.wait_for()
    assert "Verified: the entry is in the public log" in verdict.inner_text()
    assert "The entry carries this receipt's commitment" in page.locator("#verify-result").inner_text()
    clean(page, axe)
    shoot(page, "verifier")

    genuine = json.loads(page.locator("#receipt").input_value())

    def verdict_for(receipt: dict[str, Any], key: str | None = None) -> str:
        page.fill("#receipt", json.dumps(receipt))
        if key is not None:
            page.fill("#key", key)
        page.click("#verify-form button[type=submit]")
        page.wait_for_function("document.querySelector('#verify-form').dataset.verified")
        code = page.locator("#verify-verdict").get_attribute("data-code")
        page.evaluate("delete document.querySelector('#verify-form').dataset.verified")
        return str(code)

    # a changed entry (its text and bytes changed together): the log itself disagrees
    entry = json.loads(genuine["entry"])
    entry["quantity"] = 200
    forged = json.dumps(entry, separators=(",", ":"), sort_keys=True)
    import base64

    changed = {**genuine, "entry": forged, "entry_b64": base64.b64encode(forged.encode()).decode()}
    assert verdict_for(changed) == "changed_entry"
    assert "the log holds a different entry" in page.locator("#verify-verdict").inner_text()
    # only the readable text changed
    assert verdict_for({**genuine, "entry": forged}) == "changed_entry"
    # proof of another tree
    assert verdict_for({**genuine, "tree_size": genuine["tree_size"] + 1}) == "other_tree"
    # the wrong key
    assert (
        verdict_for(genuine, key="log.example/golden+15cad01a+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4")
        == "wrong_key"
    )
    assert problems == []


def test_journalist_reads_a_scorecard_and_downloads_data(
    app: FastAPI,
    client: TestClient,
    db: Database,
    admin_key: str,
    settings: Settings,
    tmp_path: Path,
    new_page: Any,
    axe: Any,
) -> None:
    story = seed_story(client, db, admin_key)
    seed_voice(client, db, settings, story.brand, tmp_path)
    open_case(client, story.brand.id, "Vaccines promised but not paid for")
    page = new_page(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    page.goto(f"/brands/{story.brand.id}")
    row = page.locator("tr", has_text="1 pack = 1 vaccine")
    assert "66.7%" in row.inner_text()
    assert page.locator("svg.chart rect.episode.backlash").count() >= 1
    assert page.locator("text=Vaccines promised but not paid for").count() == 1
    clean(page, axe)
    shoot(page, "scorecard")
    with page.expect_download() as info:
        page.click("text=Voice series (CSV)")
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    assert sum(int(r["posts"]) for r in rows) > 100
    with page.expect_download() as info:
        page.click("text=Brand scorecard (JSON)")
    card = json.loads(Path(info.value.path()).read_text())
    assert card["campaigns"][0]["paid_confirmed"] == 200
    # the same page in French, by the switch
    page.click("nav.lang >> text=Français")
    page.wait_for_url("**lang=fr")
    assert "66,7" in page.locator("tr", has_text="1 pack = 1 vaccine").inner_text()
    assert page.locator("html").get_attribute("lang") == "fr"
    clean(page, axe)
    page.goto("/data")
    assert page.locator(f"a[href='/brands/{story.brand.id}/voice.csv']").count() == 1
    clean(page, axe)


def test_brand_team_creates_a_campaign_and_a_key(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, new_page: Any, axe: Any
) -> None:
    brand = make_brand(client, db, admin_key, name="Pampy")
    make_beneficiary(client, db, admin_key, name="Vaccines for All")
    with db.write() as conn:
        sessions.create_user(conn, "team@pampy.example", "brand", brand.id, PASSWORD)
    page = new_page()
    sign_in(page, "team@pampy.example", axe)
    clean(page, axe)
    page.fill("#c-name", "One pack, one vaccine")
    page.fill("#c-starts", "2026-01-01")
    page.fill("#c-unit1", "tetanus vaccine")
    page.fill("#c-unitn", "tetanus vaccines")
    page.fill("#c-cost", "0.30")
    page.fill("#c-costsrc", "UNICEF price list")
    page.fill("#c-costdate", "2026-01-15")
    page.select_option("#c-rule-1", "per_unit")
    page.fill("#c-rulev-1", "1")
    page.fill("#c-skus-1", "PAMPERS-*")
    page.select_option("#c-rule-2", "per_order")
    page.fill("#c-rulev-2", "2")
    page.fill("#c-cap", "5000")
    page.select_option("#c-status", "active")
    # the preview follows the form (the server writes it) before anything is saved
    page.locator("#preview-text .promise[lang=en]", has_text="For each order").wait_for()
    assert "PAMPERS-*" in page.locator("#preview-text .promise[lang=en]").inner_text()
    clean(page, axe)
    page.click("#create-campaign")
    page.wait_for_url(re.compile(r"/console/brand/campaigns/cmp_"))
    assert "Saved." in page.inner_text("main")
    promise = page.locator("#current-promise").inner_text()
    assert "For each eligible product bought (PAMPERS-*)" in promise
    assert "For each order" in promise
    clean(page, axe)
    page.click("button[data-status=paused]")
    page.wait_for_url(re.compile(r"saved=1"))
    assert page.locator("#campaign-status").get_attribute("data-status") == "paused"
    # ending asks first, on a page of its own; cancelling changes nothing
    page.click("button[data-status=ended]")
    page.locator("#confirm-form").wait_for()
    clean(page, axe)
    page.click("text=Cancel, keep things as they are")
    assert page.locator("#campaign-status").get_attribute("data-status") == "paused"
    page.click("button[data-status=ended]")
    page.click("#confirm-form button[type=submit]")
    page.wait_for_url(re.compile(r"saved=1"))
    assert page.locator("#campaign-status").get_attribute("data-status") == "ended"
    page.goto("/console/brand")
    page.fill("#k-label", "shop")
    page.click("form[action='/console/brand/keys'] button[type=submit]")
    secret = page.locator("#new-key").inner_text()
    assert secret.startswith("sk_live_brand_")
    assert client.get(f"/v1/brands/{brand.id}/balance", headers=auth(secret)).status_code == 200
    # revoking asks first too, and looks unlike creating
    revoke = page.get_by_role("button", name="Revoke shop")
    assert revoke.evaluate("b => getComputedStyle(b).backgroundColor") != page.locator(
        "form[action='/console/brand/keys'] button"
    ).evaluate("b => getComputedStyle(b).backgroundColor")
    revoke.click()
    page.locator("#confirm-form").wait_for()
    page.click("#confirm-form button[type=submit]")
    page.wait_for_url(re.compile(r"/console/brand\?saved=1"))
    assert "revoked" in page.locator("tr", has_text="shop").inner_text()
    assert client.get(f"/v1/brands/{brand.id}", headers=auth(secret)).status_code == 401


def test_beneficiary_confirms_a_payment_and_reports_a_delivery(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, new_page: Any, axe: Any
) -> None:
    story = seed_story(client, db, admin_key)
    with db.write() as conn:
        sessions.create_user(conn, "ngo@vfa.example", "beneficiary", story.beneficiary.id, PASSWORD)
    page = new_page()
    sign_in(page, "ngo@vfa.example")
    clean(page, axe)
    row = page.locator(f"#stl-{story.settlement_ids[1]}")
    row.locator("input[name=note]").first.fill("received on our account")
    row.locator("button:has-text('Confirm')").click()
    page.wait_for_url(re.compile(r"saved=1"))
    assert page.locator(f"#stl-{story.settlement_ids[1]}").count() == 0
    page.select_option("#d-campaign", story.campaign_id)
    page.fill("#d-units", "4")
    page.fill("#d-start", "2026-04-01")
    page.fill("#d-end", "2026-04-30")
    page.fill("#d-evidence", "https://vfa.example/april.pdf")
    page.click("form[action='/console/beneficiary/deliveries'] button[type=submit]")
    page.wait_for_url(re.compile(r"saved=1"))
    balance = client.get(f"/v1/campaigns/{story.campaign_id}/balance").json()
    assert balance["paid_confirmed"]["amount"] == 290
    assert balance["delivered"]["units"] == 10
    page.goto(f"/campaigns/{story.campaign_id}")
    assert page.locator("a[href='https://vfa.example/april.pdf']").count() == 1


def test_publisher_gets_the_snippet_and_daily_figures(
    app: FastAPI,
    client: TestClient,
    db: Database,
    admin_key: str,
    settings: Settings,
    new_page: Any,
    axe: Any,
) -> None:
    from wefirst.widget.service import WidgetService

    from widget.widget_helpers import Clock, World, visitor_of

    clock = Clock()
    widget = replace(app, widget=WidgetService.from_settings(db, settings, clock=clock)).widget
    with TestClient(app, client=("203.0.113.7", 50000)) as widget_client:
        brand = make_brand(widget_client, db, admin_key, name="Aqua Claire")
        ben = make_beneficiary(widget_client, db, admin_key, name="Eau Pour Tous")
        _, pub = signup_publisher(widget_client, "Le carnet de Camille", ["carnet-de-camille.fr"])
        world = World(
            widget_client,
            db,
            admin_key,
            brand,
            "",
            pub["id"],
            pub["api_key"]["secret"],
            clock,
            widget,
            {"beneficiary_id": ben.id},
        )
        world.campaign_id = world.new_campaign()
        for name in ("a", "b"):
            assert world.click(visitor_of(name)).status_code == 201  # counted
    with db.write() as conn:
        sessions.create_user(conn, "camille@carnet.example", "publisher", pub["id"], PASSWORD)
    page = new_page()
    sign_in(page, "camille@carnet.example")
    snippet = page.locator("textarea.snippet").input_value()
    assert f'data-campaign="{world.campaign_id}"' in snippet
    assert "/static/widget.js" in snippet
    assert page.locator("#total-clicks").inner_text() == "2"
    assert page.locator("svg.chart rect.bar").count() == 1
    clean(page, axe)


def test_pages_work_without_javascript(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, new_page: Any
) -> None:
    story = seed_story(client, db, admin_key)
    with db.write() as conn:
        sessions.create_user(conn, "team@pampy.example", "brand", story.brand.id, PASSWORD)
    page = new_page(java_script_enabled=False)
    page.goto(f"/campaigns/{story.campaign_id}")
    assert "10 tetanus vaccines" in page.inner_text("main")
    assert page.locator("svg.chart polyline").count() == 3
    sign_in(page, "team@pampy.example")
    assert "Brand console — Pampy" in page.inner_text("h1")
    # the proof check says plainly that it needs JavaScript; the receipt's code still works
    page.goto("/verify")
    assert "The proof check needs JavaScript" in page.inner_text("main")
    page.fill("#receipt", story.receipt_secret)
    page.click("#verify-form button[type=submit]")
    page.wait_for_url(f"**/receipts/{story.receipt_secret}")
    assert "Your purchase funded 2 tetanus vaccines" in page.inner_text("#receipt-headline")


def test_live_counters_follow_new_pledges(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, new_page: Any
) -> None:
    from factories import purchase

    story = seed_story(client, db, admin_key)
    page = new_page()
    page.goto(f"/campaigns/{story.campaign_id}")
    figure = page.locator("[data-key=pledged_units]")
    assert figure.inner_text() == "10 tetanus vaccines (€3.00)"
    r = client.post(
        "/v1/purchases", json=purchase("live-1", ("PAMPERS-S3", 4, 2499)), headers=auth(story.brand.key)
    )
    assert r.status_code == 200
    page.evaluate("window.wefirstLive.refreshAll()")  # what the 15-second timer does
    page.wait_for_function(
        "document.querySelector('[data-key=pledged_units]').textContent === '14 tetanus vaccines (€4.20)'"
    )
