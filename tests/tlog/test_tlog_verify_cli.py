"""`wefirst verify` and `wefirst log keygen` against real directories and a real loopback HTTP
server serving the same files; each failure maps to its documented exit code."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import rfc8785
from typer.testing import CliRunner

from wefirst.tlog import cli as log_cli
from wefirst.tlog import verify_cli
from wefirst.tlog.hashing import leaf_hash
from wefirst.tlog.note import parse_signer_key, parse_verifier_key
from wefirst.tlog.proofs import inclusion_proof
from wefirst.tlog.reader import TileHashReader
from wefirst.tlog.receipts import bundle, commitment_of
from wefirst.tlog.tilestore import DirectoryTileStore

from tlog.tlog_helpers import (
    ORIGIN,
    SIGNER,
    build_log,
    expected_balance,
    ledger_entries,
    write_api,
)

runner = CliRunner()
KEY = SIGNER.verifier.key_string


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(verify_cli.app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A served tree: <site>/log is the log, <site>/v1/... the balances the API publishes."""
    entries = ledger_entries()
    notes = build_log(tmp_path / "log", [entries[:5], entries[5:300], entries[300:]])
    (tmp_path / "old.checkpoint").write_text(notes[0])
    (tmp_path / "middle.checkpoint").write_text(notes[1])
    write_api(tmp_path, {f"cmp_{c:026d}": expected_balance(f"cmp_{c:026d}") for c in range(3)})
    return tmp_path


