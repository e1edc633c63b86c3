"""The pages' running per-day roll-up of the ledger must always equal the ledger's own
balance, whether rows are folded into the cache or still re-read as too young."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from wefirst.ledger import rollups
from wefirst.ledger.balances import campaign_balance
from wefirst.store.db import Database
from wefirst.web import queries

from factories import auth, purchase
from web.web_helpers import seed_story


@pytest.mark.parametrize("settle_seconds", [0, 10**9])
def test_rollup_equals_the_ledger(
    client: TestClient, db: Database, admin_key: str, settle_seconds: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rollups, "SETTLE_SECONDS", settle_seconds)
    story = seed_story(client, db, admin_key)
    roll = rollups.Rollups()

    def check() -> rollups.DaySums:
        with db.read() as conn:
            days = roll.days(conn, story.campaign_id)
            view = queries.campaign_view(conn, story.campaign_id)
            assert view is not None
            assert queries.balance_from_days(view.row, days) == campaign_balance(conn, story.campaign_id)
        return days

    first = check()
    folded = roll._by_campaign[story.campaign_id].watermark
    assert (folded > 0) == (settle_seconds == 0)  # young rows are never folded
    # new pledges and a refund after the first view: only what is new is read
    r = client.post(
        "/v1/purchases",
        json=purchase("late-1", ("PAMPERS-S3", 4, 2499), when="2026-03-20T10:00:00Z"),
        headers=auth(story.brand.key),
    )
    assert r.status_code == 200
    r = client.post(
        "/v1/refunds",
        json={"order_id": "late-1", "refund_id": "R1", "lines": [{"line_id": "1", "quantity": 1}]},
        headers=auth(story.brand.key),
    )
    assert r.status_code == 200, r.text
    second = check()
    assert second != first
    points = queries.cumulative(second)
    assert points[-1].pledged == 300 + 90  # 3 of the 4 packs stay pledged
    # asking again changes nothing
    assert check() == second
