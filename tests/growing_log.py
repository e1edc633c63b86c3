"""A small log grown in memory with the real integration code: signed checkpoints at any size,
consistency proofs between sizes, and forged branches for fork tests."""

from __future__ import annotations

from wefirst.tlog.checkpoint import Checkpoint, sign_checkpoint
from wefirst.tlog.integrate import integrate
from wefirst.tlog.note import Signer
from wefirst.tlog.proofs import consistency_proof
from wefirst.tlog.reader import TileHashReader
from wefirst.tlog.tilestore import MemoryTileStore
from wefirst.tlog.witness_protocol import build_request

LOG_ORIGIN = "witness-test.example/log"
LOG_SIGNER = Signer(LOG_ORIGIN, bytes(range(100, 132)))


class GrowingLog:
    def __init__(self, signer: Signer = LOG_SIGNER, prefix: str = "entry") -> None:
        self.signer = signer
        self.prefix = prefix
        self.store = MemoryTileStore()
        self.size = 0
        self.roots: dict[int, bytes] = {}
        self.roots[0] = integrate(self.store, 0, []).root

    def grow(self, n: int) -> int:
        entries = [f"{self.prefix}-{self.size + i}".encode() for i in range(n)]
        result = integrate(self.store, self.size, entries)
        self.size = result.size
        self.roots[self.size] = result.root
        return self.size

    def checkpoint(self, size: int | None = None) -> str:
        size = self.size if size is None else size
        return sign_checkpoint(Checkpoint(self.signer.name, size, self.roots[size]), self.signer)

    def proof(self, old: int, new: int | None = None) -> list[bytes]:
        new = self.size if new is None else new
        return consistency_proof(TileHashReader(self.store.get, new), old, new)

    def request(self, old: int, new: int | None = None) -> bytes:
        new = self.size if new is None else new
        return build_request(old, self.proof(old, new) if old else [], self.checkpoint(new))


def forged_checkpoint(size: int, root: bytes, signer: Signer = LOG_SIGNER) -> str:
    """A checkpoint made with the log's own key for a root of our choosing: what a log that
    shows two histories would sign."""
    return sign_checkpoint(Checkpoint(signer.name, size, root), signer)