@pytest.fixture
def server(site: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))

    class Quiet(http.server.ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass

    httpd = Quiet(("127.0.0.1", 0), handler)
    httpd.RequestHandlerClass.log_message = lambda *a: None  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_keygen_writes_0600_key_and_prints_verifier(tmp_path: Path) -> None:
    out = tmp_path / "signer.key"
    result = runner.invoke(log_cli.app, ["keygen", "--name", "demo.example/log", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o600
    verifier = parse_verifier_key(result.output.strip())
    assert parse_signer_key(out.read_text()).verifier == verifier
    again = runner.invoke(log_cli.app, ["keygen", "--name", "demo.example/log", "--out", str(out)])
    assert again.exit_code == 1
    assert "refusing" in again.output
    bad = runner.invoke(log_cli.app, ["keygen", "--name", "bad name", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 3


def test_checkpoint_and_consistency_on_a_directory(site: Path) -> None:
    code, out = run("checkpoint", "--log", str(site / "log"), "--key", KEY)
    assert code == 0, out
    assert f"size {len(ledger_entries())}" in out
    code, out = run("consistency", str(site / "old.checkpoint"), "--log", str(site / "log"), "--key", KEY)
    assert code == 0, out
    assert "grew from 5 to" in out


def test_checkpoint_without_key_trusts_published_key_with_warning(site: Path) -> None:
    code, out = run("checkpoint", "--log", str(site / "log"))
    assert code == 0
    assert "warning: trusting the key the log itself publishes" in out


def test_audit_over_http_matches_balances(server: str) -> None:
    code, out = run("audit", "--log", f"{server}/log", "--key", KEY)
    assert code == 0, out
    assert "balances of 3 campaigns match the log" in out


def test_audit_names_the_campaign_and_figures_on_mismatch(site: Path, server: str) -> None:
    cid = f"cmp_{1:026d}"
    body = expected_balance(cid)
    body["pledged"]["money"]["amount"] += 150  # the API hides a reversal
    write_api(site, {cid: body})
    code, out = run("audit", "--log", f"{server}/log", "--key", KEY)
    assert code == 1
    assert f"MISMATCH {cid}: pledged.money.amount: log 17850, API 18000" in out
    assert "1 of 3 campaigns differ" in out


def test_audit_detects_a_changed_entry(site: Path) -> None:
    bundle_path = site / "log" / "tile" / "entries" / "000"
    data = bundle_path.read_bytes()
    bundle_path.write_bytes(data.replace(b'"amount":150', b'"amount":151', 1))
    code, out = run("audit", "--log", str(site / "log"), "--key", KEY, "--no-balances")
    assert code == 1
    assert "tile/0/000 differs from the hashes recomputed from the entries" in out


def test_audit_detects_a_forged_tile_set_that_does_not_match_the_signed_root(site: Path) -> None:
    # Rewrite the whole log consistently with different entries but keep the old checkpoint:
    # every tile matches its bundle, only the signed root catches it.
    entries = ledger_entries()
    entries[7]["units"] = 3
    checkpoint = (site / "log" / "checkpoint").read_bytes()
    build_log(site / "forged", [entries])
    (site / "forged" / "checkpoint").write_bytes(checkpoint)
    code, out = run("audit", "--log", str(site / "forged"), "--key", KEY, "--no-balances")
    assert code == 1
    assert "differs from the signed root" in out


def test_receipt_file_verifies_and_checks_commitment(site: Path) -> None:
    store = DirectoryTileStore(site / "log", fsync=False)
    entries = ledger_entries()
    size = len(entries)
    index = 42
    data = rfc8785.dumps(entries[index])
    proof = inclusion_proof(TileHashReader(store.get, size), index, size)
    checkpoint = (site / "log" / "checkpoint").read_text()
    receipt = bundle(
        entry=data,
        index=index,
        proof=proof,
        checkpoint=checkpoint,
        tree_size=size,
        commitment=entries[index]["commitment"],
        log_url="/log",
    )
    path = site / "receipt.json"
    path.write_text(json.dumps(receipt))
    code, out = run("receipt", str(path), "--log", str(site / "log"), "--key", KEY)
    assert code == 0, out
    assert f"entry {index} is in {ORIGIN}" in out
    assert "current log" in out

    # The secret whose SHA-256 is the entry's commitment is not known here; a wrong one fails.
    code, out = run(
        "receipt", str(path), "--log", str(site / "log"), "--key", KEY, "--secret", "not-the-secret"
    )
    assert code == 1
    assert f"expected {commitment_of('not-the-secret')}" in out

    receipt["entry_b64"] = None
    receipt["entry"] = data.decode().replace('"units":2', '"units":3')
    del receipt["entry_json"]
    path.write_text(json.dumps(receipt))
    code, out = run("receipt", str(path), "--log", str(site / "log"), "--key", KEY, "--offline")
    assert code == 1
    assert "does not lead to the signed root" in out


def test_offline_receipt_whose_readable_entry_differs_from_the_signed_bytes_fails(site: Path) -> None:
    """Issue 12: the readable `entry` said 20 units while the proven bytes said 2, and the CLI
    said OK (the browser verifier caught it)."""
    store = DirectoryTileStore(site / "log", fsync=False)
    entries = ledger_entries()
    size, index = len(entries), 42
    data = rfc8785.dumps(entries[index])
    assert b'"units":2' in data
    proof = inclusion_proof(TileHashReader(store.get, size), index, size)
    honest = bundle(
        entry=data,
        index=index,
        proof=proof,
        checkpoint=(site / "log" / "checkpoint").read_text(),
        tree_size=size,
        commitment=entries[index]["commitment"],
        log_url="/log",
    )
    path = site / "receipt.json"
    args = ("receipt", str(path), "--log", str(site / "log"), "--key", KEY, "--offline")
    path.write_text(json.dumps(honest))
    code, out = run(*args)
    assert code == 0, out
    inflated_text = data.decode().replace('"units":2', '"units":20')
    for field, value in (
        ("entry", inflated_text),
        ("entry_json", json.loads(inflated_text)),
        ("commitment", "0" * 64),
    ):
        path.write_text(json.dumps({**honest, field: value}))
        code, out = run(*args)
        assert code == 1, (field, out)
        assert "differs from the" in out


def test_receipt_secret_commitment_is_sha256_hex() -> None:
    assert commitment_of("s3cret") == hashlib.sha256(b"s3cret").hexdigest()
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()


def test_exit_codes_for_bad_inputs(site: Path, tmp_path: Path) -> None:
    log = str(site / "log")
    # Wrong key: verification failure.
    other = "verify.example/log+00000000+AQ" + "A" * 42 + "="
    code, out = run("checkpoint", "--log", log, "--key", other)
    assert code == 3  # malformed: the key material is not valid base64
    from wefirst.tlog.note import generate_signer

    code, out = run("checkpoint", "--log", log, "--key", generate_signer(ORIGIN).verifier.key_string)
    assert code == 1
    assert "no signature from a trusted key" in out
    # Malformed checkpoint.
    (site / "log" / "checkpoint").write_text("garbage\n")
    code, out = run("checkpoint", "--log", log, "--key", KEY)
    assert code == 3
    assert "malformed" in out
    # Missing log.
    code, out = run("checkpoint", "--log", str(tmp_path / "nope"), "--key", KEY)
    assert code == 4
    # Unreachable server.
    code, out = run("checkpoint", "--log", "http://127.0.0.1:9/log", "--key", KEY)
    assert code == 4
    assert "cannot reach" in out
    # A receipt that is not JSON.
    bad = tmp_path / "r.json"
    bad.write_text("{")
    code, out = run("receipt", str(bad), "--log", log, "--key", KEY, "--offline")
    assert code == 3
    assert "not JSON" in out


def test_consistency_detects_a_fork(site: Path) -> None:
    entries = ledger_entries()
    entries[2]["units"] = 99
    notes = build_log(site / "fork", [entries[:5], entries[5:]])
    fork_old = site / "fork.checkpoint"
    fork_old.write_text(notes[0])
    code, out = run("consistency", str(fork_old), "--log", str(site / "log"), "--key", KEY)
    assert code == 1
    assert "fork" in out


def test_pending_receipt_file_exits_5(tmp_path: Path) -> None:
    path = tmp_path / "pending.json"
    path.write_text(json.dumps({"status": "pending", "commitment": "a" * 64}))
    code, out = run("receipt", str(path), "--key", KEY, "--offline")
    assert code == 5
    assert "pending" in out


@pytest.mark.parametrize(
    "receipt",
    [
        [],
        {"entry": "{}", "index": 0, "checkpoint": "x"} | {"entry_b64": "***"},
        {"entry": "{}", "index": -1, "inclusion_proof": [], "checkpoint": "x"},
        {"entry": "{}", "index": True, "inclusion_proof": [], "checkpoint": "x"},
        {"entry": "{}", "index": 0, "inclusion_proof": "abc", "checkpoint": "x"},
        {"entry": "{}", "index": 0, "inclusion_proof": ["AAAA"], "checkpoint": "x"},
        {"entry": "{}", "index": 0, "inclusion_proof": [7], "checkpoint": "x"},
        {"entry": "{}", "index": 0, "inclusion_proof": ["zz" * 32], "checkpoint": "x"},
        {"entry": "{}", "index": 0, "inclusion_proof": []},
        {"entry": "{}", "index": 0, "inclusion_proof": [], "checkpoint": "x", "tree_size": -2},
        {"index": 0, "inclusion_proof": [], "checkpoint": "x"},
    ],
)
def test_malformed_receipts_exit_3(tmp_path: Path, receipt: object) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(receipt))
    code, out = run("receipt", str(path), "--key", KEY, "--offline")
    assert code == 3, out
    assert "malformed" in out
