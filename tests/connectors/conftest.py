"""Fixtures for the connector tests; helpers live in `connectors_support`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from connectors_support import (
    SESSION_ID,
    SHOP,
    SHOPIFY_SECRET,
    SIGNED,
    STRIPE_ACCOUNT,
    STRIPE_SECRET,
    WOO_SECRET,
    WOO_SITE,
    Delivery,
    line_items_body,
    load,
    woo_refund,
)
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from wefirst.ingest.connectors.accounts import ConnectionInfo
from wefirst.ingest.connectors.clients import InMemoryWooRefunds, SDKLineItems, fixture_line_items
from wefirst.ingest.connectors.processing import Remotes
from wefirst.services import replace
from wefirst.store.db import Database
from wefirst.store.tables_core import pledge_reversals, pledges

from factories import Tenant, auth, make_beneficiary, make_brand, make_campaign


@pytest.fixture(params=sorted(SIGNED))
def signed_fixture(request: pytest.FixtureRequest) -> tuple[Delivery, str, str]:
    header, secret = SIGNED[request.param]
    return load(request.param), header, secret


@dataclass
class World:
    """A brand with a PAMPERS-* campaign (1 vaccine per pack) and one connection per
    platform, signed with the fixture secrets; call-backs served from the fixtures."""

    client: TestClient
    db: Database
    brand: Tenant
    campaign_id: str
    connections: dict[str, str]
    woo_refunds: InMemoryWooRefunds
    line_items: SDKLineItems

    def post(
        self,
        platform: str,
        delivery: Delivery,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Response:
        return self.client.post(
            f"/v1/connectors/{self.connections[platform]}/{platform}",
            content=delivery.body if body is None else body,
            headers=delivery.headers if headers is None else headers,
        )

    def net_units(self) -> int:
        with self.db.read() as conn:
            pledged = conn.execute(
                select(func.coalesce(func.sum(pledges.c.units), 0)).where(
                    pledges.c.campaign_id == self.campaign_id
                )
            ).scalar()
            reversed_ = conn.execute(
                select(func.coalesce(func.sum(pledge_reversals.c.units), 0))
                .select_from(pledge_reversals.join(pledges, pledges.c.id == pledge_reversals.c.pledge_id))
                .where(pledges.c.campaign_id == self.campaign_id)
            ).scalar()
        return int(pledged or 0) - int(reversed_ or 0)

    def status(self, platform: str) -> dict[str, Any]:
        r = self.client.get(
            f"/v1/connectors/{self.connections[platform]}/status", headers=auth(self.brand.key)
        )
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result


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
