"""Opaque ids with a type prefix so that a pasted id says what it is (API.md)."""

from __future__ import annotations

import secrets

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower-case, no i/l/o/u

PREFIXES = frozenset(
    {
        "brd",
        "ben",
        "cmp",
        "iu",
        "pur",
        "clk",
        "rfd",
        "plg",
        "txn",
        "stl",
        "dlv",
        "key",
        "pub",
        "con",
        "cas",
        "dly",
        "evt",
        "usr",
        "ans",
        "sup",
        "flw",
        "rpt",
        "ep",
        "hook",
    }
)


def new_id(prefix: str) -> str:
    """26 random base32 characters (130 bits) after the prefix."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    n = int.from_bytes(secrets.token_bytes(17), "big") >> 6  # 130 random bits
    chars = []
    for _ in range(26):
        n, r = divmod(n, 32)
        chars.append(_ALPHABET[r])
    return prefix + "_" + "".join(chars)
