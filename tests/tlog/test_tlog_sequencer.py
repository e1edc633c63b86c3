"""The sequencer on a real database (SQLite, or PostgreSQL with WEFIRST_TEST_DATABASE_URL):
batching, both tile stores, receipts, and real processes killed with SIGKILL mid-batch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import func, select, text

from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_tlog import tlog_checkpoints, tlog_entries, tlog_index, tlog_pending, tlog_tiles
from wefirst.tlog.checkpoint import open_checkpoint
from wefirst.tlog.errors import LogFormatError
from wefirst.tlog.hashing import leaf_hash, root_from_leaf_hashes
from wefirst.tlog.integrate import integrate
from wefirst.tlog.proofs import consistency_proof, verify_consistency, verify_inclusion
from wefirst.tlog.queue import canonical, enqueue
from wefirst.tlog.reader import TileHashReader
from wefirst.tlog.receipts import commitment_of, parse_receipt
from wefirst.tlog.sequencer import FileLock, _claim, _one_round_at_a_time, integrate_batch, lock_for
from wefirst.tlog.service import LogService, latest_checkpoint, origin_for
from wefirst.tlog.tiles import bundles_for_size, tiles_for_size
from wefirst.tlog.tilestore import MemoryTileStore

from tlog.tlog_helpers import entry, fill
from waiting import PATIENCE, wait_until

WORKER = Path(__file__).with_name("tlog_crash_worker.py")


@pytest.fixture(params=["db", "dir"])
def service(request: pytest.FixtureRequest, settings: Settings, db: Database, tmp_path: Path) -> LogService:
    tile_dir = tmp_path / "tiles" if request.param == "dir" else None
    s = settings.model_copy(update={"tlog_tile_dir": tile_dir, "tlog_sequencer": False})
    return LogService(s, db)


def check_log(service: LogService, expected: int) -> None:
    """Every enqueued entry exactly once, contiguous indexes, tiles byte-identical to a fresh
    integration, every stored checkpoint signed and consistent with the latest."""
    db = service.db
    with db.read() as conn:
        rows = conn.execute(
            select(tlog_index.c.idx, tlog_entries.c.data)
            .join_from(tlog_index, tlog_entries, tlog_entries.c.id == tlog_index.c.entry_id)
            .order_by(tlog_index.c.idx)
        ).all()
        notes = conn.execute(
            select(tlog_checkpoints.c.size, tlog_checkpoints.c.note).order_by(tlog_checkpoints.c.size)
        ).all()
        latest = latest_checkpoint(conn)
        queued = conn.execute(select(func.count()).select_from(tlog_pending)).scalar_one()
        stored = conn.execute(select(func.count()).select_from(tlog_entries)).scalar_one()
    assert latest is not None
    assert (queued, stored) == (0, expected)  # nothing left waiting, nothing unindexed
    assert [r.idx for r in rows] == list(range(expected))
    data = [bytes(r.data) for r in rows]
    assert len(set(data)) == expected
    assert latest.size == expected
    assert latest.root == root_from_leaf_hashes([leaf_hash(d) for d in data])
    fresh = MemoryTileStore()
    integrate(fresh, 0, data)
    for t in [*tiles_for_size(expected), *bundles_for_size(expected)]:
        assert service.store.get(t.path) == fresh.get(t.path), t.path
    reader = TileHashReader(service.store.get, expected)
    for r in notes:
        size = int(r.size)
        signed = open_checkpoint(r.note, service.signer.verifier)
        assert signed.checkpoint.size == size
        verify_consistency(
            size, expected, signed.checkpoint.root, latest.root, consistency_proof(reader, size, expected)
        )
    if not service.is_db_store:
        assert service.store.get("checkpoint") == latest.note.encode()


def test_batches_of_n_and_receipts(service: LogService) -> None:
    fill(service.db, 0, 25)
    with service.db.write() as conn:
        secret = "receipt-secret-1"
        enqueue(conn, entry(999, commitment=commitment_of(secret)), commitment=commitment_of(secret))
    assert service.receipt(commitment_of(secret)) == {
        "status": "pending",
        "commitment": commitment_of(secret),
    }
    sizes = []
    while (r := integrate_batch(service, 10)).integrated:
        sizes.append(r.size)
    assert sizes == [10, 20, 26]
    check_log(service, 26)
    receipt = service.receipt(commitment_of(secret))
    assert receipt is not None
    assert receipt["index"] == 25
    assert receipt["entry_json"]["commitment"] == commitment_of(secret)
    parsed = parse_receipt(receipt)
    cp = open_checkpoint(parsed.checkpoint, service.signer.verifier).checkpoint
    verify_inclusion(leaf_hash(parsed.entry), parsed.index, cp.size, parsed.proof, cp.root)
    assert service.receipt(commitment_of("unknown")) is None


def test_origin_and_canonical_bytes(settings: Settings) -> None:
    assert origin_for(settings) == "testserver/log"
    assert canonical({"v": 1, "kind": "k", "b": 2, "a": "é"}) == ('{"a":"é","b":2,"kind":"k","v":1}'.encode())
    with pytest.raises(LogFormatError):
        canonical({"kind": "k"})
    with pytest.raises(LogFormatError):
        canonical({"v": 1, "kind": "k", "big": "x" * 70000})
    with pytest.raises(LogFormatError):
        canonical({"v": 1, "kind": "k", "n": 2**60})  # beyond I-JSON's exact integers


def test_enqueue_rejects_bad_commitments(db: Database) -> None:
    with db.write() as conn:
        with pytest.raises(LogFormatError):
            enqueue(conn, entry(1), commitment="ABC")
        with pytest.raises(LogFormatError):
            enqueue(conn, entry(1, commitment="a" * 64), commitment="b" * 64)


def test_recovery_finishes_a_claimed_batch_with_identical_bytes(service: LogService) -> None:
    fill(service.db, 0, 300)
    integrate_batch(service, 100)
    # A sequencer that died right after claiming: indexes assigned, no tiles, no checkpoint.
    with service.db.write() as conn:
        _claim(conn, 100, 150)
    fill(service.db, 300, 5)  # newer entries must wait behind the cut-short batch
    r = integrate_batch(service, 1000)
    assert (r.recovered, r.size, r.integrated) == (True, 250, 150)
    while integrate_batch(service, 1000).integrated:
        pass
    check_log(service, 305)


def _run_worker(args: dict[str, object], stderr: IO[bytes] | int = subprocess.PIPE) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), json.dumps(args)],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env={**os.environ, "PYTHONPATH": str(WORKER.parents[1])},  # the worker imports `waiting`
    )


def _kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL, reap, and close the pipe the test read "leader" from."""
    proc.kill()
    proc.wait(PATIENCE)
    assert proc.stdout is not None
    proc.stdout.close()


