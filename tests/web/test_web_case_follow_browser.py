"""Following a case in Chromium, on the demo at 390 px (a phone), in English and French: the
form on the case page, the confirmation mail in the demo outbox, its button, the brand's answer
reaching the follower through the background mailer, and the mail's unsubscribe link. Every page
axe-clean, without CSP violation or script error, never scrolling sideways.

WEFIRST_SCREENSHOTS=<folder> saves the pages (docs/screenshots/ holds the committed ones)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from waiting import wait_until
from web.demo_site import DemoSite, demo_site
from web.visit_helpers import Visit

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    with demo_site(tmp_path_factory.mktemp("demo")) as found:
        yield found


def outbox_link(site: DemoSite, address: str, path: str) -> str | None:
    """The newest link under `path` in a mail to `address`, as the outbox page shows it."""
    html = httpx.get(site.url + "/demo/outbox", timeout=30).text
    for item in html.split("<li>")[1:]:
        if address in item:
            found = re.search(rf'href="({re.escape(site.url)}{path}/[^"?]+)', item)
            if found:
                return found.group(1)
    return None


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_a_reader_follows_a_case_hears_the_answer_and_unsubscribes(
    browser: Any, site: DemoSite, axe: Any, locale: str
) -> None:
    ids, lang = site.ctx.ids, locale[:2]
    address = f"follower-{lang}@example.org"
    case_id = ids["case_gap"]
    v = Visit(browser, site, 390, locale, axe)
    page = v.open(f"/cases/{case_id}")
    page.fill("#fl-email", address)
    page.click("form[action$='/follow'] button[type=submit]")
    page.wait_for_url("**?follow=sent#follow")
    assert page.locator("#follow .notice.ok").count() == 1
    v.check("case-follow")

    confirm = wait_until(lambda: outbox_link(site, address, "/cases/follow"), what="the confirmation mail")
    v.open("/demo/outbox", "outbox-follow")
    v.open(confirm.removeprefix(site.url), "follow-confirm")
    page.click("#follow-link-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#follow-link-form").count() == 0
    v.check("follow-confirmed")

    brand = httpx.get(f"{site.url}/v1/cases/{case_id}", timeout=30).json()["brand_id"]
    key = next(site.ctx.keys[name] for name in ("brand1", "brand2") if ids[name] == brand)
    r = httpx.post(
        f"{site.url}/v1/cases/{case_id}/answers",
        json={"body": f"We published every transfer ({lang}).", "language": "en", "commitments": []},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    stop = wait_until(
        lambda: outbox_link(site, address, "/cases/unfollow"), what="the answer's mail to the follower"
    )
    v.open(stop.removeprefix(site.url), "unfollow")
    page.click("#follow-link-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#follow-link-form").count() == 0
    assert page.locator(f"a[href='/cases/{case_id}']").count() == 1
    v.check("unfollowed")
    v.close()
