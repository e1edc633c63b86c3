"""Operations: health, metrics, OpenAPI, migrations in step with the code, settings docs."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from wefirst.settings_doc import render
from wefirst.store import migrate
from wefirst.store.db import Database

from factories import auth, make_beneficiary, make_brand, make_campaign, purchase

REPO = Path(__file__).resolve().parents[2]


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert "/v1/purchases" in spec["paths"]
    assert "/v1/campaigns/{campaign_id}/balance" in spec["paths"]


def test_metrics_count_requests_and_outcomes(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    make_campaign(client, brand, ben.id)
    client.post(
        "/v1/purchases", json=purchase("O-1", ("PAMPERS-1", 2, 100), ("X", 1, 1)), headers=auth(brand.key)
    )
    text = client.get("/metrics").text
    assert 'wefirst_events_total{kind="purchase",outcome="pledged"} 1.0' in text
    assert 'wefirst_events_total{kind="purchase",outcome="no_rule"} 1.0' in text
    assert 'wefirst_http_requests_total{method="POST",route="/v1/purchases",status="200"}' in text
    assert "wefirst_http_request_seconds_bucket" in text
    assert 'wefirst_queue_depth{queue="tlog"}' in text


def test_migrations_match_the_tables_in_code(db: Database) -> None:
    assert migrate.pending_differences(db) == []


def test_settings_doc_is_current() -> None:
    assert (REPO / "docs" / "settings.md").read_text() == render(), (
        "docs/settings.md is stale: run `wefirst settings-doc > docs/settings.md`"
    )