def _worker_args(service: LogService, **kw: object) -> dict[str, object]:
    s = service.settings
    return {
        "database_url": s.database_url,
        "data_dir": str(s.data_dir),
        "tile_dir": str(s.tlog_tile_dir) if s.tlog_tile_dir else "",
        **kw,
    }


def test_a_round_beside_an_unfinished_claim_waits_for_it(service: LogService) -> None:
    """Two rounds at once (a caller without the sequencer lock beside the running sequencer, as
    a test helper was): the second waits for the first's claim to commit, then finishes that
    batch, instead of numbering the same indexes and failing on tlog_index's key (seen once in a
    PostgreSQL run of the suite under load)."""
    db = service.db
    if db.is_sqlite:
        pytest.skip("SQLite: a round's write transaction (BEGIN IMMEDIATE) serialises rounds already")
    service.ensure_initialised()
    fill(db, 0, 20)
    with ThreadPoolExecutor(max_workers=1) as pool:
        with db.write() as conn:
            _one_round_at_a_time(conn)
            latest = latest_checkpoint(conn)
            _claim(conn, latest.size if latest else 0, 20)
            second = pool.submit(integrate_batch, service, 1000)

            def waiting() -> bool | None:
                with db.read() as look:
                    waiters = look.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
                    return bool(waiters.scalar()) or None

            wait_until(waiting, what="the second round waiting for the first")
        result = second.result(PATIENCE)
    assert (result.recovered, result.size, result.integrated) == (True, 20, 20)
    check_log(service, 20)


