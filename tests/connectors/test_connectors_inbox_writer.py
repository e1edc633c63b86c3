"""The group-commit inbox: concurrent receivers share transactions, each still answered only
after its own delivery is stored, duplicates caught across and within groups, and one bad
item failing alone."""

from __future__ import annotations

import threading
from functools import partial

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from wefirst.domain.clock import utcnow
from wefirst.ingest.connectors import accounts, inbox
from wefirst.ingest.connectors.records import Source
from wefirst.secretbox import SecretBox
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.groupcommit import GroupCommit, Tx
from wefirst.store.tables_connectors import connector_counters, connector_deliveries
from wefirst.store.tables_core import brands

from connectors.connectors_support import SHOP, load, sign_shopify
from waiting import PATIENCE


def _connection(db: Database, box: SecretBox) -> str:
    from wefirst.catalog import service
    from wefirst.catalog.models import BrandIn

    with db.write() as conn:
        brand = service.create_brand(conn, BrandIn(name="Inbox"))
        info = accounts.create_connection(
            conn,
            box,
            brand_id=brand["id"],
            platform=Source.SHOPIFY,
            account=SHOP,
            name=None,
            secret="inbox-secret",
            livemode=True,
        )
    return info.id


def test_concurrent_receivers_share_commits_and_lose_nothing(db: Database, settings: Settings) -> None:
    box = SecretBox.from_settings(settings)
    connection_id = _connection(db, box)
    body = load("shopify/orders_create").body
    # 24 distinct events, each sent twice, from 12 threads at once
    deliveries = [
        sign_shopify(body, "orders/create", f"evt-{i % 24}", secret="inbox-secret") for i in range(48)
    ]
    writer = GroupCommit(db, name="connector-inbox", max_group=256)
    cache = inbox.ConnectionCache()
    results: list[inbox.Received] = []
    lock = threading.Lock()

    def send(chunk: list[int]) -> None:
        for i in chunk:
            d = deliveries[i]
            got = inbox.receive(
                inbox.Receiver(db, box, cache=cache, writer=writer),
                connection_id=connection_id,
                platform=Source.SHOPIFY,
                headers=d.headers,
                body=d.body,
                now=utcnow(),
            )
            with lock:
                results.append(got)

    threads = [threading.Thread(target=send, args=(list(range(k, 48, 12)),)) for k in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.stop()
    assert sorted(r.status for r in results).count("queued") == 24
    assert sorted(r.status for r in results).count("duplicate") == 24
    assert writer.items == 48
    assert writer.groups <= 48
    with db.read() as conn:
        stored = conn.execute(select(func.count()).select_from(connector_deliveries)).scalar()
        counts = {r.name: r._mapping["count"] for r in conn.execute(select(connector_counters))}
    assert stored == 24
    assert counts == {"received": 48, "verified": 48, "duplicate": 24}


def _add(item: inbox.Pending, tx: Tx) -> inbox.Pending:
    return tx.part(inbox.Deliveries).add(item)


def test_one_bad_item_fails_alone(db: Database, settings: Settings) -> None:
    """Two receivers in one group, one of them with a delivery the database refuses: the good
    one is stored and acknowledged, the bad one gets the error, nothing else changes."""
    box = SecretBox.from_settings(settings)
    connection_id = _connection(db, box)
    writer = GroupCommit(db, name="connector-inbox")
    now = utcnow()
    good = inbox.Pending(
        connection_id=connection_id, now=now, counters=["received"], key="k1", topic="t", body=b"{}"
    )
    bad = inbox.Pending(
        connection_id="con_missing", now=now, counters=["received"], key="k2", topic="t", body=b"{}"
    )  # violates the foreign key
    entered, release = threading.Event(), threading.Event()

    def hold(tx: Tx) -> None:  # holds the writer until both deliveries wait: they form one group
        entered.set()
        release.wait(PATIENCE)

    held = writer.enqueue(hold)
    assert entered.wait(PATIENCE)
    futures = [writer.enqueue(partial(_add, item)) for item in (good, bad)]
    release.set()
    held.result(10)
    assert futures[0].result(10) is good
    assert good.result is not None
    assert good.result.status == "queued"
    with pytest.raises(IntegrityError):
        futures[1].result(10)
    writer.stop()
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(connector_deliveries)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(brands)).scalar() == 1


def test_submit_raises_the_items_error(db: Database) -> None:
    writer = GroupCommit(db, name="connector-inbox")
    bad = inbox.Pending(
        connection_id="con_missing", now=utcnow(), counters=[], key="k", topic="t", body=b"{}"
    )
    with pytest.raises(IntegrityError):
        inbox._submit(db, writer, bad)
    writer.stop()
