"""The claim window on shop orders (issue 12): a webhook order claiming a time more than 72 h
before it was received (or in the future) pledges nothing, as a `POST /v1/purchases` would be
refused; a later delivery of an order already known is not judged again; a sales report is
exempt (its period is the claim). Day caps count on the day the delivery was received."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from wefirst.domain.clock import rfc3339, utcnow
from wefirst.settings import Settings
from wefirst.store.tables_core import pledges

from connectors.connectors_support import ASSETS, World, load, sign_shopify
from factories import auth

OLD = "2026-03-14T10:21:07+01:00"  # the fixture's own date, long before the test runs


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"claims_max_age_hours": 72, "claims_clock_skew_seconds": 60})


def _order(order_id: int, created_at: str, *, extra_line: bool = False) -> bytes:
    body = json.loads(load("shopify/orders_create").body)
    body["id"] = order_id
    body["created_at"] = body["processed_at"] = created_at
    if extra_line:
        line = dict(body["line_items"][0])
        line["id"] = line["id"] + 1
        line["quantity"] = line["current_quantity"] = 1
        body["line_items"].append(line)
    return json.dumps(body).encode()


def test_a_back_dated_shop_order_pledges_nothing(world: World) -> None:
    r = world.post("shopify", load("shopify/orders_create"))  # dated March 2026
    assert r.status_code == 200, r.text
    assert world.net_units() == 0
    status = world.status("shopify")
    assert status["lines"]["by_outcome"] == {"claim_refused": 3}
    assert status["pledged_units"] == 0


def test_a_future_dated_shop_order_pledges_nothing(world: World) -> None:
    ahead = rfc3339(utcnow() + timedelta(hours=2))
    world.post("shopify", sign_shopify(_order(7001, ahead), "orders/create", "future-1"))
    assert world.net_units() == 0
    assert world.status("shopify")["lines"]["by_outcome"] == {"claim_refused": 3}


def test_an_order_in_the_window_pledges_and_its_later_updates_are_not_judged_again(world: World) -> None:
    fresh = rfc3339(utcnow() - timedelta(hours=1))
    world.post("shopify", sign_shopify(_order(7002, fresh), "orders/create", "fresh-1"))
    assert world.net_units() == 2  # 2 PAMPERS packs
    # the same order, updated with one more pack, claiming the old date: the order is known
    update = sign_shopify(_order(7002, OLD, extra_line=True), "orders/updated", "fresh-2")
    assert world.post("shopify", update).status_code == 200
    assert world.net_units() == 3
    with world.db.read() as conn:
        received = [r.received_at for r in conn.execute(select(pledges.c.received_at))]
    # every pledge counts on the day the delivery was received, not the day it claims
    assert {r.date() for r in received} == {utcnow().date()}


def test_a_sales_report_is_exempt_its_period_is_the_claim(world: World) -> None:
    report = (ASSETS / "retail" / "sales_report_RETAILCO-FR-2026-W11.csv").read_bytes()  # March 2026
    r = world.client.post(
        f"/v1/connectors/{world.connections['retail']}/sales-reports",
        content=report,
        headers=auth(world.brand.key) | {"Content-Type": "text/csv"},
    )
    assert r.status_code == 201, r.text
    assert world.net_units() == 148 + 97 + 211 + 164