@pytest.mark.slow
@pytest.mark.parametrize("step", ["claim", "tiles", "checkpoint"])
def test_kill_9_after_each_step(service: LogService, step: str) -> None:
    fill(service.db, 0, 700)
    integrate_batch(service, 300)
    proc = _run_worker(_worker_args(service, mode="step", crash_after=step, batch_size=300))
    _out, err = proc.communicate(timeout=PATIENCE)
    assert proc.returncode == -signal.SIGKILL, err
    while integrate_batch(service, 300).integrated:
        pass
    check_log(service, 700)


@pytest.mark.slow
def test_kill_9_at_random_moments_and_takeover(service: LogService, tmp_path: Path) -> None:
    """Two real sequencer processes; the leader is killed while it integrates, twice;
    a standby takes the lock over and the log stays consistent throughout.

    The workers publish the `checkpoint` file of a round that empties the queue a second late
    (``publish_delay``), as a busy machine may: the recorded checkpoint is then ahead of the
    published one for a while, and the test must wait for the publication (which the product
    also redoes on the next round after a crash) before it kills the workers and checks."""
    total = 0
    killed_mid_run = 0
    worker = _worker_args(service, mode="loop", batch_size=5, publish_delay=1)
    log = tmp_path / "workers.log"  # their stderr: a pipe nobody reads could fill and block them
    with log.open("ab") as err:
        procs = [_run_worker(worker, err) for _ in range(2)]
    try:
        for round_ in range(2):
            before = total
            fill(service.db, total, 600)
            total += 600
            leader = _wait_for_leader(procs)
            # Let it get going, then kill it at a different point of the run each round.
            kill_after = before + 100 * round_
            wait_until(partial(_passed, service, kill_after), what=f"the log to pass {kill_after}")
            size_at_kill = _size(service)
            _kill(leader)
            killed_mid_run += size_at_kill < total
            assert sum(_is_leader(p) for p in procs if p is not leader) <= 1
            procs.remove(leader)
            with log.open("ab") as err:
                procs.append(_run_worker(worker, err))
        wait_until(
            lambda: _settled(service, total),
            what=lambda: (
                f"size {total} recorded and published (recorded: {_size(service)}); "
                f"workers' stderr: {log.read_text()[-2000:]}"
            ),
        )
    finally:
        for p in procs:
            _kill(p)
    assert killed_mid_run >= 1
    check_log(service, total)


def _passed(service: LogService, size: int) -> bool:
    return _size(service) > size


def _size(service: LogService) -> int:
    with service.db.read() as conn:
        cp = latest_checkpoint(conn)
    return cp.size if cp else 0


def _settled(service: LogService, size: int) -> bool:
    """The latest recorded checkpoint has ``size`` and, with the directory store, is the
    published `checkpoint` file too (publication follows the durable record)."""
    with service.db.read() as conn:
        cp = latest_checkpoint(conn)
    if cp is None or cp.size != size:
        return False
    return service.is_db_store or service.store.get("checkpoint") == cp.note.encode()


def _wait_for_leader(procs: list[subprocess.Popen[str]]) -> subprocess.Popen[str]:
    def leader() -> subprocess.Popen[str] | None:
        leaders = [p for p in procs if _is_leader(p)]
        assert len(leaders) <= 1, "two sequencers hold the lock"
        return leaders[0] if leaders else None

    return wait_until(leader, what="a sequencer to take the lock")


def _is_leader(proc: subprocess.Popen[str]) -> bool:
    """The worker prints "leader" once it holds the lock."""
    import selectors

    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    ready = sel.select(timeout=0.05)
    sel.close()
    if ready:
        line = proc.stdout.readline()
        proc.leader = line.strip() == "leader"  # type: ignore[attr-defined]
    return bool(getattr(proc, "leader", False))


def test_only_one_lock_holder(db: Database) -> None:
    a, b = lock_for(db), lock_for(db)
    try:
        assert a.acquire()
        assert not b.acquire()
        a.release()
        assert b.acquire()
    finally:
        a.release()
        b.release()


def test_a_standby_holds_no_open_file_between_tries(tmp_path: Path) -> None:
    """Before: a FileLock that lost kept its file open until garbage collection (a
    ResourceWarning per standby and per busy `wefirst log integrate --once`)."""
    path = str(tmp_path / "x.tlog-sequencer.lock")
    holder, standby = FileLock(path), FileLock(path)
    try:
        assert holder.acquire()
        assert not standby.acquire()
        assert standby.fh is None
        assert not standby.still_held()
    finally:
        holder.release()
    assert standby.acquire()
    standby.release()


