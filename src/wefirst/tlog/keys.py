"""Signer key files: the Go note private-key line in a 0600 file."""

from __future__ import annotations

import os
from pathlib import Path

from wefirst.tlog.errors import LogFormatError
from wefirst.tlog.note import Signer, generate_signer, parse_signer_key


def write_secret_line(path: str | os.PathLike[str], line: str) -> None:
    """Create a key file at ``path`` (never overwriting one): O_EXCL and mode 0600 from the
    first byte, so the seed is never readable by others even briefly."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(line + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def write_new_key(path: str | os.PathLike[str], name: str) -> Signer:
    signer = generate_signer(name)
    write_secret_line(path, signer.private_key_string)
    return signer


def read_key_text(path: str | os.PathLike[str]) -> str:
    try:
        return Path(path).read_text(encoding="ascii")
    except UnicodeDecodeError:
        raise LogFormatError(f"{path}: signer key file is not ASCII") from None


def load_key(path: str | os.PathLike[str]) -> Signer:
    """Refuse a key file that others can read: whoever reads the seed can sign as the log."""
    mode = os.stat(path).st_mode
    if mode & 0o077:
        raise LogFormatError(
            f"{path}: signer key file is readable by others (mode {mode & 0o777:o}); chmod 600 it"
        )
    return parse_signer_key(read_key_text(path))


def load_or_create(path: str | os.PathLike[str], origin: str) -> Signer:
    """The demo's first run creates the key; later runs must find the same origin in it."""
    p = Path(path)
    if not p.exists():
        try:
            return write_new_key(p, origin)
        except FileExistsError:
            pass  # another process created it between our check and open
    signer = load_key(p)
    if signer.name != origin:
        raise LogFormatError(f"{path}: key is for origin {signer.name!r}, but the log origin is {origin!r}")
    return signer
