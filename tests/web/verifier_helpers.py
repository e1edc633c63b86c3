"""An independent reference for the browser verifier's tests: RFC 6962 section 2.1 written out
literally, a signing log that makes checkpoints and receipts from it, and the golden vector of
TLOG.md."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

GOLDEN_KEY = "log.example/golden+15cad01a+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"
GOLDEN_CHECKPOINT = (
    "log.example/golden\n3\nLP73YnWX4AtWSXV3Stco7yEHBnWfym1kE4xt/By/LNo=\n\n"
    "— log.example/golden FcrQGoetQqnl1+mLeKbS2Oe4z6/WKntFpr7EcWy/kyWQlsF/wS9COHFUs3xcORN2qO6iBeI"
    "aMkoG6xD/ZcuopVI7PQA=\n"
)
GOLDEN_ENTRIES = [b'{"n":0}', b'{"n":1}', b'{"n":2}']


# --- an independent reference: RFC 6962 section 2.1 written out literally ---------------------
def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return _h(b"")
    if len(leaves) == 1:
        return _h(b"\x00" + leaves[0])
    k = _k(len(leaves))
    return _h(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) <= 1:
        return []
    k = _k(len(leaves))
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


class Log:
    def __init__(self, name: str, seed: bytes) -> None:
        self.name = name
        self.key = Ed25519PrivateKey.from_private_bytes(seed)
        pub = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = _h(name.encode() + b"\n\x01" + pub)[:4]
        material = base64.b64encode(bytes([1]) + pub).decode()
        self.verifier = f"{name}+{self.key_id.hex()}+{material}"

    def checkpoint(self, leaves: list[bytes]) -> str:
        body = f"{self.name}\n{len(leaves)}\n{base64.b64encode(mth(leaves)).decode()}\n"
        sig = base64.b64encode(self.key_id + self.key.sign(body.encode())).decode()
        return body + f"\n— {self.name} {sig}\n"

    def receipt(self, leaves: list[bytes], index: int) -> dict[str, Any]:
        return {
            "index": index,
            "tree_size": len(leaves),
            "entry": leaves[index].decode(),
            "inclusion_proof": [base64.b64encode(h).decode() for h in path(index, leaves)],
            "checkpoint": self.checkpoint(leaves),
        }


GOLDEN = Log("log.example/golden", bytes(range(32)))
