"""C2SP tlog-checkpoint: the signed tree head (origin, size, root) inside a signed note."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from wefirst.tlog.errors import LogFormatError, VerificationError
from wefirst.tlog.hashing import HASH_SIZE
from wefirst.tlog.note import (
    Note,
    Signer,
    Verifier,
    b64decode_strict,
    b64encode,
    check_name,
    open_note,
    parse_note,
    sign_note,
)

_SIZE = re.compile(r"0|[1-9][0-9]*")
MAX_SIZE = (1 << 63) - 1


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        """The signed text: three lines (plus extension lines), each ending in a newline."""
        ext = "".join(e + "\n" for e in self.extensions)
        return f"{self.origin}\n{self.size}\n{b64encode(self.root)}\n{ext}"


def parse_body(text: str) -> Checkpoint:
    if not text.endswith("\n"):
        raise LogFormatError("checkpoint body does not end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise LogFormatError(f"checkpoint body has {len(lines)} lines, expected at least 3")
    origin, size_s, root_s, *ext = lines
    try:
        check_name(origin)
    except LogFormatError as e:
        raise LogFormatError(f"checkpoint origin: {e}") from None
    if not _SIZE.fullmatch(size_s):
        raise LogFormatError(f"checkpoint size {size_s!r} is not a decimal without leading zeros")
    size = int(size_s)
    if size > MAX_SIZE:
        raise LogFormatError(f"checkpoint size {size} is out of range")
    root = b64decode_strict(root_s, "checkpoint root hash")
    if len(root) != HASH_SIZE:
        raise LogFormatError(f"checkpoint root hash is {len(root)} bytes, expected 32")
    for i, line in enumerate(ext):
        if not line:
            raise LogFormatError(f"checkpoint extension line {i + 1} is empty")
    return Checkpoint(origin, size, root, tuple(ext))


def sign_checkpoint(cp: Checkpoint, signer: Signer) -> str:
    if signer.name != cp.origin:
        raise LogFormatError(f"signer name {signer.name!r} is not the origin {cp.origin!r}")
    return sign_note(cp.body(), [signer])


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    note: Note
    text: str


def parse_signed_checkpoint(data: bytes | str) -> SignedCheckpoint:
    """Syntax only, no signature check: for tools that show a checkpoint before trusting it."""
    note = parse_note(data)
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return SignedCheckpoint(parse_body(note.text), note, text)


def open_checkpoint(
    data: bytes | str, verifier: Verifier, extra: Iterable[Verifier] = ()
) -> SignedCheckpoint:
    """Parse, check the log's own signature, and check the origin is the key's name."""
    note = open_note(data, [verifier, *extra])
    if not any(s.name == verifier.name and s.key_id == verifier.key_id for s in note.signatures):
        raise VerificationError(f"checkpoint is not signed by the log key {verifier.key_string}")
    cp = parse_body(note.text)
    if cp.origin != verifier.name:
        raise VerificationError(
            f"checkpoint origin {cp.origin!r} differs from the log key name {verifier.name!r}"
        )
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return SignedCheckpoint(cp, note, text)
