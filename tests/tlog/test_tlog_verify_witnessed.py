"""`wefirst verify … --policy`: quorums of witness cosignatures (naming who is missing), receipts
whose checkpoint is not yet witnessed, and misbehaviour — two roots for one size, a smaller size
after a larger one, a witness's evidence — printed with both signed checkpoints."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import rfc8785
from typer.testing import CliRunner

from wefirst.tlog import verify_cli
from wefirst.tlog.checkpoint import Checkpoint, parse_signed_checkpoint, sign_checkpoint
from wefirst.tlog.cosignature import CosignatureSigner
from wefirst.tlog.note import Signer
from wefirst.tlog.policy import simple_policy
from wefirst.tlog.proofs import inclusion_proof
from wefirst.tlog.reader import TileHashReader
from wefirst.tlog.receipts import bundle
from wefirst.tlog.tilestore import DirectoryTileStore

from tlog.tlog_helpers import ORIGIN, SIGNER, build_log, ledger_entries

runner = CliRunner()
KEY = SIGNER.verifier.key_string
W1 = CosignatureSigner("charity.example/w", bytes(range(10, 42)))
W2 = CosignatureSigner("watchdog.example/w", bytes(range(50, 82)))
NOW = 1_800_000_000


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(verify_cli.app, list(args))
    return result.exit_code, result.output


def cosign(checkpoint: str, *witnesses: CosignatureSigner, at: int | None = None) -> str:
    import time

    body = parse_signed_checkpoint(checkpoint).note.text
    ts = int(time.time()) if at is None else at
    return checkpoint + "".join(w.cosign(body, ts) for w in witnesses)


def policy(k: int) -> str:
    return simple_policy(KEY, [W1.verifier.key_string, W2.verifier.key_string], k)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    entries = ledger_entries()
    notes = build_log(tmp_path / "log", [entries[:5], entries[5:]])
    (tmp_path / "old.checkpoint").write_text(notes[0])
    return tmp_path


def publish(site: Path, *witnesses: CosignatureSigner) -> str:
    """Rewrite the served checkpoint with the log's own line plus these witnesses' lines."""
    cp_path = site / "log" / "checkpoint"
    body, sigs = cp_path.read_text().split("\n\n")
    own = next(line for line in sigs.splitlines() if line.startswith(f"— {ORIGIN} "))
    text = cosign(f"{body}\n\n{own}\n", *witnesses)
    cp_path.write_text(text)
    return text


def test_two_of_two_passes_with_both_and_names_the_missing_one(site: Path) -> None:
    publish(site, W1, W2)
    code, out = run("checkpoint", "--log", str(site / "log"), "--policy", policy(2))
    assert code == 0, out
    assert "witnessed: charity.example/w at " in out
    assert "quorum 2 of 2" in out
    publish(site, W1)
    code, out = run("checkpoint", "--log", str(site / "log"), "--policy", policy(2))
    assert code == 1
    assert "no cosignature from watchdog.example/w" in out
    code, out = run("checkpoint", "--log", str(site / "log"), "--policy", policy(1))
    assert code == 0, out


def test_policy_from_a_file_and_refused_next_to_a_key(site: Path) -> None:
    publish(site, W2)
    path = site / "policy.txt"
    path.write_text(policy(1))
    code, out = run("checkpoint", "--log", str(site / "log"), "--policy", str(path))
    assert code == 0, out
    code, out = run("checkpoint", "--log", str(site / "log"), "--policy", str(path), "--key", KEY)
    assert code == 2
    code, out = run("checkpoint", "--log", str(site / "log"), "--policy", "log nonsense; quorum none")
    assert code == 3


def test_a_policy_for_another_log_is_refused(site: Path) -> None:
    other = Signer("other.example/log", bytes(range(32))).verifier.key_string
    code, out = run("checkpoint", "--log", str(site / "log"), "--policy", f"log {other}; quorum none")
    assert code == 1
    assert "trusts no log" in out


def _receipt(site: Path, checkpoint: str, size: int, index: int = 3) -> Path:
    store = DirectoryTileStore(site / "log", fsync=False)
    entries = ledger_entries()
    proof = inclusion_proof(TileHashReader(store.get, size), index, size)
    receipt = bundle(
        entry=rfc8785.dumps(entries[index]),
        index=index,
        proof=proof,
        checkpoint=checkpoint,
        tree_size=size,
        commitment=None,
        log_url="/log",
    )
    path = site / "receipt.json"
    path.write_text(json.dumps(receipt))
    return path


def test_offline_receipt_needs_its_checkpoint_witnessed(site: Path) -> None:
    old = (site / "old.checkpoint").read_text()
    path = _receipt(site, cosign(old, W1), 5)
    code, out = run("receipt", str(path), "--offline", "--policy", policy(1))
    assert code == 0, out
    code, out = run("receipt", str(path), "--offline", "--policy", policy(2))
    assert code == 1
    assert "no cosignature from watchdog.example/w" in out


def test_online_receipt_is_witnessed_through_the_current_checkpoint(site: Path) -> None:
    """The receipt's checkpoint has no cosignature yet; the current one has both and extends it."""
    publish(site, W1, W2)
    path = _receipt(site, (site / "old.checkpoint").read_text(), 5)
    code, out = run("receipt", str(path), "--log", str(site / "log"), "--policy", policy(2))
    assert code == 0, out
    assert "not witnessed yet" in out
    assert "quorum 2 of 2 (charity.example/w, watchdog.example/w) met" in out
    publish(site)
    code, out = run("receipt", str(path), "--log", str(site / "log"), "--policy", policy(2))
    assert code == 1


