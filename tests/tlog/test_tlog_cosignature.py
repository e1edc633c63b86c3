"""C2SP tlog-cosignature (`cosignature/v1`): the golden cosigned checkpoint reproduced byte for
byte, key IDs as the spec computes them, and the signature checked by OpenSSL, an Ed25519
implementation that shares no code with ours."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from wefirst.tlog.checkpoint import parse_signed_checkpoint
from wefirst.tlog.cosignature import (
    CosignatureSigner,
    parse_cosigner_key,
    parse_cosigner_signer_key,
    signed_message,
)
from wefirst.tlog.errors import LogFormatError, VerificationError
from wefirst.tlog.note import NoteSignature, Signer, parse_note, parse_verifier_key

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "tlog"
VECTOR = json.loads((ASSETS / "cosigned.json").read_text())


def golden_witness() -> CosignatureSigner:
    return CosignatureSigner(VECTOR["witness_name"], bytes.fromhex(VECTOR["witness_seed_hex"]))


def test_golden_cosigned_checkpoint_is_reproduced_byte_for_byte() -> None:
    checkpoint = (ASSETS / VECTOR["checkpoint_file"]).read_text()
    body = parse_signed_checkpoint(checkpoint).note.text
    line = golden_witness().cosign(body, VECTOR["timestamp"])
    assert (checkpoint + line).encode() == (ASSETS / VECTOR["cosigned_checkpoint_file"]).read_bytes()
    assert signed_message(body, VECTOR["timestamp"]).decode() == VECTOR["signed_message"]


def test_golden_keys_follow_the_spec() -> None:
    w = golden_witness()
    assert w.verifier.key_string == VECTOR["witness_key"]
    assert w.private_key_string == VECTOR["witness_private_key"]
    # SHA-256(name || "\n" || 0x04 || public key)[:4], computed here without our code.
    material = VECTOR["witness_name"].encode() + b"\n\x04" + w.verifier.public_key
    expected = hashlib.sha256(material).digest()[:4]
    assert w.verifier.key_id == expected == bytes.fromhex(VECTOR["witness_key_id_hex"])
    vkey_material = base64.b64decode(VECTOR["witness_key"].split("+", 2)[2])
    assert vkey_material == b"\x04" + w.verifier.public_key
    assert parse_cosigner_key(VECTOR["witness_key"]) == w.verifier
    assert parse_cosigner_signer_key(VECTOR["witness_private_key"]).verifier == w.verifier


def test_golden_line_layout_is_key_id_then_big_endian_timestamp_then_signature() -> None:
    note = parse_note((ASSETS / VECTOR["cosigned_checkpoint_file"]).read_bytes())
    sig = note.signatures[1]
    assert sig.name == VECTOR["witness_name"]
    assert sig.key_id.hex() == VECTOR["witness_key_id_hex"]
    assert int.from_bytes(sig.signature[:8], "big") == VECTOR["timestamp"] == 1767225600
    assert len(sig.signature) == 8 + 64
    assert golden_witness().verifier.verify(note.text, sig) == VECTOR["timestamp"]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_openssl_verifies_the_golden_cosignature(tmp_path: Path) -> None:
    note = parse_note((ASSETS / VECTOR["cosigned_checkpoint_file"]).read_bytes())
    pub = base64.b64decode(VECTOR["witness_key"].split("+", 2)[2])[1:]
    der = bytes.fromhex("302a300506032b6570032100") + pub
    (tmp_path / "pub.der").write_bytes(der)
    (tmp_path / "msg").write_bytes(VECTOR["signed_message"].encode())
    (tmp_path / "sig").write_bytes(note.signatures[1].signature[8:])
    subprocess.run(
        ["openssl", "pkey", "-pubin", "-inform", "DER", "-in", "pub.der", "-out", "pub.pem"],
        cwd=tmp_path,
        check=True,
    )
    verify = [
        "openssl",
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        "pub.pem",
        "-rawin",
        "-in",
        "msg",
        "-sigfile",
        "sig",
    ]
    ok = subprocess.run(
        verify,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert "Signature Verified Successfully" in ok.stdout


def test_a_changed_timestamp_or_body_does_not_verify() -> None:
    w = golden_witness()
    body = "a.example/log\n5\n" + base64.b64encode(bytes(32)).decode() + "\n"
    note = parse_note(body + "\n" + w.cosign(body, 1000))
    sig = note.signatures[0]
    later = NoteSignature(sig.name, sig.key_id, (1001).to_bytes(8, "big") + sig.signature[8:])
    with pytest.raises(VerificationError):
        w.verifier.verify(body, later)
    with pytest.raises(VerificationError):
        w.verifier.verify(body.replace("\n5\n", "\n6\n"), sig)
    with pytest.raises(VerificationError):
        w.verifier.verify(body, NoteSignature(sig.name, sig.key_id, sig.signature[:40]))


def test_the_same_ed25519_key_as_a_log_key_has_another_key_id() -> None:
    """The type byte separates checkpoint signatures (0x01) from cosignatures (0x04)."""
    seed = bytes.fromhex(VECTOR["witness_seed_hex"])
    as_log = Signer(VECTOR["witness_name"], seed)
    assert as_log.verifier.public_key == golden_witness().verifier.public_key
    assert as_log.key_id != golden_witness().verifier.key_id


@pytest.mark.parametrize(
    "key",
    [
        "log.example/golden+15cad01a+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",  # a 0x01 log key
        VECTOR["witness_key"].replace("+51ee31f8+", "+51ee31f9+"),  # wrong key id
        "witness.example/golden+51ee31f8",
        "with space+51ee31f8+BCmsuuFBvMrwsi4alNNNC8c2HlJtC/4SyJeUvJMilm3X",
        "witness.example/golden+51ee31f8+BCmsuuFBvMrwsi4alNNNC8c2HlJtC/4SyJeUvJMilm3",
    ],
)
def test_malformed_witness_keys_are_format_errors(key: str) -> None:
    with pytest.raises(LogFormatError):
        parse_cosigner_key(key)


def test_a_witness_key_is_not_a_log_key() -> None:
    with pytest.raises(LogFormatError):
        parse_verifier_key(VECTOR["witness_key"])


def test_timestamps_are_bounded() -> None:
    with pytest.raises(LogFormatError):
        signed_message("a\n1\nb\n", 1 << 63)
    with pytest.raises(LogFormatError):
        signed_message("a\n1\nb\n", -1)


def test_docs_print_the_golden_vector_unchanged() -> None:
    """docs/tlog.md shows the same bytes the test reproduces, so the published vector cannot drift."""
    doc = (ASSETS.parents[2] / "docs" / "tlog.md").read_text()
    assert (ASSETS / VECTOR["cosigned_checkpoint_file"]).read_text() in doc
    assert VECTOR["signed_message"] in doc
    assert VECTOR["witness_key"] in doc
