"""Property: any interleaving of orders, redeliveries, refunds and cancellations, processed at
any moments, ends with the same pledges as a simple model of the facts.

Each example gets its own shop (or Stripe account) on one campaign, so examples share the
database without sharing business keys. Deliveries are signed and go through the real
receiving code (`inbox.receive`) and the real queue processing."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from wefirst.domain.clock import utcnow
from wefirst.ingest.connectors import accounts, inbox, processing
from wefirst.ingest.connectors.accounts import ConnectionInfo
from wefirst.ingest.connectors.clients import fixture_line_items
from wefirst.ingest.connectors.processing import Remotes
from wefirst.ingest.connectors.reconcile import status
from wefirst.ingest.connectors.records import Source
from wefirst.secretbox import SecretBox
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_core import pledge_reversals, pledges

from connectors.connectors_support import SESSION_ID, line_items_body, load, sign_shopify, sign_stripe
from factories import make_beneficiary, make_brand, make_campaign

_counter = itertools.count()

Step = tuple[str, str]  # ("deliver", event name) or ("process", "")


def _net(db: Database, prefix: str) -> int:
    with db.read() as conn:
        plg = conn.execute(
            select(func.coalesce(func.sum(pledges.c.units), 0)).where(pledges.c.line_key.startswith(prefix))
        ).scalar()
        rev = conn.execute(
            select(func.coalesce(func.sum(pledge_reversals.c.units), 0))
            .select_from(pledge_reversals.join(pledges, pledges.c.id == pledge_reversals.c.pledge_id))
            .where(pledges.c.line_key.startswith(prefix))
        ).scalar()
    return int(plg or 0) - int(rev or 0)


def _schedules(names: list[str]) -> st.SearchStrategy[list[Step]]:
    """A subset of the facts, each delivered 1-3 times, in any order, with processing runs
    sprinkled anywhere (and always once at the end)."""
    deliveries = st.lists(st.sampled_from(names), min_size=1, max_size=9)
    processes = st.lists(st.integers(min_value=0, max_value=9), max_size=3)

    @st.composite
    def build(draw: st.DrawFn) -> list[Step]:
        order = draw(deliveries)
        steps: list[Step] = [("deliver", n) for n in order]
        for at in sorted(draw(processes), reverse=True):
            steps.insert(min(at, len(steps)), ("process", ""))
        return [*steps, ("process", "")]

    return build()


def _run(
    db: Database,
    box: SecretBox,
    remotes: processing.RemotesFactory,
    connection_id: str,
    platform: Source,
    bodies: Mapping[str, tuple[bytes, dict[str, str]]],
    steps: list[Step],
) -> None:
    for kind, name in steps:
        if kind == "process":
            processing.process_pending(db, box, remotes, connection_id=connection_id)
            continue
        body, headers = bodies[name]
        if platform is Source.STRIPE:  # fresh timestamp for every (re)delivery
            headers = sign_stripe(body, secret=headers["secret"]).headers
        inbox.receive(
            inbox.Receiver(db, box),
            connection_id=connection_id,
            platform=platform,
            headers=headers,
            body=body,
            now=utcnow(),
        )


@pytest.fixture
def brand_id(client: TestClient, db: Database, admin_key: str) -> str:
    """One brand and PAMPERS-* campaign for all the examples of a test (fixtures run once per
    test, not per example; examples stay apart through their own shop or account)."""
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    make_campaign(client, brand, ben.id)
    return brand.id


def _connection(
    db: Database, box: SecretBox, brand_id: str, platform: Source, account: str, secret: str
) -> ConnectionInfo:
    with db.write() as conn:
        return accounts.create_connection(
            conn,
            box,
            brand_id=brand_id,
            platform=platform,
            account=account,
            name=None,
            secret=secret,
            livemode=True,
        )


SHOPIFY_FACTS = ["create_paid", "paid", "refund_1", "refund_2", "cancel"]


def _shopify_bodies(shop: str, secret: str) -> dict[str, tuple[bytes, dict[str, str]]]:
    order = json.loads(load("shopify/orders_create").body)
    refund = json.loads(load("shopify/refunds_create").body)
    refund_2 = json.loads(json.dumps(refund))
    refund_2["id"] = 1029384756999
    refund_2["refund_line_items"][0]["id"] = 612345678999
    cancelled = order | {"cancelled_at": "2026-03-16T10:00:00+01:00", "financial_status": "refunded"}
    facts = {
        "create_paid": ("orders/create", order),
        "paid": ("orders/paid", order | {"financial_status": "paid"}),
        "refund_1": ("refunds/create", refund),
        "refund_2": ("refunds/create", refund_2),
        "cancel": ("orders/cancelled", cancelled),
    }
    out = {}
    for name, (topic, doc) in facts.items():
        d = sign_shopify(json.dumps(doc).encode(), topic, f"evt-{name}", secret=secret, shop=shop)
        out[name] = (d.body, d.headers)
    return out


def _shopify_model(facts: set[str]) -> int:
    counted = 2 if facts & {"create_paid", "paid"} else 0
    if "cancel" in facts:
        return 0
    refunded = len(facts & {"refund_1", "refund_2"})
    return counted - min(counted, refunded)


@settings(
    max_examples=15,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=_schedules(SHOPIFY_FACTS))
def test_shopify_any_interleaving_gives_the_model_pledges(
    brand_id: str,
    db: Database,
    settings: Settings,
    steps: list[Step],
) -> None:
    box = SecretBox.from_settings(settings)
    shop = f"prop-{next(_counter)}-{id(steps)}.myshopify.com"
    info = _connection(db, box, brand_id, Source.SHOPIFY, shop, "prop-secret")
    _run(
        db, box, processing.live_remotes, info.id, Source.SHOPIFY, _shopify_bodies(shop, "prop-secret"), steps
    )
    facts = {name for kind, name in steps if kind == "deliver"}
    assert _net(db, f"shopify:{shop}:") == _shopify_model(facts), steps
    # and the connector's own counters agree with the ledger
    with db.read() as conn:
        figures = status(conn, info)
    assert figures["pledged_units"] - figures["reversed_units"] == _shopify_model(facts)
    assert figures["units"]["reversed"] <= figures["units"]["counted"]


STRIPE_FACTS = ["session", "refund_2499", "refund_4998"]


def _stripe_bodies(secret: str) -> dict[str, tuple[bytes, dict[str, str]]]:
    session = load("stripe/checkout_session_completed").body
    refund = json.loads(load("stripe/charge_refunded").body)
    bigger = json.loads(json.dumps(refund))
    bigger["id"] = "evt_refund_2"
    bigger["data"]["object"]["amount_refunded"] = 4998
    return {
        "session": (session, {"secret": secret}),
        "refund_2499": (json.dumps(refund).encode(), {"secret": secret}),
        "refund_4998": (json.dumps(bigger).encode(), {"secret": secret}),
    }


def _stripe_model(facts: set[str]) -> int:
    if "session" not in facts:
        return 0
    refunded = 2 if "refund_4998" in facts else 1 if "refund_2499" in facts else 0
    return 2 - refunded


@settings(
    max_examples=8,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=_schedules(STRIPE_FACTS))
def test_stripe_any_interleaving_of_cumulative_refunds(
    brand_id: str,
    db: Database,
    settings: Settings,
    steps: list[Step],
) -> None:
    box = SecretBox.from_settings(settings)
    account = f"acct_prop{next(_counter)}x{id(steps)}"
    info = _connection(db, box, brand_id, Source.STRIPE, account, "whsec_prop")
    items = fixture_line_items({SESSION_ID: line_items_body()})

    def remotes(_: ConnectionInfo, __: Mapping[str, str]) -> Remotes:
        return Remotes(stripe=items)

    _run(db, box, remotes, info.id, Source.STRIPE, _stripe_bodies("whsec_prop"), steps)
    facts = {name for kind, name in steps if kind == "deliver"}
    assert _net(db, f"stripe:{account}:") == _stripe_model(facts), steps
