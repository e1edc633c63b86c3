"""The golden vector of TLOG.md, reproduced byte for byte from the seed and the entries."""

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from wefirst.tlog.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from wefirst.tlog.hashing import leaf_hash
from wefirst.tlog.integrate import integrate
from wefirst.tlog.note import Signer, parse_verifier_key
from wefirst.tlog.proofs import inclusion_proof, verify_inclusion
from wefirst.tlog.reader import TileHashReader
from wefirst.tlog.tilestore import MemoryTileStore

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "tlog"


@pytest.fixture
def golden() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ASSETS / "golden.json").read_text())
    return loaded


def test_golden_vector_is_reproduced_exactly(golden: dict[str, Any]) -> None:
    seed = bytes.fromhex(str(golden["seed_hex"]))
    assert seed == bytes(range(32))
    signer = Signer(str(golden["origin"]), seed)
    assert signer.verifier.key_string == golden["verifier_key"]
    # The signer wraps the very key TLOG.md names: same public key as cryptography's own.
    pub = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    assert signer.verifier.public_key == pub

    store = MemoryTileStore()
    entries = [e.encode() for e in golden["entries"]]
    result = integrate(store, 0, entries)
    expected_tiles = {k: bytes.fromhex(v) for k, v in golden["tiles"].items()}
    assert store.items == expected_tiles

    text = sign_checkpoint(Checkpoint(signer.name, result.size, result.root), signer)
    expected = (ASSETS / str(golden["checkpoint_file"])).read_bytes()
    assert text.encode("utf-8") == expected


def test_golden_checkpoint_verifies_with_published_key_and_proves_entries(
    golden: dict[str, Any],
) -> None:
    verifier = parse_verifier_key(str(golden["verifier_key"]))
    signed = open_checkpoint((ASSETS / "golden.checkpoint").read_bytes(), verifier)
    assert signed.checkpoint.size == 3
    store = MemoryTileStore()
    store.items.update({k: bytes.fromhex(v) for k, v in golden["tiles"].items()})
    reader = TileHashReader(store.get, 3)
    for i, e in enumerate(golden["entries"]):
        proof = inclusion_proof(reader, i, 3)
        verify_inclusion(leaf_hash(e.encode()), i, 3, proof, signed.checkpoint.root)
