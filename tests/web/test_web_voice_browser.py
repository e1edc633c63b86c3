"""Issue 17's listening pages in Chromium, on the whole demo with its written voice posts: the
scorecard's voice section (stacked per-day chart, share of voice) and the brand console's voice
page (filters, competitors, alert endpoints and rules) at 390 and 1280 px in English and French
are axe-clean, raise no CSP violation or script error and never scroll sideways; a brand adds
an endpoint and a rule there.

WEFIRST_SCREENSHOTS=<folder> saves the pages as PNG (docs/screenshots/listening-*)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wefirst.voice import demo as voice_demo

from web.demo_site import DemoSite, demo_site
from web.test_web_consoles_browser import sign_in
from web.visit_helpers import SHOTS, WIDTHS, Visit

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    with demo_site(tmp_path_factory.mktemp("demo")) as found:
        voice_demo.demo_step(found.ctx)  # the written posts, as `make demo` runs it
        yield found


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_the_voice_pages_fit_a_phone(browser: Any, site: DemoSite, axe: Any, width: int, locale: str) -> None:
    v = Visit(browser, site, width, locale, axe)
    try:
        page = v.open(f"/brands/{site.ctx.ids['brand1']}")
        if SHOTS:  # the voice section, not the page's first screen
            name = f"listening-scorecard-{width}{'' if locale == 'en-GB' else '-fr'}.png"
            page.locator("section[aria-labelledby=voice-h]").screenshot(path=str(Path(SHOTS) / name))
        assert page.locator("svg.chart rect.bar.negative").count() > 30
        assert page.locator("svg.chart rect.bar.positive").count() > 30
        assert page.locator("table.shares tbody tr").count() == 2
        sign_in(v, site, "brand@doudou.example")
        page = v.open("/console/brand/voice", "listening-console")
        assert page.locator("svg.chart rect.bar").count() > 30
        page.select_option("#f-language", "fr")
        page.select_option("#f-polarity", "negative")
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**language=fr**")
        v.check("listening-console-filtered")
        classes = page.locator("svg.chart rect.bar").evaluate_all(
            "els => els.map(e => e.getAttribute('class'))"
        )
        assert classes
        assert set(classes) == {"bar negative"}
    finally:
        v.close()


def test_a_brand_adds_an_endpoint_and_an_alert_rule(browser: Any, site: DemoSite, axe: Any) -> None:
    v = Visit(browser, site, 390, "en-GB", axe)
    try:
        sign_in(v, site, "brand@doudou.example")
        page = v.open("/console/brand/voice")
        page.fill("#e-url", "https://hooks.doudou.example/alerts")
        page.click("form[action^='/console/brand/voice/endpoints'] button[type=submit]")
        page.wait_for_selector("#new-secret")
        assert page.locator("#new-secret").inner_text().startswith("whsec_")
        v.check()
        page.select_option("#a-polarity", "negative")
        page.fill("#a-min", "30")
        page.click("form[action^='/console/brand/voice/alert-rules'] button[type=submit]")
        page.wait_for_url("**saved=1**")
        v.check("listening-rules")
        row = page.locator("section[aria-labelledby=rules-h] tbody tr").first.inner_text()
        assert "Backlash (negative)" in row
        assert "https://hooks.doudou.example/alerts" in row
    finally:
        v.close()
