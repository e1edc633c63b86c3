"""Full audit of a published log: every bundle is read, every hash and tile recomputed from the
entries alone and compared with what is served, and the root with the signed checkpoint.

Memory stays bounded: tiles are processed one bundle at a time and only the right edge (one
partial tile per level) is kept between bundles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wefirst.tlog.checkpoint import SignedCheckpoint
from wefirst.tlog.errors import VerificationError
from wefirst.tlog.hashing import EMPTY_HASH
from wefirst.tlog.integrate import compute
from wefirst.tlog.reader import Fetch, read_tile
from wefirst.tlog.tiles import (
    ENTRIES,
    TILE_WIDTH,
    decode_bundle,
    parse_tile_path,
    tile_for,
    tiles_for_size,
)


@dataclass
class AuditReport:
    size: int
    root: bytes
    tiles_checked: int
    bundles_read: int


def audit_tiles(
    fetch: Fetch,
    signed: SignedCheckpoint,
    on_entry: Callable[[int, bytes], None] | None = None,
) -> AuditReport:
    """Raise VerificationError at the first tile, bundle or root that does not match."""
    size = signed.checkpoint.size
    final_partials = {t.path for t in tiles_for_size(size) if not t.is_full}
    edge: dict[str, bytes] = {}
    pos = 0
    root = EMPTY_HASH
    tiles_checked = 0
    bundles = 0
    for n in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
        bundle_tile = tile_for(ENTRIES, n, size)
        entries = decode_bundle(read_tile(fetch, bundle_tile), bundle_tile.width)
        bundles += 1
        if on_entry is not None:
            for i, e in enumerate(entries):
                on_entry(pos + i, e)
        result = compute(edge.get, pos, entries)
        for path, data in result.items.items():
            tile = parse_tile_path(path)
            if tile.is_entries:
                continue
            if tile.is_full or path in final_partials:
                served = read_tile(fetch, tile)
                tiles_checked += 1
                if served != data:
                    raise VerificationError(f"{path} differs from the hashes recomputed from the entries")
        # Keep only the right edge (the latest partial of each tile) for the next bundle.
        for path, data in result.items.items():
            full = parse_tile_path(path).is_full
            prefix = (path if full else path.rsplit(".p/", 1)[0]) + ".p/"
            for old in [p for p in edge if p.startswith(prefix)]:
                del edge[old]
            if not full:
                edge[path] = data
        pos = result.size
        root = result.root
    if pos != size:
        raise VerificationError(f"bundles hold {pos} entries, the checkpoint says {size}")
    if root != signed.checkpoint.root:
        raise VerificationError(f"the root recomputed from all {size} entries differs from the signed root")
    return AuditReport(size, root, tiles_checked, bundles)
