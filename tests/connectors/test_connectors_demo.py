"""The demo's replay goes through the real receivers and ends with the balances it claims."""

from __future__ import annotations

from fastapi.testclient import TestClient

from wefirst.ingest.connectors.demo import rename_for_demo, replay_fixtures
from wefirst.services import services_of
from wefirst.store.db import Database

from factories import make_beneficiary, make_brand, make_campaign


def test_replay_fixtures_feeds_every_platform(client: TestClient, db: Database, admin_key: str) -> None:
    services_of(client.app).settings.connectors_fake_remote = True
    brand = make_brand(client, db, admin_key, name="Doudou Diapers")
    ben = make_beneficiary(client, db, admin_key)
    campaign = make_campaign(
        client, brand, ben.id, rules=[{"kind": "per_unit", "sku_patterns": ["DOUDOU-*"], "units_per_item": 1}]
    )
    result = replay_fixtures(client, brand_key=brand.key, campaign_id=campaign)
    status = result["status"]
    # Shopify: 2 packs, 1 refunded; the redelivery dropped, the test order ignored
    assert status["shopify"]["deliveries"]["duplicates"] == 1
    assert status["shopify"]["deliveries"]["by_status"] == {"ignored": 1, "processed": 2}
    assert status["shopify"]["pledged_units"] - status["shopify"]["reversed_units"] == 1
    # WooCommerce: 3 packs, 1 refunded (quantity read from the recorded refunds API)
    assert status["woocommerce"]["pledged_units"] - status["woocommerce"]["reversed_units"] == 2
    assert status["woocommerce"]["deliveries"]["received"] == 2  # the ping is not counted
    # Stripe: 2 packs in the Checkout session, 24.99 € refunded = 1 pack
    assert status["stripe"]["pledged_units"] - status["stripe"]["reversed_units"] == 1
    # the retailer's week: 620 packs; Marseille's net return waits for a later report
    assert status["retail"]["pledged_units"] == 620
    assert status["retail"]["held_reversals"] == 1
    # and the campaign's public balance is exactly what came through the connectors
    balance = client.get(f"/v1/campaigns/{campaign}/balance")
    assert balance.status_code == 200, balance.text
    assert balance.json()["pledged"]["units"] == 1 + 2 + 1 + 620


def test_demo_names_no_real_brand() -> None:
    text = rename_for_demo('{"sku":"PAMPERS-X","v":"P&G Purifier of Water","s":"pg-demo.example"}')
    assert text == '{"sku":"DOUDOU-X","v":"Clairo Purifier of Water","s":"doudou.example"}'
