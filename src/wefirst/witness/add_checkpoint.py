"""`add-checkpoint` exactly as C2SP tlog-witness says, in its order of checks:

1. unknown origin → 404;
2. no signature from the log's configured key verifies → 403;
3. old size > checkpoint size → 400 (and any malformed body → 400);
4. old size ≠ the size this witness last cosigned (0 if never) → 409, body ``<size>\\n`` as
   ``text/x.tlog.size``;
5. the consistency proof from the stored tree to the new one does not verify → 422;
6. old size = checkpoint size but another root → 409.

Then the new size and root are stored and the cosignature is made *inside* the same write
transaction, so timestamps grow with sizes even under concurrent requests and a cosignature
never leaves the witness for a state it did not durably record.

A validly signed checkpoint that contradicts what this witness cosigned (same size, other root;
or a proof that fails) is kept as evidence, both checkpoints in full, for anyone to read."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from wefirst.tlog.checkpoint import open_checkpoint, parse_signed_checkpoint
from wefirst.tlog.cosignature import CosignatureSigner
from wefirst.tlog.errors import LogFormatError, VerificationError
from wefirst.tlog.hashing import EMPTY_HASH
from wefirst.tlog.note import Verifier, b64encode
from wefirst.tlog.proofs import verify_consistency
from wefirst.tlog.witness_protocol import SIZE_CONTENT_TYPE, parse_request
from wefirst.witness.state import LogState, WitnessState

SAME_SIZE_OTHER_ROOT = "same-size-different-root"
INCONSISTENT_PROOF = "inconsistent-proof"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str

    @classmethod
    def problem(cls, status: int, detail: str) -> Answer:
        return cls(status, detail.encode() + b"\n", "text/plain; charset=utf-8")


class Witness:
    def __init__(
        self,
        signer: CosignatureSigner,
        logs: Mapping[str, Verifier],
        state: WitnessState,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.signer = signer
        self.logs = dict(logs)
        self.state = state
        self.clock = clock

    def add_checkpoint(self, body: bytes) -> Answer:
        try:
            request = parse_request(body)
            signed = parse_signed_checkpoint(request.checkpoint)
        except LogFormatError as e:
            return Answer.problem(400, f"malformed add-checkpoint request: {e}")
        cp = signed.checkpoint
        verifier = self.logs.get(cp.origin)
        if verifier is None:
            return Answer.problem(404, f"this witness does not follow the log {cp.origin!r}")
        try:
            open_checkpoint(request.checkpoint, verifier)
        except (VerificationError, LogFormatError) as e:
            return Answer.problem(403, f"checkpoint signature: {e}")
        if request.old_size > cp.size:
            return Answer.problem(
                400, f"old size {request.old_size} is larger than the checkpoint size {cp.size}"
            )
        proof_text = "".join(b64encode(h) + "\n" for h in request.proof)
        with self.state.transaction() as tx:
            known = tx.get(cp.origin)
            known_size = known.size if known else 0
            now = int(self.clock())
            if known is not None and cp.size == known.size and cp.root != known.root:
                # Two signed roots for one size: proof that the log showed two histories.
                tx.record_evidence(
                    cp.origin, SAME_SIZE_OTHER_ROOT, known.checkpoint, request.checkpoint,
                    request.old_size, proof_text, now,
                )  # fmt: skip
                return _conflict(known_size)
            if request.old_size != known_size:
                return _conflict(known_size)
            if known is not None and request.old_size > 0:
                try:
                    verify_consistency(known.size, cp.size, known.root, cp.root, request.proof)
                except VerificationError as e:
                    tx.record_evidence(
                        cp.origin, INCONSISTENT_PROOF, known.checkpoint, request.checkpoint,
                        request.old_size, proof_text, now,
                    )  # fmt: skip
                    return Answer.problem(422, f"consistency proof from size {known.size}: {e}")
            elif known is None and cp.size == 0 and cp.root != EMPTY_HASH:
                return Answer.problem(422, "an empty tree's root must be SHA-256 of the empty string")
            # Timestamps never go backwards for a log, even if the clock does.
            timestamp = max(now, known.cosigned_at if known else 0)
            line = self.signer.cosign(signed.note.text, timestamp)
            tx.put(LogState(cp.origin, cp.size, cp.root, request.checkpoint, timestamp))
        return Answer(200, line.encode(), "text/plain; charset=utf-8")


def _conflict(size: int) -> Answer:
    return Answer(409, f"{size}\n".encode(), SIZE_CONTENT_TYPE)
