"""Receipts: the consumer's secret, its public commitment, and the JSON bundle that proves the
entry is in the log. Shared by the server (which builds bundles) and the verifier (which reads
them), so both agree on one shape."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wefirst.tlog.errors import LogFormatError, PendingError, VerificationError
from wefirst.tlog.hashing import HASH_SIZE
from wefirst.tlog.note import b64encode


def new_secret() -> str:
    """128 bits of randomness, URL-safe: the receipt the consumer keeps."""
    return secrets.token_urlsafe(16)


def commitment_of(secret: str) -> str:
    """Hex SHA-256 of the secret's UTF-8 bytes: what the public log holds instead of a person."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def receipt_url(base_url: str, secret: str) -> str:
    return f"{base_url.rstrip('/')}/v1/receipts/{secret}"


def bundle(
    *,
    entry: bytes,
    index: int,
    proof: Sequence[bytes],
    checkpoint: str,
    tree_size: int,
    commitment: str | None,
    log_url: str,
) -> dict[str, Any]:
    """The receipt JSON: the entry three ways (text, parsed, exact bytes), where it sits, the
    proof and the signed checkpoint the proof leads to."""
    return {
        "status": "integrated",
        "commitment": commitment,
        "entry": entry.decode("utf-8"),
        "entry_json": json.loads(entry),
        "entry_b64": b64encode(entry),
        "index": index,
        "tree_size": tree_size,
        "inclusion_proof": [b64encode(h) for h in proof],
        "checkpoint": checkpoint,
        "log_url": log_url,
    }


@dataclass(frozen=True)
class Receipt:
    entry: bytes
    index: int
    proof: tuple[bytes, ...]
    checkpoint: str
    tree_size: int | None


def _hash(text: object, i: int) -> bytes:
    if not isinstance(text, str):
        raise LogFormatError(f"receipt proof hash {i} is not a string")
    try:
        if len(text) == 2 * HASH_SIZE and all(c in "0123456789abcdefABCDEF" for c in text):
            raw = bytes.fromhex(text)
        else:
            raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise LogFormatError(f"receipt proof hash {i} is neither hex nor base64") from None
    if len(raw) != HASH_SIZE:
        raise LogFormatError(f"receipt proof hash {i} is {len(raw)} bytes, expected 32")
    return raw


def _readable_matches_signed(obj: Mapping[str, Any], signed: bytes) -> None:
    """A receipt carries its entry three ways; only the exact bytes are proven. A person reads
    `entry` or `entry_json` (and `commitment`), so each must say exactly what the proven bytes
    say, or the receipt could show 20 units while proving 2 (the browser verifier checks the
    same)."""
    try:
        proven = json.loads(signed)
    except (ValueError, UnicodeDecodeError):
        raise VerificationError("the proven entry bytes are not JSON") from None
    text = obj.get("entry")
    if text is not None and (not isinstance(text, str) or text.encode("utf-8") != signed):
        raise VerificationError("the readable entry differs from the proven entry bytes (entry_b64)")
    if "entry_json" in obj and obj["entry_json"] != proven:
        raise VerificationError("entry_json differs from the proven entry bytes")
    commitment = obj.get("commitment")
    if commitment is not None and (not isinstance(proven, dict) or proven.get("commitment") != commitment):
        raise VerificationError("the receipt's commitment differs from the one in the proven entry")


def parse_receipt(data: bytes | str | Mapping[str, Any]) -> Receipt:
    if isinstance(data, Mapping):
        obj: Any = data
    else:
        try:
            obj = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise LogFormatError("receipt is not JSON") from None
    if not isinstance(obj, Mapping):
        raise LogFormatError("receipt is not a JSON object")
    if isinstance(obj.get("receipt"), Mapping):
        obj = obj["receipt"]
    if obj.get("status") == "pending":
        raise PendingError("the receipt is still pending: the entry is not integrated yet")
    if isinstance(obj.get("entry_b64"), str):
        try:
            entry = base64.b64decode(obj["entry_b64"], validate=True)
        except (binascii.Error, ValueError):
            raise LogFormatError("receipt entry_b64 is not base64") from None
    elif isinstance(obj.get("entry"), str):
        entry = obj["entry"].encode("utf-8")
    else:
        raise LogFormatError("receipt has no entry (entry_b64 or entry)")
    _readable_matches_signed(obj, entry)
    index = obj.get("index")
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise LogFormatError("receipt index is missing or not a non-negative integer")
    proof = obj.get("inclusion_proof", [])
    if not isinstance(proof, list):
        raise LogFormatError("receipt inclusion_proof is not a list")
    checkpoint = obj.get("checkpoint")
    if not isinstance(checkpoint, str):
        raise LogFormatError("receipt has no checkpoint text")
    size = obj.get("tree_size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise LogFormatError("receipt tree_size is not a non-negative integer")
    return Receipt(entry, index, tuple(_hash(h, i) for i, h in enumerate(proof)), checkpoint, size)
