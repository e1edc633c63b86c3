"""C2SP tlog-witness `add-checkpoint` on the wire, both directions, with no I/O: the log's
submitter builds requests and reads answers with it, the witness parses requests with it.

Request body::

    old <size>\\n
    <base64 consistency proof hash>\\n      (0 to 63 lines)
    \\n
    <signed checkpoint>

A 409 answer is ``<size>\\n`` with Content-Type ``text/x.tlog.size``; a 200 answer is one or more
note signature lines (cosignatures)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from wefirst.tlog.errors import LogFormatError
from wefirst.tlog.hashing import HASH_SIZE
from wefirst.tlog.note import NoteSignature, b64decode_strict, b64encode, parse_note

SIZE_CONTENT_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63
MAX_BODY = 64 * 1024  # 63 proof lines and a checkpoint with a few dozen signatures fit easily
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")


def _size(text: str, what: str) -> int:
    if not _SIZE.fullmatch(text) or int(text) > (1 << 63) - 1:
        raise LogFormatError(f"{what} {text!r} is not a decimal size without leading zeros")
    return int(text)


def build_request(old_size: int, proof: Sequence[bytes], checkpoint: str) -> bytes:
    if old_size < 0:
        raise LogFormatError("old size is negative")
    if len(proof) > MAX_PROOF_LINES:
        raise LogFormatError(f"consistency proof has {len(proof)} hashes, at most {MAX_PROOF_LINES}")
    lines = [f"old {old_size}\n", *(b64encode(h) + "\n" for h in proof), "\n"]
    return ("".join(lines) + checkpoint).encode("utf-8")


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: str  # the signed checkpoint as sent (note text, blank line, signature lines)


def parse_request(body: bytes) -> AddCheckpoint:
    """Syntax only; the witness then checks origin, signatures, sizes and the proof."""
    if len(body) > MAX_BODY:
        raise LogFormatError(f"request body is larger than {MAX_BODY} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise LogFormatError("request body is not UTF-8") from None
    head, sep, checkpoint = text.partition("\n\n")
    if not sep:
        raise LogFormatError("request body has no blank line before the checkpoint")
    lines = head.split("\n")
    if not lines[0].startswith("old "):
        raise LogFormatError("request body must start with 'old <size>'")
    old_size = _size(lines[0][4:], "old size")
    proof_lines = lines[1:]
    if len(proof_lines) > MAX_PROOF_LINES:
        raise LogFormatError(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for i, line in enumerate(proof_lines):
        h = b64decode_strict(line, f"consistency proof line {i + 1}")
        if len(h) != HASH_SIZE:
            raise LogFormatError(f"consistency proof line {i + 1} is {len(h)} bytes, expected 32")
        proof.append(h)
    if old_size == 0 and proof:
        raise LogFormatError("the consistency proof must be empty when the old size is 0")
    return AddCheckpoint(old_size, tuple(proof), checkpoint)


def parse_size_body(body: bytes) -> int:
    """The witness's latest cosigned size from a 409 answer."""
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        raise LogFormatError("409 body is not ASCII") from None
    if not text.endswith("\n"):
        raise LogFormatError("409 body does not end with a newline")
    return _size(text[:-1], "409 body size")


def parse_response(body: bytes, checkpoint_text: str) -> tuple[NoteSignature, ...]:
    """The signature lines of a 200 answer, parsed by appending them to the checkpoint's text
    (the spec's suggestion): the same strict note parser as everywhere else."""
    try:
        lines = body.decode("utf-8")
    except UnicodeDecodeError:
        raise LogFormatError("cosignature answer is not UTF-8") from None
    if not lines or not lines.endswith("\n") or "\n\n" in lines:
        raise LogFormatError("cosignature answer must be signature lines, each ending in a newline")
    return parse_note(checkpoint_text + "\n" + lines).signatures