def test_tiles_table_keeps_no_superseded_partials(service: LogService) -> None:
    if not service.is_db_store:
        pytest.skip("the directory store is checked by the DirectoryTileStore tests")
    fill(service.db, 0, 260)
    for _ in range(26):
        integrate_batch(service, 10)
    with service.db.read() as conn:
        paths: set[str] = set(conn.execute(select(tlog_tiles.c.path)).scalars())
        count = conn.execute(select(func.count()).select_from(tlog_entries)).scalar()
    assert count == 260
    assert "tile/0/000" in paths
    assert not any(p.startswith("tile/0/000.p/") for p in paths)
    assert "tile/0/001.p/4" in paths


def test_log_integrate_once_cli(service: LogService) -> None:
    from typer.testing import CliRunner

    from wefirst.tlog import cli as log_cli

    s = service.settings
    env = {
        "WEFIRST_DATABASE_URL": s.database_url,
        "WEFIRST_DATA_DIR": str(s.data_dir),
        "WEFIRST_BASE_URL": s.base_url,
        "WEFIRST_TLOG_BATCH_SIZE": "40",
        "WEFIRST_TLOG_TILE_DIR": str(s.tlog_tile_dir or ""),
    }
    if s.tlog_tile_dir is None:
        del env["WEFIRST_TLOG_TILE_DIR"]
    fill(service.db, 0, 100)
    lock = lock_for(service.db)
    assert lock.acquire()
    try:
        busy = CliRunner().invoke(log_cli.app, ["integrate", "--once"], env=env)
        assert busy.exit_code == 1
        assert "another sequencer holds the lock" in busy.output
    finally:
        lock.release()
    result = CliRunner().invoke(log_cli.app, ["integrate", "--once"], env=env)
    assert result.exit_code == 0, result.output
    assert "integrated 100 entries; log size 100" in result.output
    check_log(service, 100)


def test_round_size_grows_behind_a_backlog_and_falls_back_when_it_keeps_up() -> None:
    from wefirst.tlog.sequencer import MAX_ROUND, RoundSize

    rounds = RoundSize(10)
    assert rounds.limit == 10
    # Full rounds: more was waiting, so take twice as many, up to 16 x the setting.
    assert [rounds.after(rounds.limit) for _ in range(6)] == [20, 40, 80, 160, 160, 160]
    assert rounds.after(159) == 10  # the queue emptied: back to the setting
    assert rounds.after(0) == 10
    assert RoundSize(50_000).top == MAX_ROUND
    assert RoundSize(MAX_ROUND).after(MAX_ROUND) == MAX_ROUND
    # A full round that took longer than the budget (the batch wait) does not grow the next.
    slow = RoundSize(10, budget=0.2)
    assert slow.after(10, 0.1) == 20
    assert slow.after(20, 0.5) == 20
    assert slow.after(5, 0.5) == 10


def test_the_sequencer_thread_takes_a_backlog_in_growing_rounds(service: LogService) -> None:
    """1,000 entries waiting, rounds of 10 configured: the thread signs far fewer than 100
    checkpoints (10, 20, 40, 80, then 160 at a time), and the log is whole. (A batch wait of a
    minute: the growth's time budget, so however slow the machine every full round grows; the
    wait itself only follows the last round, and stopping ends it.)"""
    from wefirst.tlog.sequencer import Sequencer

    fill(service.db, 0, 1000)
    seq = Sequencer(service, batch_size=10, wait_ms=60_000)
    seq.start()
    try:

        def size() -> int:
            with service.db.read() as conn:
                latest = latest_checkpoint(conn)
            return latest.size if latest else 0

        wait_until(lambda: size() == 1000, what="the sequencer to integrate 1,000 entries")
    finally:
        seq.stop()
    with service.db.read() as conn:
        sizes: list[int] = list(
            conn.execute(select(tlog_checkpoints.c.size).order_by(tlog_checkpoints.c.size)).scalars().all()
        )
    # The empty tree, rounds of 10, 20, 40, 80, five of 160, and the last 50.
    assert sizes == [0, 10, 30, 70, 150, 310, 470, 630, 790, 950, 1000]
    check_log(service, 1000)
