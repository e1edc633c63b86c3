"""Claimed times (issue 12, "occurred_at is whatever the sender says"): an event's claimed time
is accepted only inside a window around its receipt, day caps count the received day, and the
log carries both times. These tests run the window at its default (72 h)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from wefirst.ingest.idempotency import replayable
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_core import campaign_day_units, pledges
from wefirst.store.tables_tlog import tlog_entries

from factories import Tenant, auth, make_beneficiary, make_brand, make_campaign, purchase

DEFAULT_MAX_AGE = 72  # hours: the default (test_the_default_window_is_72_hours)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"claims_max_age_hours": DEFAULT_MAX_AGE})


def test_the_default_window_is_72_hours() -> None:
    assert Settings.model_fields["claims_max_age_hours"].default == DEFAULT_MAX_AGE


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _setup(client: TestClient, db: Database, admin_key: str, **overrides: Any) -> tuple[Tenant, str]:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    return brand, make_campaign(client, brand, ben.id, **overrides)


def _problem_field(r: Any) -> str:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    fields = [e["field"] for e in r.json()["errors"]]
    return str(fields[0])


def test_a_purchase_dated_days_ago_is_refused_and_changes_nothing(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, _cid = _setup(client, db, admin_key)
    old = datetime.now(UTC) - timedelta(hours=DEFAULT_MAX_AGE + 1)
    r = client.post(
        "/v1/purchases",
        json=purchase("OLD-1", ("PAMPERS-1", 5, 100), when=_iso(old)),
        headers=auth(brand.key),
    )
    assert _problem_field(r) == "occurred_at"
    assert "72 h" in r.json()["detail"]
    assert "sales report" in r.json()["detail"]
    with db.read() as conn:
        assert conn.execute(select(pledges.c.id)).first() is None
        assert (
            conn.execute(select(tlog_entries.c.id).where(tlog_entries.c.commitment.is_not(None))).first()
            is None
        )


def test_a_purchase_dated_in_the_future_is_refused(client: TestClient, db: Database, admin_key: str) -> None:
    brand, _cid = _setup(client, db, admin_key)
    ahead = datetime.now(UTC) + timedelta(hours=1)
    r = client.post(
        "/v1/purchases",
        json=purchase("NEXT-1", ("PAMPERS-1", 1, 100), when=_iso(ahead)),
        headers=auth(brand.key),
    )
    assert _problem_field(r) == "occurred_at"
    assert "future" in r.json()["detail"]


def test_a_refund_dated_in_the_future_is_refused(client: TestClient, db: Database, admin_key: str) -> None:
    brand, _cid = _setup(client, db, admin_key)
    now = datetime.now(UTC)
    r = client.post(
        "/v1/purchases", json=purchase("R-1", ("PAMPERS-1", 2, 100), when=_iso(now)), headers=auth(brand.key)
    )
    assert r.status_code == 200, r.text
    r = client.post(
        "/v1/refunds",
        json={
            "order_id": "R-1",
            "lines": [{"line_id": "1", "quantity": 1}],
            "occurred_at": _iso(now + timedelta(days=2)),
        },
        headers=auth(brand.key),
    )
    assert _problem_field(r) == "occurred_at"


def test_a_purchase_inside_the_window_keeps_its_claimed_time(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, _cid = _setup(client, db, admin_key)
    claimed = (datetime.now(UTC) - timedelta(hours=30)).replace(microsecond=0)
    r = client.post(
        "/v1/purchases",
        json=purchase("OK-1", ("PAMPERS-1", 1, 100), when=_iso(claimed)),
        headers=auth(brand.key),
    )
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["outcome"] == "pledged"


def test_day_caps_count_the_day_the_event_was_received(
    client: TestClient, db: Database, admin_key: str
) -> None:
    """Before: each back-dated day had its own cap, so 3 per day became 9 in one morning."""
    brand, cid = _setup(client, db, admin_key, caps={"units_per_day": 3})
    now = datetime.now(UTC)
    pledged = 0
    for days_back in (0, 1, 2):
        when = _iso(now - timedelta(days=days_back, minutes=5))
        r = client.post(
            "/v1/purchases",
            json=purchase(f"D-{days_back}", ("PAMPERS-1", 3, 100), when=when),
            headers=auth(brand.key),
        )
        assert r.status_code == 200, r.text
        pledged += sum(x["units"] for x in r.json()["results"])
    assert pledged == 3
    with db.read() as conn:
        days = {
            row.day: row.units
            for row in conn.execute(select(campaign_day_units).where(campaign_day_units.c.campaign_id == cid))
        }
    assert set(days) <= {now.date(), datetime.now(UTC).date()}  # the received day (midnight-safe)
    assert sum(days.values()) == 3


def test_the_log_records_both_the_claimed_and_the_received_time(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, _cid = _setup(client, db, admin_key)
    claimed = (datetime.now(UTC) - timedelta(hours=20)).replace(microsecond=0)
    before = datetime.now(UTC) - timedelta(seconds=1)
    r = client.post(
        "/v1/purchases",
        json=purchase("L-1", ("PAMPERS-1", 1, 100), when=_iso(claimed)),
        headers=auth(brand.key),
    )
    assert r.status_code == 200, r.text
    commitment = r.json()["results"][0]["receipt"]["commitment"]
    with db.read() as conn:
        data: bytes = conn.execute(
            select(tlog_entries.c.data).where(tlog_entries.c.commitment == commitment)
        ).scalar_one()
        row = conn.execute(select(pledges.c.occurred_at, pledges.c.received_at)).one()
    entry = json.loads(data)
    assert entry["at"] == _iso(claimed)
    received = datetime.fromisoformat(entry["received"].replace("Z", "+00:00"))
    assert before <= received <= datetime.now(UTC)
    assert row.received_at is not None
    assert row.occurred_at is not None


def test_a_replay_of_an_accepted_purchase_answers_as_before(
    client: TestClient, db: Database, admin_key: str
) -> None:
    """The window is checked when the work runs, so a retry with the same key replays."""
    brand, _cid = _setup(client, db, admin_key)
    body = purchase("IDEM-1", ("PAMPERS-1", 1, 100), when=_iso(datetime.now(UTC)))
    h = auth(brand.key) | {"Idempotency-Key": "idem-1"}
    first = client.post("/v1/purchases", json=body, headers=h)
    again = client.post("/v1/purchases", json=body, headers=h)
    assert again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == replayable(first.json())  # receipt secrets are shown once
