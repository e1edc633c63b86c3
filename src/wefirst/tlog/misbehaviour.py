"""Proof that a log showed two histories: two checkpoints validly signed by its key that no
single append-only log could have produced. Pure: the caller has already checked both
signatures (and, for different sizes, tried a consistency proof)."""

from __future__ import annotations

from dataclasses import dataclass

from wefirst.tlog.checkpoint import SignedCheckpoint
from wefirst.tlog.note import b64encode


@dataclass(frozen=True)
class Misbehaviour:
    reason: str
    first: SignedCheckpoint
    second: SignedCheckpoint
    first_label: str
    second_label: str

    def render(self) -> str:
        """Both checkpoints in full, so the output itself is the evidence anyone can re-check."""
        return (
            f"MISBEHAVIOUR: {self.reason}\n"
            f"--- {self.first_label} ---\n{self.first.text}"
            f"--- {self.second_label} ---\n{self.second.text}"
            "--- end ---\n"
        )


def compare(
    first: SignedCheckpoint, second: SignedCheckpoint, first_label: str, second_label: str
) -> Misbehaviour | None:
    """Same size with different roots, or ``second`` (seen later) smaller than ``first``."""
    a, b = first.checkpoint, second.checkpoint
    if a.origin != b.origin:
        return None
    if a.size == b.size and a.root != b.root:
        reason = (
            f"the log {a.origin} signed two different roots for size {a.size} "
            f"({b64encode(a.root)} and {b64encode(b.root)}): it shows two histories"
        )
        return Misbehaviour(reason, first, second, first_label, second_label)
    if b.size < a.size:
        reason = (
            f"the log {a.origin} shrank: it signed size {a.size} earlier and size {b.size} "
            "later; an append-only log never gets smaller"
        )
        return Misbehaviour(reason, first, second, first_label, second_label)
    return None


def inconsistent(
    first: SignedCheckpoint, second: SignedCheckpoint, first_label: str, second_label: str, detail: str
) -> Misbehaviour:
    """Different sizes, but the log's own published tree cannot prove one extends the other."""
    a, b = first.checkpoint, second.checkpoint
    reason = (
        f"the log {a.origin} signed sizes {a.size} and {b.size}, and its published tree does not "
        f"prove that the larger extends the smaller: {detail}"
    )
    return Misbehaviour(reason, first, second, first_label, second_label)
