"""The one keyed hash and the one network policy: IPv4 /24, IPv6 /48, mapped IPv4 as IPv4;
daily salts shared through the database and deleted after the next day."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from sqlalchemy import select

from wefirst.pseudonyms import DailySalts, keyed_hash, network_key, network_of, server_key, utc_day
from wefirst.store.db import Database
from wefirst.store.tables_shared import pseudonym_salts


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.7", "203.0.113.0/24"),
        (" 203.0.113.254 ", "203.0.113.0/24"),
        ("::ffff:203.0.113.9", "203.0.113.0/24"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
        ("2001:db8:1234:ffff:1:2:3:4", "2001:db8:1234::/48"),
        ("2001:db8:1235::1", "2001:db8:1235::/48"),
        ("not-an-ip", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_one_network_policy(address: str | None, network: str) -> None:
    assert network_of(address) == network


def test_rotating_inside_a_48_or_a_24_buys_no_new_key() -> None:
    """The attack of issue 12: 12 IPv6 /64s inside one /48 were 12 networks to the widget."""
    key = server_key("s")
    sixty_fours = [f"2001:db8:1234:{n:x}::1" for n in range(12)]
    assert len({network_key(key, "widget.net", a) for a in sixty_fours}) == 1
    assert len({network_key(key, "widget.net", f"198.51.100.{n}") for n in range(1, 255)}) == 1
    assert network_key(key, "x", "198.51.100.1") != network_key(key, "x", "198.51.101.1")


def test_keyed_hash_separates_purposes_and_keys_and_keeps_stored_keys_valid() -> None:
    key = server_key("secret")
    assert keyed_hash(key, "cases.email", "a@b.org") != keyed_hash(key, "signin.email", "a@b.org")
    assert keyed_hash(key, "p", "v") != keyed_hash(server_key("other"), "p", "v")
    # The construction the cases area stored supporters' keys with before this module existed:
    # changing it would let every earlier signer sign again.
    legacy = hmac.new(b"secret", b"cases.email\x00a@b.org", hashlib.sha256).hexdigest()
    assert keyed_hash(key, "cases.email", "a@b.org") == legacy


def test_utc_day() -> None:
    assert utc_day(0) == "1970-01-01"
    assert utc_day(1_790_000_000_000) == "2026-09-21"


def test_daily_salts_are_shared_and_old_ones_deleted(db: Database) -> None:
    one, two = DailySalts(db), DailySalts(db)  # two processes' views of the same database
    monday = one.salt("2026-03-02")
    assert two.salt("2026-03-02") == monday
    assert one.cached("2026-03-02") == monday
    assert one.cached("2026-03-03") is None
    tuesday = two.salt("2026-03-03")
    assert tuesday != monday
    two.salt("2026-03-04")
    with db.read() as conn:
        days: list[str] = list(
            conn.execute(select(pseudonym_salts.c.day).order_by(pseudonym_salts.c.day)).scalars()
        )
    assert days == ["2026-03-03", "2026-03-04"]  # Monday's is gone: its keys cannot be linked
