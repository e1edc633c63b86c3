"""The add-checkpoint wire format: requests round-trip, 409 size bodies and 200 answers parse
strictly, and every malformed input is a LogFormatError (never a raw ValueError)."""

from __future__ import annotations

import pytest

from wefirst.tlog.checkpoint import parse_signed_checkpoint
from wefirst.tlog.cosignature import CosignatureSigner
from wefirst.tlog.errors import LogFormatError
from wefirst.tlog.witness_protocol import build_request, parse_request, parse_response, parse_size_body

from growing_log import GrowingLog


def test_request_round_trips_with_the_spec_layout() -> None:
    log = GrowingLog()
    log.grow(5)
    log.grow(9)
    body = log.request(5)
    head = body.decode().split("\n\n", 1)[0].split("\n")
    assert head[0] == "old 5"
    assert len(head) - 1 == len(log.proof(5))
    parsed = parse_request(body)
    assert (parsed.old_size, list(parsed.proof), parsed.checkpoint) == (5, log.proof(5), log.checkpoint())


def test_request_from_zero_has_no_proof_lines() -> None:
    log = GrowingLog()
    log.grow(3)
    assert log.request(0).startswith(b"old 0\n\n" + log.signer.name.encode() + b"\n3\n")


def test_build_refuses_too_long_proofs() -> None:
    with pytest.raises(LogFormatError):
        build_request(1, [bytes(32)] * 64, "x\n")


@pytest.mark.parametrize("body", [b"10\n", b"10", b"010\n", b"-1\n", b"ten\n", b"\xff\n", b"1" * 30 + b"\n"])
def test_409_bodies(body: bytes) -> None:
    if body == b"10\n":
        assert parse_size_body(body) == 10
    else:
        with pytest.raises(LogFormatError):
            parse_size_body(body)


def test_200_answers_parse_as_signature_lines() -> None:
    log = GrowingLog()
    log.grow(2)
    text = parse_signed_checkpoint(log.checkpoint()).note.text
    w = CosignatureSigner("w.example/w", bytes(range(32)))
    (sig,) = parse_response(w.cosign(text, 7).encode(), text)
    assert w.verifier.verify(text, sig) == 7
    for junk in (b"", b"hello\n", w.cosign(text, 7).encode()[:-1], b"\n\n" + w.cosign(text, 7).encode()):
        with pytest.raises(LogFormatError):
            parse_response(junk, text)
