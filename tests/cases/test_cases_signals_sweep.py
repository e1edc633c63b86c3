"""Co-sign milestones and velocity (the voice signal), and the unanswered sweep that feeds
the brand scorecard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from wefirst.cases.service import brand_case_summary, sweep_unanswered
from wefirst.cases.signals import cosign_series
from wefirst.cases.signals_pure import hour_of
from wefirst.cases.sweep import run_sweep
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_cases import case_supporters

from cases.cases_kit import case_log, cosign_and_confirm, open_case
from factories import auth, make_brand
from smtp_server import SmtpSink


def test_milestone_logged_once_and_velocity_exported(
    client: TestClient, db: Database, admin_key: str, smtp_sink: SmtpSink
) -> None:
    brand = make_brand(client, db, admin_key)
    case_id = open_case(client, brand.id)["id"]
    milestones = []
    for i in range(11):
        done = cosign_and_confirm(client, smtp_sink, case_id, f"person{i}@example.org")
        milestones += done["milestones"]
    assert milestones == [10]
    logged = [e for e in case_log(db) if e["kind"] == "case_cosign_milestone"]
    assert len(logged) == 1
    assert logged[0]["cosigns"] == 10
    assert logged[0]["case_id"] == case_id

    now = datetime.now(UTC)
    with db.read() as conn:
        series = cosign_series(conn, brand.id, now - timedelta(hours=2))
        assert cosign_series(conn, brand.id, now + timedelta(hours=2)) == []
        assert cosign_series(conn, "brd_other", now - timedelta(hours=2)) == []
    assert sum(c for _, c in series) == 11
    assert all(h.minute == 0 and h.tzinfo is not None for h, _ in series)
    assert series[-1][0] == hour_of(now) or len(series) == 2  # the run may straddle an hour

    r = client.get(
        f"/v1/brands/{brand.id}/cosign-series", params={"since": (now - timedelta(hours=1)).isoformat()}
    )
    assert r.status_code == 200
    assert sum(p["cosigns"] for p in r.json()["data"]) == 11
    assert r.json()["data"][0]["hour"].endswith(":00:00Z")
    assert client.get(f"/v1/cases/{case_id}").json()["cosign_velocity"]["last_24_hours"] == 11

    # hidden cases leave the voice timeline
    r = client.post(
        f"/v1/cases/{case_id}/hide", json={"public_reason": "Under review."}, headers=auth(admin_key)
    )
    assert r.status_code == 200
    with db.read() as conn:
        assert cosign_series(conn, brand.id, now - timedelta(hours=2)) == []


def test_unanswered_sweep(client: TestClient, db: Database, admin_key: str, settings: Settings) -> None:
    brand = make_brand(client, db, admin_key)
    complaint = open_case(client, brand.id)["id"]
    praise = open_case(
        client,
        brand.id,
        kind="praise",
        title="Thanks for the recycled packaging",
        what_happened="All packaging switched to recycled cardboard this spring, as promised.",
        what_is_asked=None,
    )["id"]
    now = datetime.now(UTC)
    with db.write() as conn:
        assert sweep_unanswered(conn, settings, now + timedelta(hours=167)) == []
    with db.write() as conn:
        assert sweep_unanswered(conn, settings, now + timedelta(hours=169)) == [complaint]
    with db.write() as conn:
        assert sweep_unanswered(conn, settings, now + timedelta(hours=400)) == []  # once only
    assert praise not in [e["case_id"] for e in case_log(db) if e["kind"] == "case_unanswered"]
    assert [e["after_hours"] for e in case_log(db) if e["kind"] == "case_unanswered"] == [168]

    body = client.get(f"/v1/cases/{complaint}").json()
    assert body["unanswered"] is True
    listed = client.get("/v1/cases", params={"brand_id": brand.id, "unanswered": "true"}).json()["data"]
    assert [c["id"] for c in listed] == [complaint]
    summary = client.get(f"/v1/brands/{brand.id}/case-summary").json()
    assert summary["complaints"]["unanswered"] == 1
    assert summary["praise"]["open"] == 1

    # a late answer: no longer unanswered, but the lateness stays on record
    r = client.post(
        f"/v1/cases/{complaint}/answers",
        json={"body": "Sorry for the delay, here are the figures.", "language": "en"},
        headers=auth(brand.key),
    )
    assert r.status_code == 201
    assert r.json()["unanswered"] is False
    assert r.json()["unanswered_at"] is not None
    with db.read() as conn:
        summary = brand_case_summary(conn, brand.id)
    assert summary["complaints"]["unanswered"] == 0
    assert summary["complaints"]["answered_late"] == 1
    assert summary["complaints"]["answered"] == 1


def test_sweep_endpoint_is_admin_only(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    open_case(client, brand.id)
    assert client.post("/v1/cases/sweep", headers=auth(brand.key)).status_code == 403
    assert client.post("/v1/cases/sweep").status_code == 401
    r = client.post("/v1/cases/sweep", headers=auth(admin_key))
    assert r.json() == {"marked": [], "purged_unconfirmed": 0, "pruned_rate_events": 0, "commitments_due": 0}


def test_sweep_forgets_expired_unconfirmed_requests(
    client: TestClient, db: Database, admin_key: str, settings: Settings, smtp_sink: SmtpSink
) -> None:
    brand = make_brand(client, db, admin_key)
    case_id = open_case(client, brand.id)["id"]
    cosign_and_confirm(client, smtp_sink, case_id, "kept@example.org")
    assert client.post(f"/v1/cases/{case_id}/cosign", json={"email": "never@example.org"}).status_code == 202
    now = datetime.now(UTC)
    with db.write() as conn:
        early = run_sweep(conn, settings, now + timedelta(hours=47))
    assert early.purged_unconfirmed == 0
    assert early.pruned_rate_events == 5  # the opening + two co-sign requests x (address, network)
    with db.write() as conn:
        late = run_sweep(conn, settings, now + timedelta(hours=49))
    assert late.purged_unconfirmed == 1
    assert late.pruned_rate_events == 0
    with db.read() as conn:
        left = conn.execute(select(case_supporters.c.email, case_supporters.c.status)).all()
    assert [tuple(r) for r in left] == [("kept@example.org", "verified")]
    assert client.get(f"/v1/cases/{case_id}").json()["cosigns"] == 1
