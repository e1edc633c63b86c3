"""Where tiles, bundles and the published checkpoint live, behind one small interface.

Paths are exactly the URL paths below the log prefix (``checkpoint``, ``tile/0/000.p/3``,
``tile/entries/x001/000``), so a directory store can be served by any static web server or copied
to an object store as it is.

Policy shared by every store: when a full tile is written, the partial versions of that tile are
deleted (C2SP tlog-tiles allows it; readers fall back to the full tile). Otherwise a log growing
one entry per batch would keep up to 255 partial copies of every tile."""

from __future__ import annotations

import ctypes
import fcntl
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, cast

from wefirst.tlog.checkpoint import parse_signed_checkpoint
from wefirst.tlog.errors import LogFormatError, TlogError
from wefirst.tlog.tiles import parse_tile_path

CHECKPOINT_PATH = "checkpoint"
KEY_PATH = "key"  # the verifier key line, so a static copy of the log names its own key


class TileStore(Protocol):
    def get(self, path: str) -> bytes | None: ...

    def put_many(self, items: Mapping[str, bytes]) -> None:
        """Store all items; a later item may depend on earlier ones being durable (the
        checkpoint, if present, is written last)."""
        ...


def check_path(path: str) -> None:
    """Only canonical tile/bundle paths, ``checkpoint`` and ``key``: no traversal, one name per
    object."""
    if path not in (CHECKPOINT_PATH, KEY_PATH):
        parse_tile_path(path)


def partial_prefix(path: str) -> str | None:
    """For a full tile path, the prefix its partial versions share (``tile/0/001.p/``)."""
    if path in (CHECKPOINT_PATH, KEY_PATH):
        return None
    tile = parse_tile_path(path)
    return path + ".p/" if tile.is_full else None


def ordered(items: Mapping[str, bytes]) -> list[tuple[str, bytes]]:
    """Tiles and bundles first, the checkpoint last, so a reader never sees a checkpoint whose
    tiles are missing."""
    return sorted(items.items(), key=lambda kv: kv[0] == CHECKPOINT_PATH)


def _rank(checkpoint: bytes) -> tuple[int, int]:
    """(size, signature lines) of a checkpoint file; a malformed file ranks below anything."""
    try:
        signed = parse_signed_checkpoint(checkpoint)
    except TlogError:
        return (-1, 0)
    return (signed.checkpoint.size, len(signed.note.signatures))


class MemoryTileStore:
    def __init__(self) -> None:
        self.items: dict[str, bytes] = {}

    def get(self, path: str) -> bytes | None:
        return self.items.get(path)

    def put_many(self, items: Mapping[str, bytes]) -> None:
        for path, data in ordered(items):
            check_path(path)
            self.items[path] = bytes(data)
            prefix = partial_prefix(path)
            if prefix is not None:
                for p in [p for p in self.items if p.startswith(prefix)]:
                    del self.items[p]


class DirectoryTileStore:
    """Files laid out as the URLs; each written to a temporary file, then renamed, so a reader
    sees either nothing or the whole tile; one filesystem flush per ``put_many`` (a sequencer
    round: its tiles, then its checkpoint)."""

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self.root = Path(root)
        self.fsync = fsync
        self.root.mkdir(parents=True, exist_ok=True)

    def _file(self, path: str) -> Path:
        check_path(path)
        return self.root / path

    def get(self, path: str) -> bytes | None:
        try:
            f = self._file(path)
        except LogFormatError:
            return None
        try:
            return f.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def put_many(self, items: Mapping[str, bytes]) -> None:
        tiles = {p: d for p, d in items.items() if p != CHECKPOINT_PATH}
        self._write(tiles)
        if CHECKPOINT_PATH in items:
            # Only once every tile is durable may the checkpoint that needs them appear.
            self._publish_checkpoint(items[CHECKPOINT_PATH])

    def _publish_checkpoint(self, data: bytes) -> None:
        """The public checkpoint never goes back: two writers (the sequencer with a new size,
        the witness submitter adding cosignatures to the current one) take a lock, and a
        smaller size, or the same size with fewer signature lines, does not replace the file."""
        with open(self.root / ".checkpoint.lock", "ab") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                current = self.get(CHECKPOINT_PATH)
                if current is None or _rank(data) >= _rank(current):
                    self._write({CHECKPOINT_PATH: data})
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _write(self, items: Mapping[str, bytes]) -> None:
        """Every file to a temporary name and renamed over its path, then one flush of the
        whole filesystem for all of them (``syncfs``; per-file ``fsync`` where it is missing),
        and only then the superseded partial tiles deleted: until the full tile is durable a
        reader (or a recovering sequencer) still finds the partial one.

        A crash before the flush can leave a renamed file without its bytes; that is only ever
        a tile of a size not yet recorded, which the next round writes again identically."""
        written: list[Path] = []
        pruned: list[Path] = []
        for path, data in items.items():
            target = self._file(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.chmod(tmp, 0o644)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            written.append(target)
            if partial_prefix(path) is not None:
                pruned.append(target.parent / (target.name + ".p"))
        if self.fsync and written:
            flush(self.root, written)
        for pdir in pruned:
            if pdir.is_dir():
                for f in pdir.iterdir():
                    f.unlink(missing_ok=True)
                pdir.rmdir()


def _load_syncfs() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.syncfs
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int]
    fn.restype = ctypes.c_int
    return cast(Callable[[int], int], fn)


_SYNCFS = _load_syncfs()
flushes = 0  # flush() calls since start (tests watch it)


def flush(root: Path, files: Sequence[Path]) -> None:
    """Make ``files`` (just renamed into place under ``root``) and their directory entries
    durable: one ``syncfs`` of root's filesystem (Linux), which costs one journal commit
    whatever the number of files, or else an ``fsync`` of each file and each directory."""
    global flushes
    flushes += 1
    if _SYNCFS is not None:
        fd = os.open(root, os.O_RDONLY)
        try:
            if _SYNCFS(fd) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"syncfs({root}): {os.strerror(err)}")
        finally:
            os.close(fd)
        return
    for f in [*files, *sorted({f.parent for f in files})]:
        fd = os.open(f, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
