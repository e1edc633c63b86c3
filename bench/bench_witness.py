"""Witness benchmarks; prints figures (not a test). Results go to docs/benchmarks.md.

    .venv/bin/python bench/bench_witness.py add-checkpoint   # witness throughput and latency
    .venv/bin/python bench/bench_witness.py cosign-latency   # new checkpoint -> k cosignatures

add-checkpoint: the witness's whole request (parse, log signature, consistency proof, durable
SQLite state with synchronous=FULL, cosignature) in process and over HTTP to a real
`wefirst-witness serve`, against a bare Ed25519 sign + verify of the same message measured in
the same run (the floor: a witness must at least verify one signature and make one).

cosign-latency: a log (SQLite file, or --database-url) with its sequencer round and the real
submitter, and two real witness processes on loopback: the time from a checkpoint's commit to
the moment both cosignatures are stored with it.

Options: --requests N, --rounds N, --database-url URL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.progress import Progress
from sqlalchemy import select

from wefirst.store.tables_tlog import tlog_cosignatures
from wefirst.tlog.checkpoint import Checkpoint, parse_signed_checkpoint, sign_checkpoint
from wefirst.tlog.cosignature import CosignatureSigner
from wefirst.tlog.integrate import integrate
from wefirst.tlog.note import Signer
from wefirst.tlog.proofs import consistency_proof
from wefirst.tlog.queue import enqueue
from wefirst.tlog.reader import TileHashReader
from wefirst.tlog.sequencer import integrate_batch
from wefirst.tlog.service import LogService
from wefirst.tlog.submitter import WitnessSubmitter
from wefirst.tlog.tilestore import MemoryTileStore
from wefirst.tlog.witness_protocol import build_request
from wefirst.witness.add_checkpoint import Witness
from wefirst.witness.process import WitnessProcess, start_witness
from wefirst.witness.state import WitnessState

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_tlog import fresh_db

LOG = Signer("bench.example/log", bytes(range(100, 132)))
WITNESS = CosignatureSigner("bench.example/witness", bytes(range(40, 72)))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def requests_for_growing_log(n: int) -> list[bytes]:
    """n add-checkpoint bodies for a log growing by 1..64 entries each time (proofs of 5-20
    hashes), built before timing starts."""
    store = MemoryTileStore()
    size = integrate(store, 0, [b"seed"]).size
    bodies = [build_request(0, [], sign_checkpoint(Checkpoint(LOG.name, size, _root(store, size)), LOG))]
    for i in range(n - 1):
        old = size
        result = integrate(store, size, [f"e{i}-{k}".encode() for k in range(1 + (i * 37) % 64)])
        size = result.size
        proof = consistency_proof(TileHashReader(store.get, size), old, size)
        bodies.append(
            build_request(old, proof, sign_checkpoint(Checkpoint(LOG.name, size, result.root), LOG))
        )
    return bodies


def _root(store: MemoryTileStore, size: int) -> bytes:
    from wefirst.tlog.proofs import tree_root

    return tree_root(TileHashReader(store.get, size), size)


def bare_ed25519(body: str, n: int) -> tuple[float, float]:
    """(ops/s, median µs) of one Ed25519 verify plus one sign over a cosignature-sized message."""
    msg = f"cosignature/v1\ntime 1767225600\n{body}".encode()
    sig = LOG.sign(msg)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        LOG.verifier.verify(msg, sig)
        WITNESS.sign_raw(msg)
        times.append(time.perf_counter() - t)
    return n / sum(times), statistics.median(times) * 1e6


def bench_add_checkpoint(args: argparse.Namespace) -> None:
    n = args.requests
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    bodies = requests_for_growing_log(n)
    body_text = parse_signed_checkpoint(bodies[-1].split(b"\n\n", 1)[1]).note.text
    base_rate, base_us = bare_ed25519(body_text, max(n, 2000))
    print(f"bare Ed25519 verify + sign: {base_rate:,.0f}/s, median {base_us:.0f} µs")

    with tempfile.TemporaryDirectory() as tmp:
        witness = Witness(WITNESS, {LOG.name: LOG.verifier}, WitnessState(Path(tmp) / "w.db"))
        times, cpu0, wall0 = [], time.process_time(), time.perf_counter()
        for body in bodies:
            t = time.perf_counter()
            answer = witness.add_checkpoint(body)
            times.append(time.perf_counter() - t)
            assert answer.status == 200, answer.body
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        witness.state.close()
        rate = n / wall
        print(
            f"in process: {rate:,.0f} req/s wall ({rate / base_rate:.3f}× bare), {n / cpu:,.0f}/s CPU "
            f"({n / cpu / base_rate:.3f}×); p50 {pct(times, 0.5) * 1e3:.2f} ms, "
            f"p99 {pct(times, 0.99) * 1e3:.2f} ms"
        )

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "witness.key").write_text(WITNESS.private_key_string + "\n")
        os.chmod(Path(tmp) / "witness.key", 0o600)
        witness_proc = start_witness(Path(tmp), name=WITNESS.name, follow=[LOG.verifier.key_string])
        try:
            with httpx.Client(base_url=witness_proc.url, timeout=30) as http:
                times = []
                wall0 = time.perf_counter()
                for body in bodies:
                    t = time.perf_counter()
                    r = http.post("/add-checkpoint", content=body)
                    times.append(time.perf_counter() - t)
                    assert r.status_code == 200, r.text
                wall = time.perf_counter() - wall0
            rate = n / wall
            print(
                f"over HTTP (keep-alive, one client): {rate:,.0f} req/s ({rate / base_rate:.3f}× bare); "
                f"p50 {pct(times, 0.5) * 1e3:.2f} ms, p99 {pct(times, 0.99) * 1e3:.2f} ms"
            )
        finally:
            witness_proc.stop()


def bench_cosign_latency(args: argparse.Namespace) -> None:
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        settings, db = fresh_db(args.database_url, tmp)
        service = LogService(settings, db)
        service.ensure_initialised()
        procs: list[WitnessProcess] = []
        try:
            for name in ("w1", "w2"):
                follow = [service.signer.verifier.key_string]
                procs.append(start_witness(tmp / name, name=f"bench.example/{name}", follow=follow))
            keys = [f"{p.key} {p.url}" for p in procs]
            configured = settings.model_copy(update={"tlog_witnesses": "\n".join(keys)})
            service = LogService(configured, db)
            sub = WitnessSubmitter(service, service.witnesses, timeout=10, max_backoff=1.0, idle_poll=5.0)
            sub.start()
            while not sub.is_leader:
                time.sleep(0.01)
            latencies: list[float] = []
            with Progress(transient=True) as progress:
                task = progress.add_task("checkpoints cosigned", total=args.rounds)
                for i in range(args.rounds):
                    with db.write() as conn:
                        for k in range(10):
                            enqueue(
                                conn,
                                {
                                    "v": 1,
                                    "kind": "bench",
                                    "campaign": "cmp_b",
                                    "at": "2026-12-01T00:00:00Z",
                                    "n": i * 10 + k,
                                },
                            )
                    result = integrate_batch(service, 1000)
                    t0 = time.perf_counter()
                    sub.wake()
                    while True:
                        with db.read() as conn:
                            got = conn.execute(
                                select(tlog_cosignatures.c.witness).where(
                                    tlog_cosignatures.c.size == result.size
                                )
                            ).all()
                        if len(got) == 2:
                            break
                        time.sleep(0.0005)
                    latencies.append(time.perf_counter() - t0)
                    progress.advance(task)
            sub.stop()
        finally:
            for p in procs:
                p.stop()
            db.dispose()
    ms = [x * 1e3 for x in latencies]
    print(
        f"checkpoint -> 2 of 2 cosignatures stored ({args.rounds} checkpoints, {db.url.split(':')[0]}): "
        f"median {statistics.median(ms):.1f} ms, p90 {pct(ms, 0.9):.1f} ms, max {max(ms):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["add-checkpoint", "cosign-latency"])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if args.what == "add-checkpoint":
        bench_add_checkpoint(args)
    else:
        bench_cosign_latency(args)


if __name__ == "__main__":
    main()