def test_same_size_different_root_is_printed_as_misbehaviour(site: Path) -> None:
    current = (site / "log" / "checkpoint").read_text()
    cp = parse_signed_checkpoint(current).checkpoint
    forged = sign_checkpoint(Checkpoint(ORIGIN, cp.size, bytes(32)), SIGNER)
    (site / "forged.checkpoint").write_text(forged)
    code, out = run("consistency", str(site / "forged.checkpoint"), "--log", str(site / "log"), "--key", KEY)
    assert code == 1
    assert f"MISBEHAVIOUR: the log {ORIGIN} signed two different roots for size {cp.size}" in out
    assert forged in out
    assert current in out


def test_a_smaller_size_after_a_larger_one_is_misbehaviour(site: Path) -> None:
    current = (site / "log" / "checkpoint").read_text()
    cp = parse_signed_checkpoint(current).checkpoint
    bigger = sign_checkpoint(Checkpoint(ORIGIN, cp.size + 10, bytes(32)), SIGNER)
    (site / "bigger.checkpoint").write_text(bigger)
    code, out = run("consistency", str(site / "bigger.checkpoint"), "--log", str(site / "log"), "--key", KEY)
    assert code == 1
    assert "shrank" in out
    assert bigger in out
    assert current in out


def _evidence(site: Path, records: list[dict[str, object]]) -> Path:
    path = site / "evidence.json"
    path.write_text(json.dumps({"evidence": records}))
    return path


def test_evidence_of_a_fork_proves_misbehaviour(site: Path) -> None:
    current = (site / "log" / "checkpoint").read_text()
    cp = parse_signed_checkpoint(current).checkpoint
    forged = sign_checkpoint(Checkpoint(ORIGIN, cp.size, bytes(32)), SIGNER)
    impostor = sign_checkpoint(Checkpoint(ORIGIN, cp.size, bytes(32)), Signer(ORIGIN, bytes(range(3, 35))))
    path = _evidence(
        site,
        [
            {"id": 1, "cosigned_checkpoint": current, "submitted_checkpoint": impostor},
            {"id": 2, "cosigned_checkpoint": current, "submitted_checkpoint": forged},
        ],
    )
    code, out = run("evidence", str(path), "--key", KEY)
    assert code == 1
    assert "record 1: proves nothing" in out
    assert "1 of 2 evidence records prove" in out
    assert forged in out


def test_evidence_with_sizes_apart_is_decided_against_the_log_tree(site: Path) -> None:
    old = (site / "old.checkpoint").read_text()
    current = (site / "log" / "checkpoint").read_text()
    cp = parse_signed_checkpoint(current).checkpoint
    honest = _evidence(site, [{"id": 1, "cosigned_checkpoint": old, "submitted_checkpoint": current}])
    code, out = run("evidence", str(honest), "--key", KEY)
    assert code == 0, out
    assert "pass --log" in out
    code, out = run("evidence", str(honest), "--key", KEY, "--log", str(site / "log"))
    assert code == 0, out
    assert "one history" in out
    forged = sign_checkpoint(Checkpoint(ORIGIN, cp.size, bytes(32)), SIGNER)
    fork = _evidence(site, [{"id": 1, "cosigned_checkpoint": old, "submitted_checkpoint": forged}])
    code, out = run("evidence", str(fork), "--key", KEY, "--log", str(site / "log"))
    assert code == 1
    assert "does not prove" in out


def test_cosignatures_older_than_the_policy_max_age_are_reported(site: Path) -> None:
    """They still count (the log may simply be idle), but the reader is told that witness may be
    cut off from the log; within max-age nothing is said."""
    import time

    cp_path = site / "log" / "checkpoint"
    body, sigs = cp_path.read_text().split("\n\n")
    own = next(line for line in sigs.splitlines() if line.startswith(f"— {ORIGIN} "))
    now = int(time.time())
    text = cosign(f"{body}\n\n{own}\n", W1, at=now - 3 * 86400)
    cp_path.write_text(cosign(text, W2, at=now - 60))
    aged = simple_policy(KEY, [W1.verifier.key_string, W2.verifier.key_string], 2, max_age=86400)
    code, out = run("checkpoint", "--log", str(site / "log"), "--policy", aged)
    assert code == 0, out
    warned = r"warning: the cosignature of charity\.example/w is 2592\d\d s old \(policy max-age 86400 s\)"
    assert re.search(warned, out), out
    assert "cosignature of watchdog.example/w is" not in out
    code, out = run("checkpoint", "--log", str(site / "log"), "--policy", policy(2))
    assert code == 0, out
    assert "warning" not in out
