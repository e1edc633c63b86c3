"""Key rotation: a log never changes key; a new log (new origin, new key) takes over, and the two
point at each other in entries (docs/tlog.md, "Key rotation").

- The old log's last entry, ``log_successor``, names the next origin and key.
- The new log's entry 0, ``log_handover``, carries the old log's final checkpoint and a
  statement signed by the **old** key binding that checkpoint to the new key::

      wefirst/log-handover/v1
      <old origin>
      <old final size>
      <old final root, base64>
      <new verifier key>

  (a signed note: its first line has spaces, so it can never be mistaken for a checkpoint).

A verifier that trusts the old key follows the chain: the statement verifies with the old key,
the old final checkpoint verifies with the old key, and the new log's checkpoints verify with
the key the statement names. Pure: no I/O, no clock."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from wefirst.tlog.checkpoint import SignedCheckpoint, open_checkpoint
from wefirst.tlog.errors import LogFormatError, VerificationError
from wefirst.tlog.note import Signer, Verifier, b64encode, open_note, parse_verifier_key, sign_note

STATEMENT_HEADER = "wefirst/log-handover/v1"


def successor_entry(next_key: Verifier, at: str) -> dict[str, Any]:
    return {
        "v": 1,
        "kind": "log_successor",
        "next_origin": next_key.name,
        "next_key": next_key.key_string,
        "at": at,
    }


def statement_text(previous: SignedCheckpoint, next_key: Verifier) -> str:
    cp = previous.checkpoint
    return f"{STATEMENT_HEADER}\n{cp.origin}\n{cp.size}\n{b64encode(cp.root)}\n{next_key.key_string}\n"


def handover_entry(old: Signer, previous: SignedCheckpoint, next_key: Verifier, at: str) -> dict[str, Any]:
    """Entry 0 of the new log, signed by the old key."""
    if previous.checkpoint.origin != old.name:
        raise LogFormatError("the previous checkpoint is not the old key's log")
    return {
        "v": 1,
        "kind": "log_handover",
        "previous_origin": old.name,
        "previous_key": old.verifier.key_string,
        "previous_checkpoint": previous.text,
        "next_origin": next_key.name,
        "next_key": next_key.key_string,
        "statement": sign_note(statement_text(previous, next_key), [old]),
        "at": at,
    }


@dataclass(frozen=True)
class Handover:
    previous_key: Verifier
    previous: SignedCheckpoint
    next_key: Verifier


def _field(obj: dict[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str):
        raise LogFormatError(f"log_handover entry: {name!r} is missing or not a string")
    return value


def verify_handover(entry: bytes, trusted_previous: Verifier) -> Handover:
    """Check an entry 0 against the key the verifier already trusts for the previous log;
    returns the new log's key. Raises LogFormatError / VerificationError."""
    try:
        obj = json.loads(entry)
    except ValueError:
        raise LogFormatError("log entry 0 is not JSON") from None
    if not isinstance(obj, dict) or obj.get("kind") != "log_handover":
        raise VerificationError("entry 0 of this log is not a log_handover: it does not continue another log")
    previous_key = parse_verifier_key(_field(obj, "previous_key"))
    if previous_key != trusted_previous:
        raise VerificationError(
            f"the handover comes from key {previous_key.key_string}, "
            f"not the trusted {trusted_previous.key_string}"
        )
    previous = open_checkpoint(_field(obj, "previous_checkpoint"), previous_key)
    next_key = parse_verifier_key(_field(obj, "next_key"))
    if _field(obj, "next_origin") != next_key.name or _field(obj, "previous_origin") != previous_key.name:
        raise VerificationError("the handover's origins do not match its keys")
    statement = open_note(_field(obj, "statement"), [previous_key])
    if statement.text != statement_text(previous, next_key):
        raise VerificationError("the handover statement does not name this final checkpoint and this new key")
    return Handover(previous_key, previous, next_key)
