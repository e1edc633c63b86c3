"""The demo seed: a complaint with a promise gap, a praise case, an unanswered complaint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from fastapi.testclient import TestClient

from wefirst.cases import demo
from wefirst.settings import Settings
from wefirst.store.db import Database

from cases.cases_kit import brand_with_gap, case_log
from factories import make_brand


def test_seed(client: TestClient, db: Database, admin_key: str, settings: Settings) -> None:
    brand, cid = brand_with_gap(client, db, admin_key)
    other = make_brand(client, db, admin_key, "Clairo")
    seeded = demo.seed(db, settings, brand_id=brand.id, campaign_id=cid, praise_brand_id=other.id)

    gap = client.get(f"/v1/cases/{seeded['gap'].case_id}").json()
    assert gap["state"] == "answered"
    assert gap["cosigns"] == 14
    assert gap["promise_gap"]["summary"]["fr"].startswith("promis : 40 vaccins")
    assert gap["answers"][0]["commitments"][0]["text"] == "Verser le solde des vaccins promis"
    praise = client.get(f"/v1/cases/{seeded['praise'].case_id}").json()
    assert (praise["state"], praise["cosigns"]) == ("resolved", 5)
    late = client.get(f"/v1/cases/{seeded['unanswered'].case_id}").json()
    assert late["unanswered"] is True

    kinds = [e["kind"] for e in case_log(db)]
    assert kinds.count("case_cosign_milestone") == 1
    assert kinds.count("case_opened") == 3
    assert "case_unanswered" in kinds
    # the co-signs are spread over hours, so the voice timeline shows a rise
    since = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    r = client.get(f"/v1/brands/{brand.id}/cosign-series", params={"since": since})
    points = r.json()["data"]
    assert len(points) > 3
    assert sum(p["cosigns"] for p in points) == 14


def test_demo_step_adapter(client: TestClient, db: Database, admin_key: str, settings: Settings) -> None:
    brand, cid = brand_with_gap(client, db, admin_key)
    other = make_brand(client, db, admin_key, "Clairo")
    ctx = SimpleNamespace(
        db=db,
        settings=settings,
        base_url="http://demo.test",
        ids={"brand1": brand.id, "vaccine": cid, "brand2": other.id},
        urls={},
    )
    demo.demo_step(ctx)
    assert set(ctx.ids) >= {"case_gap", "case_praise", "case_unanswered"}
    assert ctx.urls["Case (API)"] == f"http://demo.test/v1/cases/{ctx.ids['case_gap']}"
