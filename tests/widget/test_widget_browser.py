"""The widget in Debian's Chromium, embedded in the French sample blog served from a different
origin (127.0.0.2) than the API (127.0.0.1), both real servers on loopback."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from wefirst.app import create_app
from wefirst.catalog.models import BeneficiaryIn, BrandIn, CampaignIn
from wefirst.catalog.service import create_beneficiary, create_brand, create_campaign, set_status
from wefirst.pledges.engine import apply_click
from wefirst.pledges.model import ClickIn
from wefirst.settings import Settings
from wefirst.store import migrate
from wefirst.store.db import Database
from wefirst.store.tables_core import pledges
from wefirst.widget import demo_blog
from wefirst.widget import publishers as pubs

from browser import DESKTOP_USER_AGENT, chromium, new_context
from live_server import LiveServer, free_port
from waiting import wait_until
from widget.widget_helpers import water_unit

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
WIDGET = ".wefirst-widget"


@dataclass
class Live:
    api: str
    blog: str
    stranger_blog: str
    db: Database
    campaigns: dict[str, str]
    shots: Path
    publisher: str = ""


def _campaign(conn: Any, brand_id: str, ben_id: str, name: str, **extra: Any) -> str:
    body = {
        "name": name,
        "beneficiary_id": ben_id,
        "currency": "EUR",
        "starts_at": "2026-01-01T00:00:00Z",
        "impact_unit": water_unit(),
        "rules": [{"kind": "per_click", "units_per_click": 1}],
        "status": "active",
        **extra,
    }
    return str(create_campaign(conn, brand_id, CampaignIn.model_validate(body))["id"])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium)")
    tmp = tmp_path_factory.mktemp("widget-browser")
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'w.db'}",
        base_url=api,
        secret_key="browser-test-" + "k" * 32,
        data_dir=tmp,
    )
    db = Database(settings)
    migrate.upgrade(db)
    with db.write() as conn:
        brand = create_brand(conn, BrandIn(name="Aqua Claire"))["id"]
        ben = create_beneficiary(conn, BeneficiaryIn(name="Eau Pour Tous"))["id"]
        ids = {
            "main": _campaign(conn, brand, ben, "Un clic = une journée d'eau"),
            "paused": _campaign(conn, brand, ben, "En pause"),
            "capped": _campaign(conn, brand, ben, "Plafonnée", caps={"total_units": 1}),
            "pow": _campaign(conn, brand, ben, "Sous attaque"),
            "english": _campaign(conn, brand, ben, "English"),
            "paused_later": _campaign(conn, brand, ben, "Mise en pause pendant la lecture"),
            "default_pow": _campaign(conn, brand, ben, "Preuve de travail par défaut"),
        }
        pub = pubs.create_publisher(conn, name="Le carnet de Camille", domains=["127.0.0.2"])
        for cid in ids.values():
            pubs.join_campaign(conn, pub["id"], cid, approved=True)
        set_status(conn, ids["paused"], "paused")
        apply_click(conn, ClickIn(ids["capped"], "someone", datetime.now(UTC)))
        pubs.set_widget_settings(
            conn,
            ids["pow"],
            pow_bits=12,
            texts={"line": {"fr": "Chaque clic finance une journée d'eau potable"}},
        )
        pubs.set_widget_settings(
            conn,
            ids["main"],
            pow_bits=0,
            texts={
                "line": {
                    "fr": "Chaque clic finance une journée d'eau potable",
                    "en": "Every click funds a day of clean drinking water",
                },
                "counter": {"fr": {"one": "jour d'eau potable", "other": "jours d'eau potable"}},
            },
        )
    app = create_app(settings, db=db)
    with LiveServer(app, port, lifespan="on"):
        blog = demo_blog.serve(api, ids["main"], pub["id"], host="127.0.0.2")
        stranger = demo_blog.serve(api, ids["main"], pub["id"], host="127.0.0.3")
        try:
            shots = tmp / "shots"
            shots.mkdir()
            yield Live(api, blog.url, stranger.url, db, ids, shots, pub["id"])
            # for people reviewing a CI failure: the screenshots this worker's tests took (a test
            # of its own could land on a worker that ran none of them under pytest-xdist)
            if out := os.environ.get("WEFIRST_WIDGET_SHOTS_DIR"):
                shutil.copytree(shots, out, dirs_exist_ok=True)
        finally:
            blog.stop()
            stranger.stop()
    db.dispose()


@pytest.fixture(scope="module")
def browser(live: Live) -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = new_context(
        browser, user_agent=DESKTOP_USER_AGENT, locale="fr-FR", viewport={"width": 900, "height": 760}
    )
    p = context.new_page()
    yield p
    context.close()


def _pledges(live: Live, campaign: str) -> int:
    with live.db.read() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(pledges).where(pledges.c.campaign_id == campaign)
            ).scalar_one()
        )


def _wait_state(page: Any, state: str) -> None:
    try:
        page.wait_for_selector(f"{WIDGET}[data-state={state}]", state="attached")
    except Exception:
        found = page.evaluate(
            "() => Array.from(document.querySelectorAll('.wefirst-widget'))"
            ".map(e => e.getAttribute('data-state') + ' ' +"
            " e.shadowRoot.textContent)"
        )
        raise AssertionError(f"widget not in state {state}: {found}") from None


def test_renders_counts_once_and_not_twice_the_same_day(live: Live, page: Any) -> None:
    before = _pledges(live, live.campaigns["main"])
    page.goto(live.blog)
    _wait_state(page, "ready")
    widget = page.locator(WIDGET)
    assert widget.locator("section[role=region]").get_attribute("aria-label") == "Don par clic"
    assert widget.locator(".l").inner_text() == "Chaque clic finance une journée d'eau potable"
    counter = widget.locator("p.c")
    assert counter.get_attribute("aria-live") == "polite"
    label = "jour d'eau potable" if before < 2 else "jours d'eau potable"
    # what is counted is promised, and the widget says so (never "envoyé" for a pledge)
    assert counter.inner_text().replace("\u202f", " ") == f"Promis à ce jour\u00a0: {before} {label}"
    page.locator(WIDGET).screenshot(path=str(live.shots / "widget-ready.png"))

    # A second tab of the same reader, opened before the click.
    second = page.context.new_page()
    second.goto(live.blog)
    _wait_state(second, "ready")

    widget.get_by_role("button", name="Je clique pour donner").click()
    _wait_state(page, "thanks")
    status = widget.locator("p.s")
    assert "Merci ! Votre clic est compté." in status.inner_text()
    receipt = status.get_by_role("link", name="Voir le reçu qui le prouve")
    assert receipt.get_attribute("href").startswith(f"{live.api}/receipts#rcpt_")
    assert _pledges(live, live.campaigns["main"]) == before + 1
    assert str(before + 1) in counter.inner_text()
    page.screenshot(path=str(live.shots / "blog-thanks.png"))
    target = os.environ.get("WEFIRST_WIDGET_SCREENSHOT")
    if target:
        page.locator("aside").scroll_into_view_if_needed()
        page.screenshot(path=target)

    # The receipt link: the log's page finds the click's entry and checks its proof by itself
    # (the sequencer integrates the entry within a batch or two).
    proof = page.context.new_page()
    proof.goto(receipt.get_attribute("href"))

    def verified() -> bool:
        if proof.locator("#verify-verdict[data-code=ok]").count():
            return True
        proof.reload()
        return False

    wait_until(verified, what=lambda: "the receipt page to verify: " + proof.content()[:2000])
    assert "Vérifié" in proof.locator("#verify-verdict").inner_text()  # the reader's fr-FR locale
    proof.screenshot(path=str(live.shots / "receipt-verified.png"))
    proof.close()

    second.locator(WIDGET).get_by_role("button").click()
    _wait_state(second, "already")
    assert "déjà donné aujourd’hui" in second.locator(f"{WIDGET} p.s").inner_text()
    assert _pledges(live, live.campaigns["main"]) == before + 1

    page.reload()
    _wait_state(page, "already")
    assert page.locator(WIDGET).get_by_role("button").is_hidden()
    assert page.locator(f"{WIDGET} p.s a").get_attribute("href") == receipt.get_attribute("href")
    assert _pledges(live, live.campaigns["main"]) == before + 1


def test_keyboard_activation(live: Live, page: Any) -> None:
    before = _pledges(live, live.campaigns["main"])
    page.goto(live.blog)
    _wait_state(page, "ready")
    focused = ""
    for _ in range(10):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const h = document.activeElement;"
            " return h && h.shadowRoot && h.shadowRoot.activeElement ?"
            " h.shadowRoot.activeElement.tagName + ':' + h.shadowRoot.activeElement.textContent"
            " : (h ? h.tagName : ''); }"
        )
        if focused.startswith("BUTTON:"):
            break
    assert focused == "BUTTON:Je clique pour donner"
    outline = page.evaluate(
        "() => getComputedStyle(document.activeElement.shadowRoot.activeElement).outlineStyle"
    )
    assert outline == "solid"
    page.keyboard.press("Enter")
    _wait_state(page, "thanks")
    assert _pledges(live, live.campaigns["main"]) == before + 1


def test_the_counter_is_live(live: Live, page: Any) -> None:
    """Other readers' clicks show up without a reload (the widget reads the state every minute;
    the page's clock is driven by the test)."""
    page.clock.install()
    page.goto(f"{live.blog}?campaign={live.campaigns['english']}&lang=en")
    _wait_state(page, "ready")
    counter = page.locator(f"{WIDGET} p.c .n")
    before = int(counter.inner_text().replace(",", ""))
    with live.db.write() as conn:
        for i in range(3):
            apply_click(conn, ClickIn(live.campaigns["english"], f"elsewhere-{i}", datetime.now(UTC)))
    page.clock.run_for(61_000)
    page.wait_for_function(
        f"() => document.querySelector('.wefirst-widget').shadowRoot"
        f".querySelector('.n').textContent.replace(',', '') === '{before + 3}'"
    )
    assert page.locator(WIDGET).get_attribute("data-state") == "ready"


