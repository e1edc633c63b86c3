"""Inclusion and consistency proofs read from tiles, checked against an independent RFC 6962
definition and against signed roots; tampered proofs must fail."""

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wefirst.tlog.errors import LogFormatError, NotFoundError, VerificationError
from wefirst.tlog.hashing import EMPTY_HASH, leaf_hash, node_hash, root_from_leaf_hashes
from wefirst.tlog.integrate import integrate
from wefirst.tlog.proofs import (
    consistency_proof,
    inclusion_proof,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from wefirst.tlog.reader import TileHashReader
from wefirst.tlog.tilestore import MemoryTileStore


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    """RFC 6962 section 2.1.1 PATH, written straight from the text."""
    n = len(d)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*ref_path(m, d[:k]), root_from_leaf_hashes(d[k:])]
    return [*ref_path(m - k, d[k:]), root_from_leaf_hashes(d[:k])]


def ref_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    """RFC 6962 section 2.1.2 SUBPROOF."""
    n = len(d)
    if m == n:
        return [] if b else [root_from_leaf_hashes(d)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), root_from_leaf_hashes(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), root_from_leaf_hashes(d[:k])]


def build(batches: Sequence[int]) -> tuple[MemoryTileStore, list[bytes], list[tuple[int, bytes]]]:
    store = MemoryTileStore()
    leaves: list[bytes] = []
    checkpoints: list[tuple[int, bytes]] = [(0, EMPTY_HASH)]
    size = 0
    for b in batches:
        entries = [b'{"i":%d}' % (size + i) for i in range(b)]
        result = integrate(store, size, entries)
        leaves += [leaf_hash(e) for e in entries]
        size = result.size
        checkpoints.append((size, result.root))
    return store, leaves, checkpoints


def flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


@settings(max_examples=30)
@given(
    batches=st.lists(st.integers(min_value=1, max_value=700), min_size=1, max_size=5),
    data=st.data(),
)
def test_proofs_from_tiles_at_every_checkpoint(batches: list[int], data: st.DataObject) -> None:
    store, leaves, checkpoints = build(batches)
    for size, root in checkpoints:
        reader = TileHashReader(store.get, size)
        assert tree_root(reader, size) == root
        if size == 0:
            continue
        m = data.draw(st.integers(min_value=0, max_value=size - 1))
        proof = inclusion_proof(reader, m, size)
        assert proof == ref_path(m, leaves[:size])
        verify_inclusion(leaves[m], m, size, proof, root)
        with pytest.raises(VerificationError):
            verify_inclusion(flip(leaves[m]), m, size, proof, root)
        if proof:
            i = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
            bad = [*proof[:i], flip(proof[i]), *proof[i + 1 :]]
            with pytest.raises(VerificationError):
                verify_inclusion(leaves[m], m, size, bad, root)
            with pytest.raises(VerificationError):
                verify_inclusion(leaves[m], m, size, proof[:-1], root)
        with pytest.raises(VerificationError):
            verify_inclusion(leaves[m], m, size, [*proof, root], root)
        if size > 1:
            other = (m + 1) % size
            if leaves[other] != leaves[m]:
                with pytest.raises(VerificationError):
                    verify_inclusion(leaves[m], other, size, proof, root)

    # Consistency between every pair of checkpoints, proven from the newer one's tiles.
    for old_size, old_root in checkpoints:
        for new_size, new_root in checkpoints:
            if old_size > new_size:
                continue
            reader = TileHashReader(store.get, new_size)
            proof = consistency_proof(reader, old_size, new_size)
            if 0 < old_size < new_size:
                assert proof == ref_subproof(old_size, leaves[:new_size], True)
            verify_consistency(old_size, new_size, old_root, new_root, proof)
            if 0 < old_size < new_size:
                with pytest.raises(VerificationError):
                    verify_consistency(old_size, new_size, flip(old_root), new_root, proof)
                with pytest.raises(VerificationError):
                    verify_consistency(old_size, new_size, old_root, flip(new_root), proof)
                i = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
                bad = [*proof[:i], flip(proof[i]), *proof[i + 1 :]]
                with pytest.raises(VerificationError):
                    verify_consistency(old_size, new_size, old_root, new_root, bad)
                with pytest.raises(VerificationError):
                    verify_consistency(old_size, new_size, old_root, new_root, proof[1:])


@pytest.fixture(scope="module")
def big() -> tuple[MemoryTileStore, list[tuple[int, bytes]]]:
    # Three levels of tiles (70,000 > 65,536) in uneven batches.
    store, _, checkpoints = build([1, 40000, 29999, 300])
    return store, checkpoints


@pytest.mark.parametrize("index", [0, 255, 256, 65535, 65536, 69999, 70299])
def test_inclusion_in_a_three_level_tree(
    big: tuple[MemoryTileStore, list[tuple[int, bytes]]], index: int
) -> None:
    store, checkpoints = big
    size, root = checkpoints[-1]
    reader = TileHashReader(store.get, size)
    proof = inclusion_proof(reader, index, size)
    verify_inclusion(leaf_hash(b'{"i":%d}' % index), index, size, proof, root)
    with pytest.raises(VerificationError):
        verify_inclusion(leaf_hash(b'{"i":%d}' % (index + 1)), index, size, proof, root)


def test_consistency_across_three_levels(
    big: tuple[MemoryTileStore, list[tuple[int, bytes]]],
) -> None:
    store, checkpoints = big
    (s1, r1), (s2, r2) = checkpoints[2], checkpoints[-1]
    reader = TileHashReader(store.get, s2)
    verify_consistency(s1, s2, r1, r2, consistency_proof(reader, s1, s2))
    # A root for the same size that differs is a fork, whatever the proof says.
    with pytest.raises(VerificationError, match="fork"):
        verify_consistency(s2, s2, r2, r1, [])


def test_reader_rejects_short_tiles_and_missing_tiles() -> None:
    store, _, _checkpoints = build([10])
    store.items["tile/0/000.p/10"] = store.items["tile/0/000.p/10"][:-1]
    with pytest.raises(LogFormatError, match="expected 320"):
        inclusion_proof(TileHashReader(store.get, 10), 3, 10)
    with pytest.raises(NotFoundError):
        inclusion_proof(TileHashReader(store.get, 11), 3, 11)
    with pytest.raises(LogFormatError):
        inclusion_proof(TileHashReader(store.get, 10), 10, 10)


def test_superseded_partial_falls_back_to_full_tile() -> None:
    store, leaves, checkpoints = build([100, 200])
    assert "tile/0/000.p/100" not in store.items  # pruned when tile/0/000 became full
    size, root = checkpoints[1]
    reader = TileHashReader(store.get, size)
    assert tree_root(reader, size) == root
    verify_inclusion(leaves[7], 7, size, inclusion_proof(reader, 7, size), root)


def test_verify_rejects_malformed_proof_shapes() -> None:
    h = leaf_hash(b"x")
    with pytest.raises(LogFormatError):
        verify_inclusion(h, 0, 2, [b"short"], h)
    with pytest.raises(VerificationError):
        verify_inclusion(h, 2, 2, [h], h)
    with pytest.raises(VerificationError):
        verify_consistency(3, 2, h, h, [])
    with pytest.raises(VerificationError):
        verify_consistency(1, 2, h, node_hash(h, h), [])
    with pytest.raises(VerificationError):
        verify_consistency(0, 2, h, h, [])
