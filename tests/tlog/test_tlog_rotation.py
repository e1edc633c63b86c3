"""Key rotation drill (docs/tlog.md, "Key rotation"), on SQLite and PostgreSQL: `wefirst log
rotate` ends the log with a `log_successor` entry and starts log 2 (origin + "/2", new key)
whose entry 0 is a handover signed by the old key; the server serves both; a verifier that only
trusts the old key follows the chain to the new log; old receipts stay provable; a handover not
signed by the trusted key is refused."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import rfc8785
import uvicorn
from sqlalchemy import select
from typer.testing import CliRunner

from wefirst.app import create_app
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_tlog import tlog_witness_state
from wefirst.tlog import cli as log_cli
from wefirst.tlog import verify_cli
from wefirst.tlog.checkpoint import Checkpoint, parse_signed_checkpoint, sign_checkpoint
from wefirst.tlog.cosignatures import WitnessRow, save_witness_row
from wefirst.tlog.handover import handover_entry, verify_handover
from wefirst.tlog.integrate import integrate
from wefirst.tlog.note import Signer
from wefirst.tlog.queue import enqueue
from wefirst.tlog.receipts import commitment_of
from wefirst.tlog.sequencer import integrate_batch, lock_for
from wefirst.tlog.service import LogService
from wefirst.tlog.tilestore import DirectoryTileStore

from live_server import free_port
from waiting import wait_until

runner = CliRunner()


def grow(service: LogService, start: int, count: int) -> None:
    with service.db.write() as conn:
        for i in range(start, start + count):
            c = commitment_of(f"secret-{i}")
            enqueue(
                conn,
                {
                    "v": 1,
                    "kind": "campaign_changed",
                    "campaign": "cmp_r",
                    "at": "2026-12-01T00:00:00Z",
                    "n": i,
                    "commitment": c,
                },
                commitment=c,
            )
    while integrate_batch(service, 1000).integrated:
        pass


def env_of(settings: Settings) -> dict[str, str]:
    return {
        "WEFIRST_DATABASE_URL": settings.database_url,
        "WEFIRST_DATA_DIR": str(settings.data_dir),
        "WEFIRST_BASE_URL": settings.base_url,
        "WEFIRST_TLOG_SEQUENCER": "false",
    }


@pytest.fixture
def served(settings: Settings, db: Database) -> tuple[Settings, str]:
    """The deployment's settings on a free port; the app is started by the test when needed."""
    port = free_port()
    return (
        settings.model_copy(update={"base_url": f"http://127.0.0.1:{port}", "tlog_sequencer": False}),
        str(port),
    )


def serve(settings: Settings, db: Database) -> tuple[uvicorn.Server, threading.Thread]:
    app = create_app(settings, db=db)
    port = int(settings.base_url.rsplit(":", 1)[1])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, what="uvicorn to start")
    return server, thread


def verify(*args: str) -> tuple[int, str]:
    result = runner.invoke(verify_cli.app, list(args))
    return result.exit_code, result.output


