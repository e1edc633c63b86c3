"""Issue 13 #10: a processed delivery keeps what reconciliation needs, not the shopper. The raw
order bodies carry names, e-mails, postal addresses, phones, IP addresses and browsers; once a
delivery is processed (or ignored, or failed for good) its stored body is the minimised JSON,
which still parses to the same facts."""

from __future__ import annotations

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