def test_a_campaign_paused_while_the_page_is_open(live: Live, page: Any) -> None:
    page.goto(f"{live.blog}?campaign={live.campaigns['paused_later']}")
    _wait_state(page, "ready")
    with live.db.write() as conn:
        set_status(conn, live.campaigns["paused_later"], "paused")
    page.locator(WIDGET).get_by_role("button").click()
    _wait_state(page, "paused")
    assert "Campagne en pause" in page.locator(f"{WIDGET} p.s").inner_text()
    assert page.locator(WIDGET).get_by_role("button").is_hidden()
    assert _pledges(live, live.campaigns["paused_later"]) == 0


def test_unregistered_site_is_refused(live: Live, page: Any) -> None:
    before = _pledges(live, live.campaigns["main"])
    page.goto(live.stranger_blog)
    _wait_state(page, "bad_origin")
    assert "n’est pas autorisé sur ce site" in page.locator(f"{WIDGET} p.s").inner_text()
    assert page.locator(WIDGET).get_by_role("button").is_hidden()
    page.locator(WIDGET).screenshot(path=str(live.shots / "widget-bad-origin.png"))
    assert _pledges(live, live.campaigns["main"]) == before


@pytest.mark.parametrize(
    ("which", "state", "text"),
    [("paused", "paused", "Campagne en pause"), ("capped", "cap_reached", "Objectif atteint")],
)
def test_paused_and_cap_states(live: Live, page: Any, which: str, state: str, text: str) -> None:
    page.goto(f"{live.blog}?campaign={live.campaigns[which]}")
    _wait_state(page, state)
    assert text in page.locator(f"{WIDGET} p.s").inner_text()
    assert page.locator(WIDGET).get_by_role("button").is_hidden()
    page.locator(WIDGET).screenshot(path=str(live.shots / f"widget-{state}.png"))