def test_rotation_drill(served: tuple[Settings, str], db: Database, tmp_path: Path) -> None:
    settings, _port = served
    base = settings.base_url
    service = LogService(settings, db)
    grow(service, 0, 300)
    old_key = service.signer.verifier.key_string
    old_origin = service.origin
    with db.write() as conn:  # what the submitter knew of a witness: forgotten by the rotation
        save_witness_row(
            conn, WitnessRow("w.example/w+00000000+BA", "http://w", 300, 0, None, None, time_now())
        )

    result = runner.invoke(log_cli.app, ["rotate"], env=env_of(settings))
    assert result.exit_code == 0, result.output
    assert f"{old_origin} ended at size 301" in result.output
    assert f"{old_origin}/2" in result.output

    rotated = LogService(settings, db)
    assert rotated.current.number == 2
    assert rotated.origin == f"{old_origin}/2"
    assert rotated.current.base == 301
    with db.read() as conn:
        assert conn.execute(select(tlog_witness_state)).all() == []
    grow(rotated, 300, 40)  # the sequencer carries on, in the new log
    assert rotated.checkpoint().size == 41  # the handover + 40
    assert rotated.checkpoint(1).size == 301  # the old log never grows again

    old_receipt = rotated.receipt(commitment_of("secret-10"))
    new_receipt = rotated.receipt(commitment_of("secret-320"))
    assert old_receipt is not None
    assert new_receipt is not None
    assert (old_receipt["log_url"], old_receipt["tree_size"], old_receipt["index"]) == (
        f"{base}/log",
        301,
        10,
    )
    assert (new_receipt["log_url"], new_receipt["tree_size"], new_receipt["index"]) == (
        f"{base}/log/2",
        41,
        21,
    )
    (tmp_path / "old.json").write_text(json.dumps(old_receipt))
    (tmp_path / "new.json").write_text(json.dumps(new_receipt))

    server, thread = serve(settings, db)
    try:
        # The old log: frozen, and it says where it continues.
        code, out = verify("checkpoint", "--log", f"{base}/log", "--key", old_key)
        assert code == 0, out
        assert "size 301" in out
        assert f"continues as {old_origin}/2" in out
        # The new log, checked with nothing but the old key: the chain is followed.
        for command in ("checkpoint", "audit"):
            args = [command, "--log", f"{base}/log/2", "--key", old_key]
            code, out = verify(*(args + (["--no-balances"] if command == "audit" else [])))
            assert code == 0, out
            assert f"key rotation followed: {old_origin} (size 301) handed over to {old_origin}/2" in out
        code, out = verify("receipt", str(tmp_path / "old.json"), "--log", f"{base}/log", "--key", old_key)
        assert code == 0, out
        code, out = verify("receipt", str(tmp_path / "new.json"), "--log", f"{base}/log/2", "--key", old_key)
        assert code == 0, out
        # Offline there is no log to read the handover from: the old key alone is not enough.
        code, out = verify("receipt", str(tmp_path / "new.json"), "--offline", "--key", old_key)
        assert code == 1
        # Log 2's own key works directly, and its key is published next to it.
        new_key = rotated.signer.verifier.key_string
        code, out = verify("checkpoint", "--log", f"{base}/log/2", "--key", new_key)
        assert code == 0, out
        import httpx

        assert httpx.get(f"{base}/log/2/key").text == new_key + "\n"
        assert httpx.get(f"{base}/log/key").text == old_key + "\n"
        assert httpx.get(f"{base}/log/3/checkpoint").status_code == 404
    finally:
        server.should_exit = True
        thread.join(10)


def time_now() -> datetime:
    return datetime.now(UTC)


def test_a_handover_not_signed_by_the_trusted_key_is_refused(tmp_path: Path) -> None:
    """A log claiming to continue ours, with a handover signed by some other key."""
    old = Signer("drill.example/log", bytes(range(1, 33)))
    impostor = Signer("drill.example/log", bytes(range(2, 34)))  # same name, another key
    new = Signer("drill.example/log/2", bytes(range(3, 35)))
    final = sign_checkpoint(Checkpoint(old.name, 0, bytes(32)), impostor)
    entry = rfc8785.dumps(
        handover_entry(impostor, parse_signed_checkpoint(final), new.verifier, "2026-12-01T00:00:00Z")
    )
    with pytest.raises(Exception, match="not the trusted"):
        verify_handover(entry, old.verifier)
    store = DirectoryTileStore(tmp_path / "log2", fsync=False)
    result = integrate(store, 0, [entry])
    store.put_many({"checkpoint": sign_checkpoint(Checkpoint(new.name, 1, result.root), new).encode()})
    code, out = verify("checkpoint", "--log", str(tmp_path / "log2"), "--key", old.verifier.key_string)
    assert code == 1
    assert "not the trusted" in out


def test_rotation_is_refused_while_a_sequencer_runs(served: tuple[Settings, str], db: Database) -> None:
    settings, _ = served
    LogService(settings, db).ensure_initialised()
    lock = lock_for(db)
    assert lock.acquire()
    try:
        result = runner.invoke(log_cli.app, ["rotate"], env=env_of(settings))
    finally:
        lock.release()
    assert result.exit_code == 1
    assert "sequencer holds the lock" in result.output
    assert LogService(settings, db).current.number == 1
