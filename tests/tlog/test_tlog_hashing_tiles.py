"""RFC 6962 hashing, tile paths and which tiles a size publishes, entry bundles."""

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wefirst.tlog.errors import LogFormatError
from wefirst.tlog.hashing import EMPTY_HASH, leaf_hash, node_hash, root_from_leaf_hashes
from wefirst.tlog.integrate import integrate
from wefirst.tlog.tiles import (
    ENTRIES,
    Tile,
    bundles_for_size,
    decode_bundle,
    encode_bundle,
    encode_index,
    parse_tile_path,
    tiles_for_size,
)
from wefirst.tlog.tilestore import MemoryTileStore

RFC6962_LEAVES = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
RFC6962_ROOT = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


def test_rfc6962_root_vector() -> None:
    leaves = [leaf_hash(bytes.fromhex(x)) for x in RFC6962_LEAVES]
    assert root_from_leaf_hashes(leaves).hex() == RFC6962_ROOT


def test_rfc6962_root_vector_through_tiles() -> None:
    result = integrate(MemoryTileStore(), 0, [bytes.fromhex(x) for x in RFC6962_LEAVES])
    assert result.root.hex() == RFC6962_ROOT


def test_empty_tree_is_sha256_of_nothing_not_zeros() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_HASH
    assert bytes(32) != EMPTY_HASH
    assert integrate(MemoryTileStore(), 0, []).root == EMPTY_HASH


def test_domain_separation_of_leaf_and_node() -> None:
    a, b = b"a" * 32, b"b" * 32
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert leaf_hash(a + b) == hashlib.sha256(b"\x00" + a + b).digest()
    assert leaf_hash(a + b) != node_hash(a, b)


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "000"), (7, "007"), (999, "999"), (1000, "x001/000"), (1234067, "x001/x234/067")],
)
def test_index_groups(n: int, text: str) -> None:
    assert encode_index(n) == text
    assert parse_tile_path(f"tile/0/{text}") == Tile(0, n)


def test_paths_round_trip() -> None:
    for tile in [Tile(0, 0), Tile(3, 1234067, 5), Tile(ENTRIES, 1000, 255), Tile(63, 0, 1)]:
        assert parse_tile_path(tile.path) == tile
    assert Tile(ENTRIES, 1000, 1).path == "tile/entries/x001/000.p/1"


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/0",
        "tile/0/0000",
        "tile/0/x000/001",
        "tile/0/001/000",
        "tile/0/x1/000",
        "tile/00/000",
        "tile/64/000",
        "tile/-1/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/07",
        "tile/0/000.p/",
        "tile/0/.p/3",
        "tile/0/000.q/3",
        "tile/entry/000",
        "tiles/0/000",
        "tile/0",
        "tile/0/../../etc",
        "tile/0/00a",
        "tile/0/ 000",
        "",
    ],
)
def test_bad_tile_paths_are_format_errors(path: str) -> None:
    with pytest.raises(LogFormatError):
        parse_tile_path(path)


def paths(size: int) -> list[str]:
    return [t.path for t in tiles_for_size(size)]


def test_tiles_for_size_examples_from_tlog_md() -> None:
    assert paths(0) == []
    assert paths(256) == ["tile/0/000", "tile/1/000.p/1"]
    assert paths(257) == ["tile/0/000", "tile/0/001.p/1", "tile/1/000.p/1"]
    p = paths(70000)
    assert p[0] == "tile/0/000"
    assert p[272] == "tile/0/272"
    assert p[273:] == ["tile/0/273.p/112", "tile/1/000", "tile/1/001.p/17", "tile/2/000.p/1"]
    assert [t.path for t in bundles_for_size(257)] == ["tile/entries/000", "tile/entries/001.p/1"]


def test_integration_writes_exactly_the_published_tiles() -> None:
    store = MemoryTileStore()
    integrate(store, 0, [b"%d" % i for i in range(70000)])
    published = set(paths(70000)) | {t.path for t in bundles_for_size(70000)}
    assert set(store.items) == published


def test_bundle_round_trip_and_limits() -> None:
    entries = [b"", b"x", b"y" * 65535]
    data = encode_bundle(entries)
    assert data[:4] == b"\x00\x00\x00\x01"
    assert decode_bundle(data, 3) == entries
    with pytest.raises(LogFormatError):
        encode_bundle([b"z" * 65536])


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x00", None),  # length prefix cut
        (b"\x00\x05abc", None),  # entry cut
        (b"\x00\x01a\x00", None),
        (b"\x00\x01a", 2),  # wrong count
        (b"", 1),
    ],
)
def test_bad_bundles_are_format_errors(data: bytes, expected: int | None) -> None:
    with pytest.raises(LogFormatError):
        decode_bundle(data, expected)


@settings(max_examples=40)
@given(
    batches=st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=8),
)
def test_batched_integration_matches_reference_root(batches: list[int]) -> None:
    store = MemoryTileStore()
    leaves: list[bytes] = []
    size = 0
    for b in batches:
        entries = [b"e%d" % (size + i) for i in range(b)]
        result = integrate(store, size, entries)
        leaves += [leaf_hash(e) for e in entries]
        size = result.size
        assert result.root == root_from_leaf_hashes(leaves)
    assert size == sum(batches)


@pytest.mark.parametrize(("size", "count"), [(0, 1), (0, 600), (5, 251), (300, 70_000 - 300)])
def test_compute_without_bundles_is_the_same_minus_the_bundles(size: int, count: int) -> None:
    """The database store derives bundles from the indexed entries: leaving them out changes
    no tile and no root."""
    from wefirst.tlog.integrate import compute
    from wefirst.tlog.tilestore import MemoryTileStore

    store = MemoryTileStore()
    if size:
        store.put_many(compute(store.get, 0, [b"e%d" % i for i in range(size)]).items)
    entries = [b"e%d" % i for i in range(size, size + count)]
    full = compute(store.get, size, entries)
    lean = compute(store.get, size, entries, bundles=False)
    assert lean.root == full.root
    assert lean.items == {p: d for p, d in full.items.items() if not p.startswith("tile/entries/")}
