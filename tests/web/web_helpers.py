"""Shared set-up for the page tests: the real app with the pages router, and a campaign with
pledges, a confirmed and a disputed payment, and a delivery — made through the HTTP API, the
way brands and beneficiaries make them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from factories import Tenant, auth, make_beneficiary, make_brand, make_campaign, purchase
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.api import pages
from wefirst.store.db import Database


def with_pages(app: FastAPI) -> FastAPI:
    """The app from create_app, plus the pages router when api/app.py does not list it yet."""
    if not any(getattr(r, "path", None) == "/verify" for r in app.routes):
        app.include_router(pages.router)
    return app


@dataclass
class Story:
    brand: Tenant
    beneficiary: Tenant
    campaign_id: str
    receipt_secret: str
    settlement_ids: list[str]


def seed_story(client: TestClient, db: Database, admin_key: str) -> Story:
    brand = make_brand(client, db, admin_key, name="Pampy")
    ben = make_beneficiary(client, db, admin_key, name="Vaccines for All")
    cid = make_campaign(client, brand, ben.id)
    secret = ""
    for i, (when, qty) in enumerate([("2026-03-01T10:00:00Z", 2), ("2026-03-03T10:00:00Z", 5),
                                     ("2026-03-09T10:00:00Z", 3)]):
        r = client.post("/v1/purchases", json=purchase(f"O-{i}", ("PAMPERS-S3", qty, 2499),
                                                       when=when), headers=auth(brand.key))
        assert r.status_code == 200, r.text
        secret = secret or r.json()["results"][0]["receipt"]["secret"]
    sids = []
    for amount, ref in ((200, "SEPA-1"), (90, "SEPA-2")):
        r = client.post(f"/v1/campaigns/{cid}/settlements",
                        json={"amount": {"amount": amount, "currency": "EUR"},
                              "external_reference": ref, "paid_at": "2026-03-10T09:00:00Z"},
                        headers=auth(brand.key))
        assert r.status_code == 201, r.text
        sids.append(r.json()["id"])
    r = client.post(f"/v1/settlements/{sids[0]}/confirm", json={"note": "received"},
                    headers=auth(ben.key))
    assert r.status_code == 200, r.text
    r = client.post(f"/v1/campaigns/{cid}/deliveries",
                    json={"units": 6, "period_start": "2026-03-01", "period_end": "2026-03-31",
                          "evidence_url": "https://example.org/report-march.pdf"},
                    headers=auth(ben.key))
    assert r.status_code == 201, r.text
    return Story(brand, ben, cid, secret, sids)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the form"
    return found.group(1)


def text_of(html: str) -> str:
    """Visible text, roughly: tags dropped, whitespace folded (for asserting on sentences)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\u202f", " ").replace(
        "\xa0", " ")


def any_of(*values: Any) -> Any:
    return values
