"""C2SP tlog-tiles: tile coordinates, their URL paths, which tiles a tree size publishes, and
entry bundles.

Paths are relative to the log prefix (``tile/0/x001/234.p/5``), identical for the HTTP server and
the directory store, so a static web server can serve a directory log as is."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from wefirst.tlog.errors import LogFormatError
from wefirst.tlog.hashing import HASH_SIZE

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256
FULL_TILE_BYTES = TILE_WIDTH * HASH_SIZE
MAX_LEVEL = 63
MAX_ENTRY_SIZE = 0xFFFF  # a bundle stores each entry behind a 2-byte length
ENTRIES = -1  # the level used internally for entry bundles


@dataclass(frozen=True, slots=True)
class Tile:
    """A hash tile (level >= 0) or an entry bundle (level == ENTRIES); width 256 means full."""

    level: int
    n: int
    width: int = TILE_WIDTH

    @property
    def is_full(self) -> bool:
        return self.width == TILE_WIDTH

    @property
    def is_entries(self) -> bool:
        return self.level == ENTRIES

    @property
    def path(self) -> str:
        head = "tile/entries/" if self.level == ENTRIES else f"tile/{self.level}/"
        tail = "" if self.width == TILE_WIDTH else f".p/{self.width}"
        return head + encode_index(self.n) + tail

    def full(self) -> Tile:
        return Tile(self.level, self.n, TILE_WIDTH)


def encode_index(n: int) -> str:
    """Tile index N in 3-digit groups, every group but the last prefixed with ``x``."""
    if n < 0:
        raise LogFormatError(f"tile index must be non-negative, got {n}")
    groups = []
    while True:
        groups.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])


_GROUP = re.compile(r"x[0-9]{3}")
_LAST = re.compile(r"[0-9]{3}")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")
_LEVEL = re.compile(r"0|[1-9][0-9]?")


def parse_index(groups: Sequence[str]) -> int:
    if not groups:
        raise LogFormatError("tile path has no index")
    n = 0
    for g in groups[:-1]:
        if not _GROUP.fullmatch(g):
            raise LogFormatError(f"bad tile index group {g!r}: expected x and three digits")
        n = n * 1000 + int(g[1:])
    if not _LAST.fullmatch(groups[-1]):
        raise LogFormatError(f"bad last tile index group {groups[-1]!r}: expected three digits")
    n = n * 1000 + int(groups[-1])
    if len(groups) > 1 and groups[0] == "x000":
        raise LogFormatError("tile index has a leading zero group")
    return n


def parse_tile_path(path: str) -> Tile:
    """Inverse of Tile.path; rejects every non-canonical spelling so one tile has one URL."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise LogFormatError(f"not a tile path: {path!r}")
    if parts[1] == "entries":
        level = ENTRIES
    elif _LEVEL.fullmatch(parts[1]) and int(parts[1]) <= MAX_LEVEL:
        level = int(parts[1])
    else:
        raise LogFormatError(f"bad tile level {parts[1]!r} in {path!r}")
    rest = parts[2:]
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        w = rest[-1]
        if not _WIDTH.fullmatch(w) or int(w) >= TILE_WIDTH:
            raise LogFormatError(f"bad partial tile width {w!r} in {path!r}: expected 1..255")
        width = int(w)
        rest = [*rest[:-2], rest[-2][:-2]]
    try:
        n = parse_index(rest)
    except LogFormatError as e:
        raise LogFormatError(f"{e} in {path!r}") from None
    return Tile(level, n, width)


def tiles_for_size(size: int) -> Iterator[Tile]:
    """Every hash tile (full and partial) a tree of this size publishes, level by level."""
    if size < 0:
        raise LogFormatError(f"tree size must be non-negative, got {size}")
    level = 0
    c = size
    while c > 0:
        for n in range(c // TILE_WIDTH):
            yield Tile(level, n)
        if c % TILE_WIDTH:
            yield Tile(level, c // TILE_WIDTH, c % TILE_WIDTH)
        level += 1
        c >>= TILE_HEIGHT


def bundles_for_size(size: int) -> Iterator[Tile]:
    """Every entry bundle a tree of this size publishes."""
    for n in range(size // TILE_WIDTH):
        yield Tile(ENTRIES, n)
    if size % TILE_WIDTH:
        yield Tile(ENTRIES, size // TILE_WIDTH, size % TILE_WIDTH)


def tile_for(level: int, n: int, size: int) -> Tile:
    """The tile (level, n) as it exists for a tree of this size: full, or partial with the width
    the size implies. Bundles use level ENTRIES and the level-0 width."""
    c = size >> (TILE_HEIGHT * max(level, 0))
    width = min(TILE_WIDTH, c - n * TILE_WIDTH)
    if width <= 0:
        raise LogFormatError(f"tile {level}/{n} does not exist at tree size {size}")
    return Tile(level, n, width)


def check_tile_bytes(tile: Tile, data: bytes) -> None:
    if tile.is_entries:
        raise LogFormatError("check_tile_bytes is for hash tiles; decode bundles instead")
    if len(data) != tile.width * HASH_SIZE:
        raise LogFormatError(
            f"{tile.path}: {len(data)} bytes, expected {tile.width * HASH_SIZE} "
            f"({tile.width} hashes of 32 bytes)"
        )


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    """Entries in order, each behind a 2-byte big-endian length; nothing else."""
    out = bytearray()
    for e in entries:
        if len(e) > MAX_ENTRY_SIZE:
            raise LogFormatError(f"entry of {len(e)} bytes exceeds the 65535-byte bundle limit")
        out += len(e).to_bytes(2, "big")
        out += e
    return bytes(out)


def decode_bundle(data: bytes, expected: int | None = None) -> list[bytes]:
    """Split a bundle; with ``expected`` also check the entry count the tile width implies."""
    entries: list[bytes] = []
    pos = 0
    end = len(data)
    while pos < end:
        if pos + 2 > end:
            raise LogFormatError(f"entry bundle truncated: length prefix cut at byte {pos}")
        size = int.from_bytes(data[pos : pos + 2], "big")
        pos += 2
        if pos + size > end:
            raise LogFormatError(
                f"entry bundle truncated: entry {len(entries)} declares {size} bytes, {end - pos} remain"
            )
        entries.append(data[pos : pos + size])
        pos += size
    if expected is not None and len(entries) != expected:
        raise LogFormatError(f"entry bundle holds {len(entries)} entries, expected {expected}")
    return entries
