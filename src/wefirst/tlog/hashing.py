"""RFC 6962 / RFC 9162 Merkle tree hashing with SHA-256.

The empty tree hashes to SHA-256(""), never to 32 zero bytes: several home-grown logs get this
wrong and then disagree with every standard verifier."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_HASH = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def leaf_hash(entry: bytes) -> bytes:
    return _sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """The split point k of RFC 6962: the largest power of two strictly smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH over already hashed leaves; the reference definition, used by tests and small trees."""
    n = len(hashes)
    if n == 0:
        return EMPTY_HASH
    if n == 1:
        return hashes[0]
    k = largest_power_of_two_below(n)
    return node_hash(root_from_leaf_hashes(hashes[:k]), root_from_leaf_hashes(hashes[k:]))


def complete_root(concatenated: bytes) -> bytes:
    """Root of a complete subtree given its 2^k hashes concatenated (as stored in a tile).

    Works on one bytes buffer level by level, because that is several times faster in CPython
    than building a tree of small objects."""
    count = len(concatenated) // HASH_SIZE
    if count == 0 or count & (count - 1) or len(concatenated) % HASH_SIZE:
        raise ValueError("complete_root needs a power-of-two number of 32-byte hashes")
    buf = concatenated
    sha = _sha256
    while len(buf) > HASH_SIZE:
        buf = b"".join([sha(b"\x01" + buf[i : i + 2 * HASH_SIZE]).digest() for i in range(0, len(buf), 64)])
    return buf


def fold_subtrees(roots: Sequence[bytes]) -> bytes:
    """Root of a tree from the roots of its complete subtrees, left to right, largest first
    (the decomposition of the size into powers of two)."""
    if not roots:
        return EMPTY_HASH
    acc = roots[-1]
    for h in reversed(roots[:-1]):
        acc = node_hash(h, acc)
    return acc
