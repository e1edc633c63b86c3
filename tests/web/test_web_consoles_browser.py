"""Issue 15's console stories in Chromium, on the whole demo with the sign-ins it prints: every
console page (brand, a brand's campaign, beneficiary, publisher) at 390 and 1280 px in English
and French is axe-clean, raises no CSP violation or script error and never scrolls sideways; a
publisher finds a campaign, joins it, waits for the brand's approval and copies its snippet.

WEFIRST_SCREENSHOTS=<folder> saves the pages as PNG, as in test_web_people_browser."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from factories import campaign_body
from web.demo_site import DemoSite, demo_site
from web.visit_helpers import WIDTHS, Visit

pytestmark = pytest.mark.browser

CONSOLES = {
    "brand@doudou.example": [
        ("/console/brand", "console-brand"),
        ("/console/brand/campaigns/{vaccine}", "console-campaign"),
    ],
    "team@vwb.example": [("/console/beneficiary", "console-beneficiary")],
    "blog@carnet.example": [("/console/publisher", "console-publisher")],
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    with demo_site(tmp_path_factory.mktemp("demo")) as found:
        yield found


def sign_in(v: Visit, site: DemoSite, email: str) -> None:
    v.page.goto("/signin")
    v.page.fill("#email", email)
    v.page.fill("#password", site.password())
    v.page.click("form[action='/signin'] button[type=submit]")
    v.page.wait_for_url("**/console/**")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_every_console_fits_a_phone(browser: Any, site: DemoSite, axe: Any, width: int, locale: str) -> None:
    for email, pages in CONSOLES.items():
        v = Visit(browser, site, width, locale, axe)
        try:
            sign_in(v, site, email)
            for path, shot in pages:
                v.open(path.format(**site.ctx.ids), shot)
        finally:
            v.close()


def test_a_publisher_joins_a_campaign_waits_for_approval_and_copies_its_snippet(
    browser: Any, site: DemoSite, axe: Any
) -> None:
    ids, keys = site.ctx.ids, site.ctx.keys
    brand = {"Authorization": f"Bearer {keys['brand2']}"}
    body = campaign_body(
        ids["ngo2"],
        name="One click, one meal",
        rules=[{"kind": "per_click", "units_per_click": 1}],
        starts_at="2026-01-01T00:00:00Z",
    )
    r = httpx.post(f"{site.url}/v1/campaigns", json=body, headers=brand, timeout=30)
    assert r.status_code == 201, r.text
    campaign = r.json()["id"]
    v = Visit(browser, site, 390, "en-GB", axe)
    v.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    try:
        sign_in(v, site, "blog@carnet.example")
        page = v.check("console-publisher-join")
        card = page.locator("article.joinable", has_text="One click, one meal")
        card.locator("button", has_text="Join").click()
        page.wait_for_url("**saved=1**")
        joined = page.locator(f"article.joined[data-campaign='{campaign}']")
        assert "Awaiting the brand's approval" in joined.locator(".join-state").inner_text()
        assert page.locator("article.joinable", has_text="One click, one meal").count() == 0
        v.check()
        url = f"{site.url}/v1/widget/campaigns/{campaign}/publishers/{ids['publisher']}/approval"
        assert httpx.put(url, headers=brand, timeout=30).status_code == 200
        page.reload()
        assert "clicks count" in joined.locator(".join-state").inner_text()
        joined.locator("button[data-copy]").click()
        status = joined.locator("[role=status]")
        status.filter(has_text="Copied.").wait_for()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert f'data-campaign="{campaign}"' in copied
    finally:
        v.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_the_brand_answers_a_case_and_anyone_can_report_it(
    browser: Any, site: DemoSite, axe: Any, width: int, locale: str
) -> None:
    """The answer form shows only to the case's brand; the report form to everyone; both
    pages stay clean on a phone in both languages (the HTTP test covers what they do)."""
    ids = site.ctx.ids
    listed = httpx.get(f"{site.url}/v1/cases", params={"brand_id": ids["brand1"]}, timeout=30).json()
    case = next(c["id"] for c in listed["data"] if c["state"] in ("open", "answered", "not_accepted"))
    reader = Visit(browser, site, width, locale, axe)
    try:
        page = reader.open(f"/cases/{case}")
        assert page.locator("#answer-form").count() == 0
        page.locator("#report summary").click()
        reader.check()
    finally:
        reader.close()
    v = Visit(browser, site, width, locale, axe)
    try:
        sign_in(v, site, "brand@doudou.example")
        page = v.open(f"/cases/{case}", "case-answer")
        assert page.locator("#answer-form textarea[name=body]").count() == 1
        assert page.locator("#answer-form input[type=date]").count() == 3
    finally:
        v.close()
