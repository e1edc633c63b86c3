"""Appending a batch of entries to a tiled tree: new leaf hashes, the level 0..k tiles they
complete or extend, the entry bundles, and the new root.

Only the right edge of the tree is read (one partial tile per level plus the partial bundle):
everything left of it is complete and immutable. The result is a pure function of the tree
before and the entries, so re-running a batch after a crash writes identical bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from wefirst.tlog.errors import LogFormatError
from wefirst.tlog.hashing import HASH_SIZE, complete_root, fold_subtrees
from wefirst.tlog.reader import read_tile
from wefirst.tlog.tiles import (
    ENTRIES,
    FULL_TILE_BYTES,
    MAX_ENTRY_SIZE,
    TILE_HEIGHT,
    TILE_WIDTH,
    Tile,
    decode_bundle,
    encode_bundle,
)
from wefirst.tlog.tilestore import TileStore


@dataclass
class Integration:
    old_size: int
    size: int
    root: bytes
    items: dict[str, bytes] = field(default_factory=dict)


def _edge_roots(edge: bytes) -> list[bytes]:
    """Complete-subtree roots of a right-edge tile, largest first."""
    w = len(edge) // HASH_SIZE
    roots = []
    off = 0
    for b in range(TILE_HEIGHT - 1, -1, -1):
        if w >> b & 1:
            roots.append(complete_root(edge[off * HASH_SIZE : (off + (1 << b)) * HASH_SIZE]))
            off += 1 << b
    return roots


def compute(
    get: Callable[[str], bytes | None], size: int, entries: Sequence[bytes], *, bundles: bool = True
) -> Integration:
    """Tiles, bundles and root after appending ``entries`` to the tree of ``size`` read via
    ``get``. Nothing is written. ``bundles=False`` leaves the entry bundles out (a store that
    derives them from the indexed entries, like the database one, would only drop them)."""
    if size < 0:
        raise LogFormatError(f"tree size must be non-negative, got {size}")
    for i, e in enumerate(entries):
        if len(e) > MAX_ENTRY_SIZE:
            raise LogFormatError(f"entry {i} is {len(e)} bytes; the limit is 65535")

    # The right edge: the partial tile of each level, and the partial bundle.
    counts: list[int] = []
    edges: list[bytearray] = []
    c = size
    level = 0
    while c > 0:
        counts.append(c)
        w = c % TILE_WIDTH
        edges.append(bytearray(read_tile(get, Tile(level, c // TILE_WIDTH, w))) if w else bytearray())
        level += 1
        c >>= TILE_HEIGHT
    if not counts:
        counts.append(0)
        edges.append(bytearray())
    bundle: list[bytes] = []
    if bundles and size % TILE_WIDTH:
        w = size % TILE_WIDTH
        bundle = decode_bundle(read_tile(get, Tile(ENTRIES, size // TILE_WIDTH, w)), w)

    items: dict[str, bytes] = {}
    changed = [False] * len(edges)
    sha = hashlib.sha256

    def push(level: int, h: bytes) -> None:
        while True:
            if level == len(edges):
                edges.append(bytearray())
                counts.append(0)
                changed.append(False)
            edge = edges[level]
            edge += h
            counts[level] += 1
            changed[level] = True
            if len(edge) < FULL_TILE_BYTES:
                return
            n = counts[level] // TILE_WIDTH - 1
            items[Tile(level, n).path] = bytes(edge)
            h = complete_root(bytes(edge))
            edges[level] = bytearray()
            level += 1

    pos = 0
    total = len(entries)
    n0 = size
    while pos < total:
        room = TILE_WIDTH - n0 % TILE_WIDTH
        chunk = entries[pos : pos + room]
        edge0 = edges[0]
        edge0 += b"".join([sha(b"\x00" + e).digest() for e in chunk])
        if bundles:
            bundle.extend(chunk)
        counts[0] += len(chunk)
        changed[0] = True
        n0 += len(chunk)
        pos += len(chunk)
        if n0 % TILE_WIDTH == 0:
            n = n0 // TILE_WIDTH - 1
            items[Tile(0, n).path] = bytes(edge0)
            if bundles:
                items[Tile(ENTRIES, n).path] = encode_bundle(bundle)
            bundle = []
            edges[0] = bytearray()
            push(1, complete_root(bytes(edge0)))

    for level, edge in enumerate(edges):
        if changed[level] and edge:
            w = len(edge) // HASH_SIZE
            items[Tile(level, counts[level] // TILE_WIDTH, w).path] = bytes(edge)
    if bundle and total:
        items[Tile(ENTRIES, n0 // TILE_WIDTH, len(bundle)).path] = encode_bundle(bundle)

    roots: list[bytes] = []
    for edge in reversed(edges):
        roots.extend(_edge_roots(bytes(edge)))
    return Integration(size, size + total, fold_subtrees(roots), items)


def integrate(store: TileStore, size: int, entries: Sequence[bytes]) -> Integration:
    """compute() and store the result; returns the new size and root."""
    result = compute(store.get, size, entries)
    if result.items:
        store.put_many(result.items)
    return result