def test_english_and_host_css_isolation(live: Live, page: Any) -> None:
    page.goto(f"{live.blog}?campaign={live.campaigns['english']}&lang=en")
    _wait_state(page, "ready")
    button = page.locator(WIDGET).get_by_role("button", name="Click to give")
    assert page.locator(f"{WIDGET} section").get_attribute("lang") == "en"
    assert "days of clean water" in page.locator(f"{WIDGET} p.c").inner_text()
    # The page styles every button hot pink in Georgia; the widget must not change.
    style = button.evaluate("b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).fontFamily]")
    assert style[0] == "rgb(11, 87, 164)"
    assert "Georgia" not in style[1]


def test_proof_of_work_is_done_by_the_browser(live: Live, page: Any) -> None:
    page.goto(f"{live.blog}?campaign={live.campaigns['pow']}")
    _wait_state(page, "ready")
    page.locator(WIDGET).get_by_role("button").click()
    _wait_state(page, "thanks")
    assert _pledges(live, live.campaigns["pow"]) == 1


def test_a_readers_click_counts_on_a_4x_throttled_page(live: Live, page: Any) -> None:
    """Issue 12: with proof of work on by default (no campaign setting: the default bits), a
    real reader's click counts on a page whose CPU runs 4x slower. How long it takes is printed
    (run with -s) and recorded in docs/benchmarks.md, not asserted: on a busy machine the clock
    measures the machine (1.07 s seen under load), not the widget."""
    cid = live.campaigns["default_pow"]
    state = httpx.get(
        f"{live.api}/v1/widget/campaigns/{cid}/state",
        params={"publisher": live.publisher, "visitor": "0" * 64},
        headers={"Origin": live.blog},
    ).json()
    assert state["challenge"]["pow_bits"] == Settings().widget_pow_bits_default
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    page.goto(f"{live.blog}?campaign={cid}")
    _wait_state(page, "ready")
    # the reader reads the post and the widget's line before clicking; the proof of work runs meanwhile
    page.wait_for_timeout(800)
    started = time.monotonic()
    page.locator(WIDGET).get_by_role("button").click()
    _wait_state(page, "thanks")
    elapsed = time.monotonic() - started
    print(f"click to counted on a 4x throttled page: {elapsed:.3f} s")  # shown with -s
    assert _pledges(live, cid) == 1


