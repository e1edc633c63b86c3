"""Issue 13 #10: a processed delivery keeps what reconciliation needs, not the shopper. The raw
order bodies carry names, e-mails, postal addresses, phones, IP addresses and browsers; once a
delivery is processed (or ignored, or failed for good) its stored body is the minimised JSON,
which still parses to the same facts."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from wefirst.domain.clock import as_utc
from wefirst.ingest.connectors.inbox import parse_delivery
from wefirst.ingest.connectors.minimise import minimise
from wefirst.ingest.connectors.records import Source
from wefirst.store.tables_connectors import connector_connections, connector_deliveries

from connectors.connectors_support import SIGNED, World, load, restamp_stripe

# Every piece of personal data the signed fixtures carry (buyers Claire Dubois and Léa Martin).
PERSONAL = [
    "claire",
    "dubois",
    "martin",
    "lea.martin",
    "rue des lilas",
    "bellecour",
    "69003",
    "+33 6 12",
    "203.0.113.42",
    "198.51.100.23",
    "mozilla",
    "paquet endommagé",
    '"last4"',  # the card's details
    "cus_twefirst",
]


def _post_all(world: World) -> None:
    for name in sorted(SIGNED):
        delivery = load(name)
        if name.startswith("stripe/"):
            delivery = restamp_stripe(delivery)
        r = world.post(name.split("/")[0], delivery)
        assert r.status_code == 200, (name, r.text)


def test_processed_deliveries_keep_no_personal_data(world: World) -> None:
    raw = b"".join(load(name).body for name in SIGNED).decode().lower()
    assert all(p in raw for p in PERSONAL)  # the fixtures do carry each of them
    _post_all(world)
    with world.db.read() as conn:
        rows = conn.execute(select(connector_deliveries)).all()
    assert len(rows) == len(SIGNED)
    assert {r.status for r in rows} <= {"processed", "ignored"}
    for row in rows:
        stored = bytes(row.body).decode().lower()
        found = [p for p in PERSONAL if p in stored]
        assert not found, (row.topic, found)
        assert "@" not in stored, row.topic


def test_the_minimised_body_still_parses_to_the_same_facts(world: World) -> None:
    """What reconciliation needs is kept: order id, lines, amounts, currency, times, tax flag."""
    _post_all(world)
    cc = connector_connections
    with world.db.read() as conn:
        rows = conn.execute(
            select(connector_deliveries, cc.c.platform, cc.c.account).join(
                cc, cc.c.id == connector_deliveries.c.connection_id
            )
        ).all()
    for name in SIGNED:
        original = load(name)
        row = next(r for r in rows if minimise(original.body) == bytes(r.body))
        headers = dict(row.headers)
        at = as_utc(row.received_at)
        platform = Source(row.platform)
        before = parse_delivery(platform, row.account, headers, original.body, row.id, at)
        after = parse_delivery(platform, row.account, headers, bytes(row.body), row.id, at)
        assert after == before, name


def test_minimise_blanks_personal_data_in_fields_it_does_not_know() -> None:
    body = b'{"id": 7, "price": 24.99, "x": {"who": "x.y@example.com", "from": "2001:db8::1"}, "n": "#10"}'
    assert minimise(body) == b'{"id":7,"price":24.99,"x":{"who":"[removed]","from":"[removed]"},"n":"#10"}'
    assert minimise(b"not json") is None


def test_deliveries_processed_before_are_minimised_by_the_migration(tmp_path: Path) -> None:
    """0021: rows an earlier version kept raw are minimised; a queued one stays raw."""
    from sqlalchemy import text

    from wefirst.settings import Settings
    from wefirst.store import migrate
    from wefirst.store.db import Database

    raw = load("woocommerce/order_created").body
    db = Database(Settings(database_url=f"sqlite:///{tmp_path / 'old.db'}", data_dir=tmp_path))
    try:
        migrate.upgrade(db, "0020_public_texts")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO brands (id, name, livemode, order_salt, created_at) "
                    "VALUES ('brd_1', 'Acme', 1, :salt, '2026-03-01')"
                ),
                {"salt": b"s" * 32},
            )
            conn.execute(
                text(
                    "INSERT INTO connector_connections (id, brand_id, platform, account, name, livemode, "
                    "status, created_at, updated_at) VALUES ('con_1', 'brd_1', 'woocommerce', 'x', 'x', 1, "
                    "'active', '2026-03-01', '2026-03-01')"
                )
            )
            for i, status in enumerate(("processed", "queued")):
                conn.execute(
                    text(
                        "INSERT INTO connector_deliveries (id, connection_id, topic, delivery_key, headers, "
                        "body, received_at, status, attempts) VALUES (:id, 'con_1', 'order.created', :key, "
                        "'{}', :body, '2026-03-01', :status, 1)"
                    ),
                    {"id": f"dlv_{i}", "key": f"k{i}", "body": raw, "status": status},
                )
        migrate.upgrade(db)
        with db.engine.connect() as conn:
            bodies = {
                r.status: bytes(r.body)
                for r in conn.execute(text("SELECT status, body FROM connector_deliveries"))
            }
    finally:
        db.dispose()
    assert bodies["queued"] == raw
    assert bodies["processed"] == minimise(raw)
    assert b"lea.martin" not in bodies["processed"]
