"""The whole witnessed path in real Chromium: a purchase through the API of a real server
process whose log two witness processes cosign; the reader copies the trust policy the campaign
page offers, opens the receipt link and pastes the policy into the verifier, which checks the
witnesses' cosignatures with WebCrypto. With one witness down, 2 of 2 fails naming it and 1 of 2
passes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from fastapi.testclient import TestClient

from wefirst.settings import Settings
from wefirst.store.db import Database

from browser import new_context
from factories import HISTORY_WINDOW_HOURS, auth, make_beneficiary, make_brand, make_campaign, purchase
from witnessed_deployment import NAMES, Deployment

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def deployment(tmp_path: Path, settings: Settings, db: Database, database_url: str) -> Iterator[Deployment]:
    # The factories replay purchases dated March 2026: the server's claim window must allow them.
    window = {"WEFIRST_CLAIMS_MAX_AGE_HOURS": str(HISTORY_WINDOW_HOURS)}
    d = Deployment(tmp_path, settings, db, database_url, env=window)
    try:
        yield d
    finally:
        d.close()


def buy(api: httpx.Client, brand_key: str, order: str) -> str:
    r = api.post("/v1/purchases", json=purchase(order, ("PAMPERS-S3", 1, 2499)), headers=auth(brand_key))
    assert r.status_code == 200, r.text
    return str(r.json()["results"][0]["receipt"]["secret"])


def check(page: Any, url: str, policy: str) -> tuple[str, str]:
    """Open a receipt link, wait for its automatic check (no policy), then paste the policy and
    verify again; returns the verdict's code and the whole result text."""
    page.goto(url)
    page.wait_for_selector("#verify-verdict")
    page.fill("#policy", policy)
    page.click("#verify-form button[type=submit]")
    done = "#verify-result li:has-text('Cosigned by'), #verify-verdict[data-code=witness_quorum]"
    page.wait_for_selector(done)
    return str(page.get_attribute("#verify-verdict", "data-code")), str(page.inner_text("#verify-result"))


def test_a_real_receipt_meets_the_policy_copied_from_the_campaign_page(
    deployment: Deployment, db: Database, admin_key: str, browser: Any, axe: Callable[[Any], list[Any]]
) -> None:
    d = deployment
    charity, watchdog = NAMES
    with httpx.Client(base_url=d.server.url, timeout=30) as api:
        client = cast(TestClient, api)  # the factories only call .post on it
        brand = make_brand(client, db, admin_key)
        ben = make_beneficiary(client, db, admin_key)
        campaign = make_campaign(client, brand, ben.id)
        first = buy(api, brand.key, "W-1")
        d.wait_all_cosigned()
        context = new_context(browser, viewport={"width": 390, "height": 844})  # a phone
        try:
            page = context.new_page()
            page.goto(f"{d.server.url}/campaigns/{campaign}")
            assert axe(page) == []
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= 390, f"the campaign page with its policy is {wide}px wide on a phone"
            copied = page.input_value("#trust-policy")
            assert copied == d.policy(2)  # the default: this log's key and both witnesses, all needed
            code, text = check(page, f"{d.server.url}/receipts/{first}", copied)
            assert code == "ok", text
            assert charity in text
            assert watchdog in text

            d.witnesses[watchdog].kill()
            second = buy(api, brand.key, "W-2")
            d.wait_all_cosigned((charity,))
            code, text = check(page, f"{d.server.url}/receipts/{second}", copied)
            assert code == "witness_quorum", text
            assert watchdog in page.inner_text("#verify-verdict")
            code, text = check(page, f"{d.server.url}/receipts/{second}", d.policy(1))
            assert code == "ok", text
            assert charity in text
        finally:
            context.close()
