"""Reading subtree hashes out of published tiles, for proofs and root checks.

A tile's path depends on the tree size it is read for (partial width). Tiles are append-only, so
any tile with a larger width, or the full tile, holds the same leading hashes: when a partial tile
has been superseded (404) the reader falls back to the full tile and keeps its first W hashes,
as C2SP tlog-tiles clients do."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from threading import Lock

from wefirst.tlog.errors import LogFormatError, NotFoundError
from wefirst.tlog.hashing import HASH_SIZE, complete_root
from wefirst.tlog.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    Tile,
    check_tile_bytes,
    decode_bundle,
    tile_for,
)

Fetch = Callable[[str], "bytes | None"]


class TileCache:
    """A bounded LRU of tile bytes keyed by path. Every tile path names immutable content
    (a partial tile .p/W never changes either), so entries never need invalidating."""

    def __init__(self, max_items: int = 4096) -> None:
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._max = max_items
        self._lock = Lock()

    def get(self, path: str) -> bytes | None:
        with self._lock:
            data = self._items.get(path)
            if data is not None:
                self._items.move_to_end(path)
            return data

    def put(self, path: str, data: bytes) -> None:
        with self._lock:
            self._items[path] = data
            self._items.move_to_end(path)
            while len(self._items) > self._max:
                self._items.popitem(last=False)


def read_tile(fetch: Fetch, tile: Tile, cache: TileCache | None = None) -> bytes:
    """The bytes of ``tile`` (hash tile or bundle) at exactly its width, with the full-tile
    fallback; the length of hash tiles is checked."""
    data = cache.get(tile.path) if cache is not None else None
    if data is None:
        data = fetch(tile.path)
        if data is None and not tile.is_full:
            full = fetch(tile.full().path)
            if full is not None:
                data = _truncate(tile, full)
        if data is None:
            raise NotFoundError(f"{tile.path} is not published")
        if cache is not None:
            cache.put(tile.path, data)
    if not tile.is_entries:
        check_tile_bytes(tile, data)
    return data


def _truncate(tile: Tile, full: bytes) -> bytes:
    if tile.is_entries:
        entries = decode_bundle(full, TILE_WIDTH)
        out = bytearray()
        for e in entries[: tile.width]:
            out += len(e).to_bytes(2, "big") + e
        return bytes(out)
    check_tile_bytes(tile.full(), full)
    return full[: tile.width * HASH_SIZE]


class TileHashReader:
    """HashReader over the tiles of one tree size."""

    def __init__(self, fetch: Fetch, size: int, cache: TileCache | None = None) -> None:
        self.fetch = fetch
        self.size = size
        self.cache = cache if cache is not None else TileCache(256)

    def hash_at(self, level: int, index: int) -> bytes:
        if ((index + 1) << level) > self.size:
            raise LogFormatError(f"subtree {level}/{index} lies beyond tree size {self.size}")
        tile_level, sub = divmod(level, TILE_HEIGHT)
        first = index << sub  # position at tile_level
        tile = tile_for(tile_level, first // TILE_WIDTH, self.size)
        data = read_tile(self.fetch, tile, self.cache)
        offset = (first % TILE_WIDTH) * HASH_SIZE
        chunk = data[offset : offset + (HASH_SIZE << sub)]
        return chunk if sub == 0 else complete_root(chunk)
