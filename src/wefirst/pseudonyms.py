"""Keys that stand for a person, a browser or a network without holding one: the one keyed hash
and the one network policy every area uses.

Keyed (HMAC-SHA256) rather than plain hashes, so a leaked table cannot be reversed by hashing a
list of known e-mail addresses or every IPv4 network. Two kinds of key:

- with the server's key (`server_key(settings.secret_key)`): stable for as long as the secret,
  for what must be recognised again later (one person signs a case once);
- with a random per-UTC-day salt (`DailySalts`): for what must NOT be linkable across days (the
  widget's click keys); the salt is deleted after the next day, so not even the operator can tie
  yesterday's keys to an address any more.

`purpose` separates uses: the same address gives unrelated keys for "cases.net" and "signin.net".

The network a limit applies to is an IPv4 /24 or an IPv6 /48 (one site's allocation): rotating
addresses inside one home, office or rented block does not buy more budget. An IPv4 address
mapped into IPv6 counts as the IPv4 address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Final

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from wefirst.store.db import Database
from wefirst.store.tables_shared import pseudonym_salts

IPV4_PREFIX: Final = 24
IPV6_PREFIX: Final = 48
UNKNOWN_NETWORK: Final = "unknown"


def network_of(address: str | None) -> str:
    """The network (CIDR text) a per-network limit applies to; "unknown" for anything that is
    not an IP address, so unparseable callers share one budget instead of escaping limits."""
    if not address:
        return UNKNOWN_NETWORK
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return UNKNOWN_NETWORK
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network((ip, prefix), strict=False))


def server_key(secret: str) -> bytes:
    """The key for stable pseudonyms. It is the server secret itself (purposes are separated
    inside the message), so keys stored before this module existed still match."""
    return secret.encode()


def keyed_hash(key: bytes, purpose: str, value: str) -> str:
    """HMAC-SHA256 of `purpose` NUL `value`, in hex (64 characters)."""
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def network_key(key: bytes, purpose: str, address: str | None) -> str:
    """The pseudonym of the network `address` belongs to (see `network_of`)."""
    return keyed_hash(key, purpose, network_of(address))


#: the purpose of a reader's network key, whichever path a click came by (the widget, or a
#: brand's server naming the reader's address): one key, so one network has one budget
READER_NETWORK = "reader.net"
READER_KEY_CHARS = 32  # 128 bits: enough to tell a day's networks apart


def reader_network_key(day_salt: bytes, address: str | None) -> str:
    """The key the per-network click limits count under: the reader's network (see
    `network_of`) under the day's salt (`DailySalts`), so it links nothing across days."""
    return network_key(day_salt, READER_NETWORK, address)[:READER_KEY_CHARS]


def day_salt_in(conn: Connection, day: str) -> bytes:
    """The day's salt, made if missing, in the caller's transaction (a click recorded in an
    API request's transaction reads it there; `DailySalts` wraps this in its own). Salts older
    than yesterday are deleted when a new day's salt is made."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    made = conn.execute(
        dialect_insert(pseudonym_salts).values(day=day, salt=secrets.token_bytes(32)).on_conflict_do_nothing()
    )
    query = select(pseudonym_salts.c.salt).where(pseudonym_salts.c.day == day)
    salt = bytes(conn.execute(query).scalar_one())
    if made.rowcount:
        yesterday = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
        conn.execute(delete(pseudonym_salts).where(pseudonym_salts.c.day < yesterday))
    return salt


def utc_day(now_ms: int) -> str:
    return datetime.fromtimestamp(now_ms / 1000, UTC).strftime("%Y-%m-%d")


class DailySalts:
    """A random salt per UTC day, shared by every process through the database. Salts older
    than yesterday are deleted when a new day's salt is made, which is what makes old keys
    unlinkable. One salt per day serves every area (`purpose` separates their keys)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cached: dict[str, bytes] = {}

    def cached(self, day: str) -> bytes | None:
        """Today's salt if this process has it already (no I/O): the hot path's check."""
        return self._cached.get(day)

    def salt(self, day: str) -> bytes:
        found = self._cached.get(day)
        if found is not None:
            return found
        with self.db.write() as conn:
            salt = day_salt_in(conn, day)
        self._cached = {day: salt}
        return salt
