"""Optional proof of work on a challenge, raised per campaign when it is under attack.

The widget searches a decimal nonce such that SHA-256(token "." nonce) starts with `bits` zero
bits. Each extra bit doubles the reader's cost (≈ 2^bits hashes, about 50 ms at 16 bits in a
phone browser) while checking stays one hash, so the cost of scripted clicking rises without
any tracking of the reader.
"""

from __future__ import annotations

import hashlib

MAX_BITS = 24
_MAX_NONCE_LENGTH = 16


def effective_bits(base: int, refused: int, counted: int) -> int:
    """The difficulty to ask for: the campaign's base, raised automatically while refusals
    outnumber counted clicks (someone is scripting it): +2 bits (4× the work) when refusals
    over the last hour exceed the counted clicks and number at least 20, +4 (16×) when they
    are more than three times as many and at least 50. A reader's click then costs more for
    that hour; scripted attempts cost everyone's attacker the same multiple."""
    extra = 0
    if refused >= 50 and refused > 3 * counted:
        extra = 4
    elif refused >= 20 and refused > counted:
        extra = 2
    return min(max(base, 0) + extra, MAX_BITS) if base > 0 or extra else 0


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def pow_ok(token: str, nonce: str | None, bits: int) -> bool:
    if bits <= 0:
        return True
    if not nonce or len(nonce) > _MAX_NONCE_LENGTH or not nonce.isascii() or not nonce.isdigit():
        return False
    digest = hashlib.sha256(f"{token}.{nonce}".encode()).digest()
    return leading_zero_bits(digest) >= bits


def solve(token: str, bits: int, limit: int = 1 << 28) -> str:
    """What the widget does, in Python: for tests and the benchmark's client."""
    for n in range(limit):
        if pow_ok(token, str(n), bits):
            return str(n)
    raise RuntimeError("no proof-of-work nonce found within the limit")
