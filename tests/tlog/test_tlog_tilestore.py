"""The directory and memory tile stores: URL layout on disk, atomic files, partial tiles pruned
once their full tile exists, and no way out of the directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wefirst.tlog.errors import LogFormatError
from wefirst.tlog.integrate import integrate
from wefirst.tlog.tilestore import DirectoryTileStore, MemoryTileStore


def test_directory_layout_is_the_url_layout(tmp_path: Path) -> None:
    store = DirectoryTileStore(tmp_path / "log", fsync=True)
    integrate(store, 0, [b"%d" % i for i in range(300)])
    files = sorted(str(p.relative_to(tmp_path / "log")) for p in (tmp_path / "log").rglob("*") if p.is_file())
    assert files == [
        "tile/0/000",
        "tile/0/001.p/44",
        "tile/1/000.p/1",
        "tile/entries/000",
        "tile/entries/001.p/44",
    ]
    assert (tmp_path / "log/tile/0/000").stat().st_mode & 0o777 == 0o644
    assert store.get("tile/0/000") == (tmp_path / "log/tile/0/000").read_bytes()


def test_partials_are_pruned_when_the_full_tile_arrives(tmp_path: Path) -> None:
    for store in (DirectoryTileStore(tmp_path / "d", fsync=False), MemoryTileStore()):
        integrate(store, 0, [b"a"] * 10)
        integrate(store, 10, [b"b"] * 20)
        assert store.get("tile/0/000.p/10") is not None  # kept: an older checkpoint needs it
        assert store.get("tile/0/000.p/30") is not None
        integrate(store, 30, [b"c"] * 226)
        assert store.get("tile/0/000") is not None
        assert store.get("tile/0/000.p/10") is None
        assert store.get("tile/0/000.p/30") is None
        assert store.get("tile/entries/000.p/30") is None
    assert not (tmp_path / "d/tile/0/000.p").exists()


@pytest.mark.parametrize(
    "path", ["../x", "tile/../../etc/passwd", "/etc/passwd", "tile/0/000/../000", "checkpoints"]
)
def test_no_path_outside_the_layout(tmp_path: Path, path: str) -> None:
    store = DirectoryTileStore(tmp_path / "log", fsync=False)
    assert store.get(path) is None
    with pytest.raises(LogFormatError):
        store.put_many({path: b"x"})
    with pytest.raises(LogFormatError):
        MemoryTileStore().put_many({path: b"x"})


def test_checkpoint_is_written_after_the_tiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = DirectoryTileStore(tmp_path / "log", fsync=False)
    seen: list[str] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        seen.append(str(Path(dst).relative_to(tmp_path / "log")))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    store.put_many({"checkpoint": b"cp\n", "tile/0/000.p/1": b"h" * 32, "key": b"k\n"})
    assert seen[-1] == "checkpoint"
    assert set(seen) == {"checkpoint", "tile/0/000.p/1", "key"}
    assert not list((tmp_path / "log").rglob(".tmp-*"))


def test_one_flush_per_write_whatever_the_number_of_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A round of 600 entries writes 9 files (tiles, bundles, levels); they are made durable
    by one filesystem flush, not one fsync per file and per directory; the checkpoint, written
    after them, by one more."""
    from wefirst.tlog import tilestore

    fsyncs: list[int] = []
    monkeypatch.setattr(os, "fsync", lambda fd: fsyncs.append(fd))
    store = DirectoryTileStore(tmp_path / "log", fsync=True)
    before = tilestore.flushes
    result = integrate(store, 0, [b"%d" % i for i in range(600)])
    assert len(result.items) >= 7
    assert tilestore.flushes - before == 1
    store.put_many({"checkpoint": b"cp\n"})
    assert tilestore.flushes - before == 2
    if tilestore._SYNCFS is not None:  # Linux: no per-file fsync at all
        assert fsyncs == []


def test_partials_are_pruned_only_after_the_flush(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Until the full tile is durable, the partial tile it replaces stays: a crash in between
    must leave the older checkpoint's tiles readable (the recovering round reads them)."""
    from wefirst.tlog import tilestore

    store = DirectoryTileStore(tmp_path / "log", fsync=True)
    integrate(store, 0, [b"a"] * 10)
    partial = tmp_path / "log/tile/0/000.p/10"
    seen: list[bool] = []
    real = tilestore.flush

    def spy(root: Path, files: list[Path]) -> None:
        seen.append(partial.exists())
        real(root, files)

    monkeypatch.setattr(tilestore, "flush", spy)
    integrate(store, 10, [b"b"] * 246)
    assert seen == [True]  # still there when the flush ran
    assert not partial.exists()  # and gone after it
