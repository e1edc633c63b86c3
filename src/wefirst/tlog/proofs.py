"""Inclusion and consistency proofs (RFC 9162 section 2.1), generated from stored subtree hashes
and verified against a root that the caller took from a *signed* checkpoint.

Generation reads only complete, aligned subtree hashes through a HashReader, the same idea as
Go's sumdb/tlog stored hashes: every hash a proof needs is either in a tile or computed from at
most 128 hashes of one tile."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from wefirst.tlog.errors import LogFormatError, VerificationError
from wefirst.tlog.hashing import (
    EMPTY_HASH,
    HASH_SIZE,
    largest_power_of_two_below,
    node_hash,
)


class HashReader(Protocol):
    def hash_at(self, level: int, index: int) -> bytes:
        """Root of the complete subtree of 2**level leaves starting at leaf index * 2**level."""
        ...


def subtree_hash(r: HashReader, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a range that appears in RFC 9162's recursion (start aligned)."""
    n = end - start
    if n <= 0:
        return EMPTY_HASH
    if n & (n - 1) == 0 and start % n == 0:
        level = n.bit_length() - 1
        return r.hash_at(level, start >> level)
    k = largest_power_of_two_below(n)
    return node_hash(subtree_hash(r, start, start + k), subtree_hash(r, start + k, end))


def tree_root(r: HashReader, size: int) -> bytes:
    return subtree_hash(r, 0, size)


def _check_sizes(index: int, size: int, what: str) -> None:
    if size < 0 or index < 0:
        raise LogFormatError(f"{what}: negative index or size")


def inclusion_proof(r: HashReader, index: int, size: int) -> list[bytes]:
    _check_sizes(index, size, "inclusion proof")
    if index >= size:
        raise LogFormatError(f"inclusion proof: index {index} is not below tree size {size}")
    proof: list[bytes] = []
    start, end, m = 0, size, index
    # Walk down from the root; siblings are collected top-down, so reverse at the end.
    while end - start > 1:
        k = largest_power_of_two_below(end - start)
        if m < k:
            proof.append(subtree_hash(r, start + k, end))
            end = start + k
        else:
            proof.append(subtree_hash(r, start, start + k))
            start += k
            m -= k
    proof.reverse()
    return proof


def consistency_proof(r: HashReader, old: int, new: int) -> list[bytes]:
    _check_sizes(old, new, "consistency proof")
    if old > new:
        raise LogFormatError(f"consistency proof: old size {old} exceeds new size {new}")
    if old == 0 or old == new:
        return []
    proof: list[bytes] = []
    start, end, m, complete = 0, new, old, True
    while m != end - start:
        k = largest_power_of_two_below(end - start)
        if m <= k:
            proof.append(subtree_hash(r, start + k, end))
            end = start + k
        else:
            proof.append(subtree_hash(r, start, start + k))
            start += k
            m -= k
            complete = False
    if not complete:
        proof.append(subtree_hash(r, start, end))
    proof.reverse()
    return proof


def _check_proof_hashes(proof: Sequence[bytes], what: str) -> None:
    for i, h in enumerate(proof):
        if len(h) != HASH_SIZE:
            raise LogFormatError(f"{what}: hash {i} is {len(h)} bytes, expected 32")


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 2.1.3.2: the root the proof implies; raises when the proof has the wrong shape."""
    _check_proof_hashes(proof, "inclusion proof")
    if index < 0 or index >= size:
        raise VerificationError(f"inclusion proof: index {index} is not below tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise VerificationError("inclusion proof is longer than the tree allows")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("inclusion proof is shorter than the tree requires")
    return r


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    if root_from_inclusion_proof(leaf, index, size, proof) != root:
        raise VerificationError(
            f"inclusion proof for index {index} does not lead to the signed root of size {size}"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 2.1.4.2; raises VerificationError unless the new tree extends the old one."""
    _check_proof_hashes(proof, "consistency proof")
    if old_size < 0 or old_size > new_size:
        raise VerificationError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == new_size:
        if proof:
            raise VerificationError("consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise VerificationError(f"two different roots for the same size {old_size}: a fork")
        return
    if old_size == 0:
        if proof:
            raise VerificationError("consistency proof from the empty tree must be empty")
        if old_root != EMPTY_HASH:
            raise VerificationError("the empty tree's root must be SHA-256 of the empty string")
        return
    if not proof:
        raise VerificationError("consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("consistency proof is longer than the trees allow")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("consistency proof is shorter than the trees require")
    if fr != old_root:
        raise VerificationError(f"consistency proof does not reproduce the old root at size {old_size}")
    if sr != new_root:
        raise VerificationError(f"consistency proof does not reproduce the new root at size {new_size}")
