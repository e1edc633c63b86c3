"""What a verifier trusts, and how it extends that trust: a pinned log key or a trust policy;
witness quorums; and key rotations, followed through the new log's signed handover.

Used by `wefirst verify`; reports go to the terminal (typer), failures are VerificationError."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import typer

from wefirst.tlog.checkpoint import SignedCheckpoint, open_checkpoint, parse_signed_checkpoint
from wefirst.tlog.errors import LogFormatError, VerificationError
from wefirst.tlog.handover import verify_handover
from wefirst.tlog.hashing import leaf_hash
from wefirst.tlog.note import Verifier
from wefirst.tlog.policy import Policy, WitnessReport, parse_policy, require_quorum
from wefirst.tlog.proofs import inclusion_proof, verify_inclusion
from wefirst.tlog.reader import TileHashReader, read_tile
from wefirst.tlog.source import LogSource
from wefirst.tlog.tiles import ENTRIES, decode_bundle, tile_for

MAX_CHAIN = 16  # key rotations followed in a row


class NotRotated(VerificationError):
    """The log does not begin with a handover: there is no rotation to follow."""


@dataclass(frozen=True)
class Trust:
    """One log key, or a policy (log keys and witnesses)."""

    key: Verifier | None
    policy: Policy | None
    followed: dict[str, Verifier] = field(default_factory=dict)  # keys learnt from handovers

    def trusted(self, origin: str) -> Verifier | None:
        if origin in self.followed:
            return self.followed[origin]
        if self.policy is not None:
            return next((lg.verifier for lg in self.policy.logs if lg.verifier.name == origin), None)
        assert self.key is not None
        return self.key if self.key.name == origin else None

    def verifier_for(self, origin: str) -> Verifier:
        found = self.trusted(origin)
        if found is not None:
            return found
        if self.policy is not None:
            self.policy.log_for(origin)  # raises, naming the logs the policy trusts
        assert self.key is not None
        raise VerificationError(
            f"checkpoint origin {origin!r} differs from the log key name {self.key.name!r}"
        )

    def open(self, data: bytes | str, source: LogSource | None = None) -> SignedCheckpoint:
        """Parse, pick the trusted key for the checkpoint's origin, check the log's signature.
        For a log that is not trusted directly but continues a trusted one after a key rotation,
        the key comes from its handover (entry 0), read from ``source``."""
        origin = parse_signed_checkpoint(data).checkpoint.origin
        verifier = self.trusted(origin)
        if verifier is None and source is not None:
            try:
                verifier = self.follow_rotation(data, source, 0)
            except NotRotated:
                verifier = None
            else:
                self.followed[origin] = verifier
        return open_checkpoint(data, verifier or self.verifier_for(origin))

    def follow_rotation(self, data: bytes | str, source: LogSource, depth: int) -> Verifier:
        """The key of the log at ``source`` (whose checkpoint is ``data``), from its entry 0: a
        handover signed by the previous log's key, which must itself be trusted or follow from
        a trusted one. The previous log must have ended exactly where the handover says."""
        signed = parse_signed_checkpoint(data)
        cp = signed.checkpoint
        if depth >= MAX_CHAIN or cp.size == 0:
            raise NotRotated(f"no trusted key for the log {cp.origin!r}")
        first = read_tile(source.fetch, tile_for(ENTRIES, 0, cp.size))
        entry0 = decode_bundle(first)[0]
        try:
            previous_origin = json.loads(entry0).get("previous_origin")
        except (ValueError, AttributeError):
            previous_origin = None
        if not isinstance(previous_origin, str):
            raise NotRotated(
                f"no trusted key for the log {cp.origin!r}, and its entry 0 is not a handover "
                "from another log"
            )
        previous_key = self.trusted(previous_origin)
        previous_source = _source_of(source, previous_origin)
        try:
            if previous_source is not None:
                previous_current = previous_source.require("checkpoint")
                if previous_key is None:
                    previous_key = self.follow_rotation(previous_current, previous_source, depth + 1)
            if previous_key is None:
                raise VerificationError(
                    f"no trusted key for {cp.origin!r} nor for the log before it, {previous_origin!r}"
                )
            handover = verify_handover(entry0, previous_key)
            if handover.next_key.name != cp.origin:
                raise VerificationError(
                    f"the handover names {handover.next_key.name!r}, not this log {cp.origin!r}"
                )
            opened = open_checkpoint(data, handover.next_key)
            proof = inclusion_proof(TileHashReader(source.fetch, cp.size), 0, cp.size)
            verify_inclusion(leaf_hash(entry0), 0, cp.size, proof, opened.checkpoint.root)
            if previous_source is not None:
                ended = open_checkpoint(previous_source.require("checkpoint"), previous_key).checkpoint
                final = handover.previous.checkpoint
                if (ended.size, ended.root) != (final.size, final.root):
                    raise VerificationError(
                        f"the log {previous_origin} did not end where its handover says (size {final.size}): "
                        f"it now serves size {ended.size}; the old key kept signing after the handover"
                    )
        finally:
            if previous_source is not None:
                previous_source.close()
        typer.echo(
            f"key rotation followed: {previous_origin} (size {handover.previous.checkpoint.size}) "
            f"handed over to {cp.origin} with key {handover.next_key.key_string}"
        )
        return handover.next_key

    def witnessed(self, signed: SignedCheckpoint) -> WitnessReport | None:
        """With a policy: the quorum of valid cosignatures, or VerificationError naming who is
        missing. Without one: None (nothing is checked, and the output says so)."""
        if self.policy is None:
            return None
        report = require_quorum(self.policy, signed.note, int(time.time()))
        policy = self.policy
        seen = ", ".join(f"{name} at {_when(ts)}" for name, ts in report.valid.items())
        typer.echo(f"witnessed: {seen or 'no cosignature needed'}; quorum {report.quorum} met")
        for name in report.stale:
            age = int(time.time()) - report.valid[name]
            typer.echo(
                f"warning: the cosignature of {name} is {age} s old (policy max-age {policy.max_age} s): "
                "that witness may be cut off from the log",
                err=True,
            )
        return report


def _source_of(source: LogSource, origin: str) -> LogSource | None:
    """Where another log of the same deployment is served: its origin is its URL without the
    scheme (docs/tlog.md). Only for logs read over HTTP(S)."""
    if not source.is_http:
        return None
    scheme = urlsplit(source.location).scheme
    return LogSource(f"{scheme}://{origin}")


def successor_of(source: LogSource, size: int) -> dict[str, str] | None:
    """The ``log_successor`` entry that ends a rotated log, if its last entry is one."""
    if size == 0:
        return None
    last = read_tile(source.fetch, tile_for(ENTRIES, (size - 1) // 256, size))
    try:
        entry = json.loads(decode_bundle(last)[-1])
    except ValueError:
        return None
    if isinstance(entry, dict) and entry.get("kind") == "log_successor":
        return {k: str(v) for k, v in entry.items()}
    return None


def _when(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_policy(value: str) -> Policy:
    path = Path(value)
    if "\n" not in value and ";" not in value and path.is_file():
        try:
            return parse_policy(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise LogFormatError(f"{path} is not a UTF-8 text file") from None
    return parse_policy(value)
