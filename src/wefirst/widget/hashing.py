"""Keys under which clicks are deduplicated and rate limited, without keeping personal data.

A reader's network address is never stored: it is reduced to its network (the IPv4 address,
or the IPv6 /64 a household usually gets) and hashed with a salt that is random per UTC day and
deleted after the next day, so yesterday's keys cannot be linked to an address even by someone
holding the server secret. Visitor commitments (already a hash made by the widget) are salted
the same way and per campaign, so the stored key links nothing across days or campaigns.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import UTC, datetime

UNKNOWN_NETWORK = "unknown"


def utc_day(now_ms: int) -> str:
    return datetime.fromtimestamp(now_ms / 1000, UTC).strftime("%Y-%m-%d")


def network_of(address: str | None) -> str:
    """The unit a per-network rate limit applies to."""
    if not address:
        return UNKNOWN_NETWORK
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return UNKNOWN_NETWORK
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _keyed(salt: bytes, label: str, value: str) -> str:
    return hmac.new(salt, f"{label}\n{value}".encode(), hashlib.sha256).hexdigest()[:32]


def network_key(salt: bytes, address: str | None) -> str:
    return _keyed(salt, "net", network_of(address))


def visitor_key(salt: bytes, campaign_id: str, visitor: str) -> str:
    return _keyed(salt, "visitor", f"{campaign_id}\n{visitor}")