def test_headless_user_agent_is_refused(live: Live, browser: Any) -> None:
    context = new_context(browser, locale="fr-FR")  # Chromium's own "HeadlessChrome" UA
    try:
        p = context.new_page()
        before = _pledges(live, live.campaigns["english"])
        p.goto(f"{live.blog}?campaign={live.campaigns['english']}")
        _wait_state(p, "ready")
        p.locator(WIDGET).get_by_role("button").click()
        _wait_state(p, "automated")
        assert "n’a pas pu être compté" in p.locator(f"{WIDGET} p.s").inner_text()
        assert _pledges(live, live.campaigns["english"]) == before
    finally:
        context.close()


def test_reduced_motion_and_accessibility(live: Live, browser: Any) -> None:
    context = new_context(browser, user_agent=DESKTOP_USER_AGENT, reduced_motion="reduce")
    try:
        p = context.new_page()
        p.goto(live.blog)
        _wait_state(p, "ready")
        duration = p.locator(f"{WIDGET} button").evaluate("b => getComputedStyle(b).transitionDuration")
        assert duration in ("0s", "0s, 0s")
        if not AXE.exists():
            pytest.skip("axe-core is missing (npm ci at the repository root)")
        p.evaluate(AXE.read_text(encoding="utf-8"))
        violations = p.evaluate(
            "async () => (await axe.run(document.querySelector('.wefirst-widget'),"
            " {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact}))"
        )
        assert [v for v in violations if v["impact"] in ("serious", "critical")] == []
    finally:
        context.close()
