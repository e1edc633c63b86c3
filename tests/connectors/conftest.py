"""Fixtures for the connector tests; helpers live in `connectors_support`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from fastapi.testclient import TestClient

from wefirst.ingest.connectors.accounts import ConnectionInfo
from wefirst.ingest.connectors.clients import InMemoryWooRefunds, fixture_line_items
from wefirst.ingest.connectors.processing import Remotes
from wefirst.services import replace
from wefirst.store.db import Database

from connectors.connectors_support import (
    SESSION_ID,
    SHOP,
    SHOPIFY_SECRET,
    SIGNED,
    STRIPE_ACCOUNT,
    STRIPE_SECRET,
    WOO_SECRET,
    WOO_SITE,
    Delivery,
    World,
    line_items_body,
    load,
    woo_refund,
)
from factories import auth, make_beneficiary, make_brand, make_campaign


@pytest.fixture(params=sorted(SIGNED))
def signed_fixture(request: pytest.FixtureRequest) -> tuple[Delivery, str, str]:
    header, secret = SIGNED[request.param]
    return load(request.param), header, secret


@pytest.fixture
def world(client: TestClient, db: Database, admin_key: str) -> World:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    campaign_id = make_campaign(client, brand, ben.id)
    specs = {
        "shopify": (SHOP, SHOPIFY_SECRET, None),
        "woocommerce": (WOO_SITE, WOO_SECRET, {"consumer_key": "ck_x", "consumer_secret": "cs_x"}),
        "stripe": (STRIPE_ACCOUNT, STRIPE_SECRET, {"api_key": "sk_test_fixture"}),
        "retail": ("RETAILCO-FR", None, None),
    }
    connections: dict[str, str] = {}
    for platform, (account, secret, credentials) in specs.items():
        body: dict[str, Any] = {"platform": platform, "account": account}
        if secret:
            body["secret"] = secret
        if credentials:
            body["credentials"] = credentials
        r = client.post("/v1/connectors", json=body, headers=auth(brand.key))
        assert r.status_code == 201, r.text
        connections[platform] = r.json()["id"]
    r = client.put(
        f"/v1/connectors/{connections['retail']}/mappings",
        headers=auth(brand.key),
        json={
            "rules": [
                {"kind": "sku", "pattern": "PAMPERS-*", "campaign_id": campaign_id},
                {"kind": "sku", "pattern": "PG-*", "campaign_id": campaign_id},
                {"kind": "gtin", "pattern": "2000001003527", "sku": "PAMPERS-BABYDRY-S3-52"},
            ]
        },
    )
    assert r.status_code == 200, r.text
    woo = InMemoryWooRefunds({("4817", "4861"): woo_refund()})
    items = fixture_line_items({SESSION_ID: line_items_body()})

    def remotes(info: ConnectionInfo, credentials: Mapping[str, str]) -> Remotes:
        return Remotes(stripe=items, woo=woo)

    replace(client.app, connector_remotes=remotes)
    return World(client, db, brand, campaign_id, connections, woo, items)
