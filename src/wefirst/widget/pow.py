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
