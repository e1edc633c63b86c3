"""Transparency-log benchmarks; prints figures (not a test). Results go to docs/benchmarks.md.

    .venv/bin/python bench/bench_tlog.py integrate      # batches of 1,000 and 100,000
    .venv/bin/python bench/bench_tlog.py rounds --baseline-src DIR   # sequencer round vs raw
        # hashing, this code and the code in DIR (e.g. `git archive <commit> src | tar -x`)
        # interleaved in fresh processes; medians and ratios
    .venv/bin/python bench/bench_tlog.py drain --baseline-src DIR    # a 100,000-entry backlog
        # drained by the sequencer thread (rounds of the setting's 1,000, or growing)
    .venv/bin/python bench/bench_tlog.py proofs         # receipts over HTTP at 1,000,000 entries
    .venv/bin/python bench/bench_tlog.py audit          # wefirst verify audit, 1,000,000 entries
    .venv/bin/python bench/bench_tlog.py wake --database-url postgresql+psycopg://…
        # commit in another Database → integrated by this one's sequencer, with migration
        # 0031's NOTIFY trigger and without it (dropped), interleaved; medians and ratio

Options: --entries N (proofs/audit), --database-url URL (integrate/proofs/rounds/drain; default
a temporary SQLite file), --requests N (proofs), --repeats N (rounds/drain).
"""

from __future__ import annotations

import argparse
import atexit
import functools
import hashlib
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import rfc8785
from sqlalchemy import create_engine, insert, text

from wefirst.settings import Settings
from wefirst.store import migrate
from wefirst.store.db import Database
from wefirst.store.tables_tlog import tlog_entries
from wefirst.tlog.checkpoint import Checkpoint, sign_checkpoint
from wefirst.tlog.dbstore import DbTileStore
from wefirst.tlog.integrate import compute
from wefirst.tlog.note import generate_signer
from wefirst.tlog.queue import enqueue
from wefirst.tlog.receipts import commitment_of
from wefirst.tlog.sequencer import Sequencer, integrate_batch
from wefirst.tlog.service import LogService, latest_checkpoint, record_checkpoint
from wefirst.tlog.tiles import encode_index
from wefirst.tlog.tilestore import DirectoryTileStore, MemoryTileStore

REPO = Path(__file__).resolve().parents[1]


def entry(i: int, campaigns: int = 50) -> dict[str, Any]:
    """A pledge entry shaped like the ledger's (about 330 bytes canonical)."""
    return {
        "v": 1,
        "kind": "pledge",
        "txn": f"txn_{i:026d}",
        "campaign": f"cmp_{i % campaigns:026d}",
        "at": "2026-11-26T07:00:00Z",
        "pledge": f"plg_{i:026d}",
        "source": "purchase",
        "rule": 0,
        "quantity": 1,
        "units": 1 + i % 3,
        "money": {"amount": 30 * (1 + i % 3), "currency": "EUR"},
        "order_hash": hashlib.sha256(b"order%d" % i).hexdigest(),
        "commitment": commitment_of(f"bench-{i}"),
    }


def canonical_entries(start: int, count: int) -> list[bytes]:
    return [rfc8785.dumps(entry(i)) for i in range(start, start + count)]


def raw_hash_rate(entries: list[bytes]) -> tuple[float, float]:
    """Best of five, wall and CPU: the machine is shared, so CPU time is the steadier figure."""
    sha = hashlib.sha256
    best, best_cpu = float("inf"), float("inf")
    for _ in range(5):
        t, c = time.perf_counter(), time.process_time()
        [sha(b"\x00" + e).digest() for e in entries]
        best = min(best, time.perf_counter() - t)
        best_cpu = min(best_cpu, time.process_time() - c)
    return len(entries) / best, len(entries) / max(best_cpu, 1e-9)


def ratio(n: int, wall: float, cpu: float, raw: tuple[float, float]) -> str:
    return (
        f"{n / wall:,.0f} entries/s wall ({n / wall / raw[0]:.2f}x raw), "
        f"{n / max(cpu, 1e-9):,.0f}/s CPU ({n / max(cpu, 1e-9) / raw[1]:.2f}x raw CPU); "
        f"{wall * 1000:.1f} ms wall, {cpu * 1000:.1f} ms CPU"
    )


def fresh_db(url: str | None, tmp: Path) -> tuple[Settings, Database]:
    """A migrated, empty database: a SQLite file in tmp, or a schema of its own on the given
    PostgreSQL server (dropped at exit), so a benchmark never touches anyone's tables."""
    if url and not url.startswith("sqlite"):
        schema = f"bench_tlog_{os.getpid()}_{tmp.name[-6:].lower()}"
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))

        def drop() -> None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()

        atexit.register(drop)
        sep = "&" if "?" in url else "?"
        url = f"{url}{sep}options={quote(f'-csearch_path={schema}')}"
    settings = Settings(
        database_url=url or f"sqlite:///{tmp / 'bench.db'}",
        data_dir=tmp,
        base_url="http://127.0.0.1:8765",
        tlog_sequencer=False,
    )
    db = Database(settings)
    migrate.upgrade(db)
    return settings, db


def fresh_service(url: str | None, tmp: Path, store_kind: str) -> tuple[Settings, Database, LogService]:
    """A migrated, empty log on either tile store ("db" or "dir", the tiles under tmp), its
    signing key created: what every sequencer measurement starts from."""
    settings, db = fresh_db(url, tmp)
    if store_kind == "dir":
        settings = settings.model_copy(update={"tlog_tile_dir": tmp / "tiles"})
    service = LogService(settings, db)
    service.ensure_initialised()
    return settings, db, service


def bench_integrate(args: argparse.Namespace) -> None:
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    for n in (1_000, 100_000):
        entries = canonical_entries(0, n)
        raw = raw_hash_rate(entries)
        print(f"\n== batch of {n:,} entries ({sum(map(len, entries)) / n:.0f} bytes each) ==")
        print(f"raw RFC 6962 leaf hashing (hashlib): {raw[0]:,.0f}/s wall, {raw[1]:,.0f}/s CPU")

        # Pure integrator: hashes, tiles, bundles, root, signed checkpoint (memory store).
        signer_key = generate_signer("bench.example/log")
        t, c = time.perf_counter(), time.process_time()
        store = MemoryTileStore()
        result = compute(store.get, 0, entries)
        store.put_many(result.items)
        sign_checkpoint(Checkpoint(signer_key.name, result.size, result.root), signer_key)
        dt, dc = time.perf_counter() - t, time.process_time() - c
        print(f"integrator, memory store: {ratio(n, dt, dc, raw)}")

        for fsync in (True, False):
            with tempfile.TemporaryDirectory() as d:
                t, c = time.perf_counter(), time.process_time()
                dstore = DirectoryTileStore(Path(d) / "tiles", fsync=fsync)
                result = compute(dstore.get, 0, entries)
                note = sign_checkpoint(Checkpoint(signer_key.name, result.size, result.root), signer_key)
                dstore.put_many({**result.items, "checkpoint": note.encode()})
                dt, dc = time.perf_counter() - t, time.process_time() - c
                print(f"integrator, directory, fsync={fsync}: {ratio(n, dt, dc, raw)}")

        # Integrator on the database tile store: entries already indexed (as the claim leaves
        # them); hash tiles, virtual bundles and the signed checkpoint in one transaction.
        with tempfile.TemporaryDirectory() as d:
            settings, db = fresh_db(args.database_url, Path(d))
            service = LogService(settings, db)
            service.ensure_initialised()
            with db.write() as conn:
                conn.execute(
                    insert(tlog_entries),
                    [{"data": e, "commitment": None, "created_at": datetime.now(UTC)} for e in entries],
                )
                conn.execute(
                    text("INSERT INTO tlog_index (idx, entry_id) SELECT id - 1, id FROM tlog_entries")
                )
                conn.execute(text("DELETE FROM tlog_pending"))
            t, c = time.perf_counter(), time.process_time()
            tiles = DbTileStore(db)
            with db.write() as conn:
                result = compute(functools.partial(tiles.get_in, conn), 0, entries)
                note = sign_checkpoint(Checkpoint(service.origin, result.size, result.root), service.signer)
                tiles.write(conn, result.items)
                record_checkpoint(conn, result.size, result.root, note)
            dt, dc = time.perf_counter() - t, time.process_time() - c
            engine = "SQLite" if db.is_sqlite else "PostgreSQL"
            print(f"integrator, {engine} tile store: {ratio(n, dt, dc, raw)}")
            db.dispose()

        # The whole sequencer round: claim from the queue (index assignment), tiles, bundles
        # and the signed checkpoint committed, with entries already queued by the ledger.
        for store_kind in ("db", "dir"):
            with tempfile.TemporaryDirectory() as d:
                settings, db, service = fresh_service(args.database_url, Path(d), store_kind)
                with db.write() as conn:
                    conn.execute(
                        insert(tlog_entries),
                        [{"data": e, "commitment": None, "created_at": datetime.now(UTC)} for e in entries],
                    )
                t, c = time.perf_counter(), time.process_time()
                r = integrate_batch(service, n)
                dt, dc = time.perf_counter() - t, time.process_time() - c
                assert r.integrated == n
                engine = "SQLite" if db.is_sqlite else "PostgreSQL"
                print(f"sequencer round, {engine}, {store_kind} tiles: {ratio(n, dt, dc, raw)}")
                db.dispose()


def _cases(args: argparse.Namespace) -> list[tuple[str, str, int]]:
    """(kind, store, entries) measured by one child process: kind "round" is one sequencer
    round over ``entries`` queued entries on top of a log of ``BEFORE`` entries; "drain" is the
    sequencer thread (rounds of the default 1,000) emptying a backlog of ``entries``."""
    stores = ["db"] if args.database_url and not args.database_url.startswith("sqlite") else ["db", "dir"]
    if args.what == "drain":
        return [("drain", store, args.entries) for store in stores]
    return [("round", store, n) for store in stores for n in (1_000, 100_000)]


BEFORE = 1_000  # a log that already has a right edge (partial tiles, a partial bundle)


def _queue(db: Database, entries: list[bytes]) -> None:
    """Entries as the ledger queues them (no index): the same insert for either schema."""
    now = datetime.now(UTC)
    with db.write() as conn:
        for i in range(0, len(entries), 10_000):
            conn.execute(
                insert(tlog_entries),
                [{"data": e, "commitment": None, "created_at": now} for e in entries[i : i + 10_000]],
            )


def _raw_seconds(entries: list[bytes]) -> tuple[float, float]:
    """Median of three, wall and CPU, of hashing the entries as RFC 6962 leaves."""
    sha = hashlib.sha256
    walls, cpus = [], []
    for _ in range(3):
        t, c = time.perf_counter(), time.process_time()
        [sha(b"\x00" + e).digest() for e in entries]
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def bench_child(args: argparse.Namespace) -> None:
    """One measurement per case, printed as a JSON line (run by `rounds`/`drain` with either
    source tree on PYTHONPATH)."""
    import json

    from wefirst.tlog.queue import canonical
    from wefirst.tlog.sequencer import Sequencer
    from wefirst.tlog.service import latest_checkpoint

    for kind, store_kind, n in _cases(args):
        with tempfile.TemporaryDirectory() as d:
            settings, db, service = fresh_service(args.database_url, Path(d), store_kind)
            before = [canonical(entry(i)) for i in range(BEFORE)]
            _queue(db, before)
            integrate_batch(service, BEFORE)
            entries = [canonical(entry(i)) for i in range(BEFORE, BEFORE + n)]
            _queue(db, entries)
            out: dict[str, Any] = {"kind": kind, "store": store_kind, "n": n}
            raw = _raw_seconds(entries)
            if kind == "round":
                t, c = time.perf_counter(), time.process_time()
                r = integrate_batch(service, n)
                out["wall"], out["cpu"] = time.perf_counter() - t, time.process_time() - c
                assert r.integrated == n, r
                out["rounds"] = 1
            else:
                seq = Sequencer(
                    service, batch_size=settings.tlog_batch_size, wait_ms=settings.tlog_batch_wait_ms
                )
                t, c = time.perf_counter(), time.process_time()
                seq.start()
                while True:
                    with db.read() as conn:
                        latest = latest_checkpoint(conn)
                    if latest is not None and latest.size == BEFORE + n:
                        break
                    time.sleep(0.01)
                out["wall"], out["cpu"] = time.perf_counter() - t, time.process_time() - c
                seq.stop()
                with db.read() as conn:
                    out["rounds"] = int(
                        conn.execute(
                            text("SELECT count(*) FROM tlog_checkpoints WHERE size > :s"), {"s": BEFORE}
                        ).scalar_one()
                    )
            raw2 = _raw_seconds(entries)
            out["raw_wall"], out["raw_cpu"] = min(raw[0], raw2[0]), min(raw[1], raw2[1])
            print(json.dumps(out), flush=True)
            service.close()
            db.dispose()


def bench_compare(args: argparse.Namespace) -> None:
    """This tree against ``--baseline-src`` in alternating fresh processes (old, new, new, old,
    …); per case the medians and their ratios."""
    import json

    if not args.baseline_src:
        raise SystemExit("--baseline-src DIR is required (a source tree: DIR/wefirst/__init__.py)")
    trees = {"old": str(Path(args.baseline_src).resolve()), "new": str(REPO / "src")}
    results: dict[tuple[str, str, str, int], list[dict[str, Any]]] = {}
    for rep in range(args.repeats):
        for label in ("old", "new") if rep % 2 == 0 else ("new", "old"):
            cmd = [sys.executable, __file__, "child", "--mode", args.what, "--entries", str(args.entries)]
            if args.database_url:
                cmd += ["--database-url", args.database_url]
            env = {**os.environ, "PYTHONPATH": trees[label]}
            out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
            for line in out.splitlines():
                if line.startswith("{"):
                    r = json.loads(line)
                    results.setdefault((r["kind"], r["store"], label, r["n"]), []).append(r)
            print(f"  repeat {rep + 1}/{args.repeats} {label} done", file=sys.stderr, flush=True)
    engine = "SQLite" if not args.database_url or args.database_url.startswith("sqlite") else "PostgreSQL"
    print(
        f"{engine}; medians of {args.repeats} runs per code; load average {os.getloadavg()[0]:.1f} at the end"
    )
    print("| case | code | rounds | wall ms | CPU ms | raw hashing ms | round vs raw (wall) | (CPU) |")
    print("|---|---|---|---|---|---|---|---|")
    speedups = []
    for key in sorted({(k, s, n) for k, s, _, n in results}):
        kind, store, n = key
        med: dict[str, dict[str, float]] = {}
        for label in ("old", "new"):
            rows = results.get((kind, store, label, n), [])
            if not rows:
                continue
            m = {
                f: statistics.median(r[f] for r in rows)
                for f in ("wall", "cpu", "raw_wall", "raw_cpu", "rounds")
            }
            med[label] = m
            print(
                f"| {kind} {n:,}, {store} tiles | {label} | {m['rounds']:.0f} | "
                f"{m['wall'] * 1000:,.1f} | {m['cpu'] * 1000:,.1f} | {m['raw_wall'] * 1000:,.1f} | "
                f"**{m['raw_wall'] / m['wall']:.3f}×** | {m['raw_cpu'] / m['cpu']:.3f}× |"
            )
        if len(med) == 2:
            speedups.append(
                f"{kind} {n:,} {store}: new is {med['old']['wall'] / med['new']['wall']:.2f}× as fast "
                f"(wall), {med['old']['cpu'] / med['new']['cpu']:.2f}× (CPU)"
            )
    print()
    for line in speedups:
        print(line)


def seed_log(db: Database, service: LogService, n: int, *, with_rows: bool) -> None:
    """Write n entries straight into tiles (and, for receipts, the entry rows) in chunks."""
    chunk = 100_000
    size = 0
    while size < n:
        count = min(chunk, n - size)
        entries = canonical_entries(size, count)
        result = compute(service.store.get, size, entries)
        note = sign_checkpoint(Checkpoint(service.origin, result.size, result.root), service.signer)
        if isinstance(service.store, DbTileStore):
            with db.write() as conn:
                service.store.write(conn, result.items)
        else:
            service.store.put_many({**result.items, "checkpoint": note.encode()})
        with db.write() as conn:
            if with_rows:
                conn.execute(
                    insert(tlog_entries),
                    [
                        {
                            "data": e,
                            "commitment": commitment_of(f"bench-{size + i}"),
                            "created_at": datetime.now(UTC),
                        }
                        for i, e in enumerate(entries)
                    ],
                )
                # The sequencer's claim, in bulk (ids start at 1 in a fresh database).
                conn.execute(
                    text(
                        "INSERT INTO tlog_index (idx, entry_id)"
                        " SELECT id - 1, id FROM tlog_entries WHERE id > :s"
                    ),
                    {"s": size},
                )
                conn.execute(text("DELETE FROM tlog_pending"))
            record_checkpoint(conn, result.size, result.root, note)
        size = result.size
        print(f"  seeded {size:,}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_proofs(args: argparse.Namespace) -> None:
    n = args.entries
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        settings, db = fresh_db(args.database_url, tmp)
        port = free_port()
        settings = settings.model_copy(update={"base_url": f"http://127.0.0.1:{port}"})
        service = LogService(settings, db)
        service.ensure_initialised()
        t = time.perf_counter()
        seed_log(db, service, n, with_rows=True)
        print(f"seeded {n:,} entries in {time.perf_counter() - t:.1f}s")
        db.dispose()
        # Start from a warm page cache (the database is ~0.6 GB for 1M entries and fits in RAM),
        # with the server's own caches empty: a restarted server on a normal machine.
        for f in tmp.glob("bench.db*"):
            with open(f, "rb") as fh:
                while fh.read(1 << 24):
                    pass
        env = {
            **os.environ,
            "WEFIRST_DATABASE_URL": settings.database_url,
            "WEFIRST_DATA_DIR": str(tmp),
            "WEFIRST_BASE_URL": settings.base_url,
            "WEFIRST_TLOG_SEQUENCER": "false",
            "WEFIRST_LOG_JSON": "false",
            "WEFIRST_DEVELOPMENT": "true",  # a local http server with a test key: past the checklist
        }
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "wefirst.app:create_app_from_env",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
        )
        try:
            base = settings.base_url
            with httpx.Client(timeout=10) as client:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        if client.get(f"{base}/log/checkpoint").status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    assert time.monotonic() < deadline, "server did not start"
                    time.sleep(0.2)
                rng = random.Random(7)
                for _ in range(200):  # warm up: connection, code paths, upper-level tiles
                    client.get(f"{base}/v1/receipts/bench-{rng.randrange(n)}")

                def measure(label: str, url_of: Callable[[], str]) -> None:
                    times = []
                    for _ in range(args.requests):
                        url = url_of()
                        t = time.perf_counter()
                        r = client.get(url)
                        times.append(time.perf_counter() - t)
                        assert r.status_code == 200, r.text
                    times.sort()
                    med = statistics.median(times) * 1000
                    p99 = times[int(len(times) * 0.99) - 1] * 1000
                    print(
                        f"{label}: {len(times)} requests, median {med:.2f} ms, p99 {p99:.2f} ms, "
                        f"max {times[-1] * 1000:.2f} ms"
                    )

                # Receipts and /healthz interleaved at random, one request at a time on the same
                # connection: both see the same load on the machine over the same minutes.
                mixed: dict[str, list[float]] = {"receipt": [], "healthz": []}
                for _ in range(2 * args.requests):
                    which = "receipt" if rng.random() < 0.5 else "healthz"
                    url = (
                        f"{base}/v1/receipts/bench-{rng.randrange(n)}"
                        if which == "receipt"
                        else f"{base}/healthz"
                    )
                    t = time.perf_counter()
                    r = client.get(url)
                    mixed[which].append(time.perf_counter() - t)
                    assert r.status_code == 200, r.text
                p99s = {}
                for which, times in mixed.items():
                    times.sort()
                    p99s[which] = times[int(len(times) * 0.99) - 1] * 1000
                    print(
                        f"interleaved {which} at {n:,} entries: {len(times)} requests, "
                        f"median {statistics.median(times) * 1000:.2f} ms, p99 {p99s[which]:.2f} ms, "
                        f"max {times[-1] * 1000:.2f} ms"
                    )
                print(f"receipt p99 / healthz p99 = {p99s['receipt'] / p99s['healthz']:.2f}")
                print(f"load average {os.getloadavg()[0]:.1f}")
                measure("GET /log/checkpoint", lambda: f"{base}/log/checkpoint")
                measure(
                    "GET /log/tile/0/<random full tile>",
                    lambda: f"{base}/log/tile/0/{encode_index(rng.randrange(n // 256))}",
                )
        finally:
            server.terminate()
            server.wait(20)
        # The same proofs without HTTP, to separate the log's own cost from the web stack's.
        settings2 = settings.model_copy()
        db2 = Database(settings2)
        service2 = LogService(settings2, db2)
        rng = random.Random(8)
        for _ in range(200):
            service2.receipt(commitment_of(f"bench-{rng.randrange(n)}"))
        times = []
        for _ in range(args.requests):
            c = commitment_of(f"bench-{rng.randrange(n)}")
            t = time.perf_counter()
            service2.receipt(c)
            times.append(time.perf_counter() - t)
        times.sort()
        print(
            f"in-process LogService.receipt(): median {statistics.median(times) * 1000:.2f} ms, "
            f"p99 {times[int(len(times) * 0.99) - 1] * 1000:.2f} ms"
        )
        service2.close()
        db2.dispose()


def bench_audit(args: argparse.Namespace) -> None:
    n = args.entries
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        settings, db = fresh_db(None, tmp)
        settings = settings.model_copy(update={"tlog_tile_dir": tmp / "log"})
        service = LogService(settings, db)
        service.ensure_initialised()
        t = time.perf_counter()
        seed_log(db, service, n, with_rows=False)
        print(f"seeded a directory log of {n:,} entries in {time.perf_counter() - t:.1f}s")
        key = service.signer.verifier.key_string
        wefirst = shutil.which("wefirst", path=str(Path(sys.executable).parent)) or "wefirst"
        args_ = ["audit", "--log", str(tmp / "log"), "--key", key]
        for label, cmd in (
            ("wefirst verify audit", [wefirst, "verify", *args_]),
            (
                "python -m wefirst.tlog.verify_cli audit",
                [sys.executable, "-m", "wefirst.tlog.verify_cli", *args_],
            ),
        ):
            t = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            peak_kib = 0
            # VmHWM is the child's own high-water mark (ru_maxrss would include this big
            # parent's memory, inherited at fork). It only grows: polling to exit loses nothing.
            while proc.poll() is None:
                try:
                    status = Path(f"/proc/{proc.pid}/status").read_text()
                    for line in status.splitlines():
                        if line.startswith("VmHWM"):
                            peak_kib = max(peak_kib, int(line.split()[1]))
                except (FileNotFoundError, ProcessLookupError, ValueError):
                    pass
                time.sleep(0.05)
            out, err = proc.communicate()
            dt = time.perf_counter() - t
            print(out.strip())
            if proc.returncode:
                print(err.strip())
            print(
                f"{label} over {n:,} entries (directory): exit {proc.returncode}, "
                f"{dt:.1f}s wall, peak RSS {peak_kib / 1024:.0f} MiB"
            )


def _wake_sample(other: Database, service: LogService, i: int) -> float:
    """Seconds from another process's commit of one entry to its checkpoint."""
    with service.db.read() as conn:
        before = latest_checkpoint(conn)
    size = before.size if before else 0
    with other.write() as conn:
        enqueue(conn, entry(i))
    start = time.perf_counter()
    while True:
        with service.db.read() as conn:
            cp = latest_checkpoint(conn)
        if cp and cp.size > size:
            return time.perf_counter() - start
        time.sleep(0.001)


def bench_wake(args: argparse.Namespace) -> None:
    """Issue 18: how long another process's entry waits for the sequencer, woken by NOTIFY
    (migration 0031) against found by the idle look (trigger dropped), the same sequencer
    settings, interleaved rounds, random gaps (the idle look's phase)."""
    if not args.database_url or args.database_url.startswith("sqlite"):
        raise SystemExit("wake needs --database-url postgresql+psycopg://… (SQLite has no NOTIFY)")
    tmp = Path(tempfile.mkdtemp(prefix="bench-wake-"))
    atexit.register(shutil.rmtree, tmp, True)
    settings, db, service = fresh_service(args.database_url, tmp, "db")
    other = Database(settings)
    seq = Sequencer(service, batch_size=settings.tlog_batch_size, wait_ms=settings.tlog_batch_wait_ms)
    seq.start()
    rng = random.Random(18)
    times: dict[str, list[float]] = {"notify": [], "idle look": []}
    trigger = (
        "CREATE TRIGGER tlog_entries_queued AFTER INSERT ON tlog_entries"
        " FOR EACH STATEMENT EXECUTE FUNCTION wefirst_tlog_queued()"
    )
    try:
        while not seq.is_leader:
            time.sleep(0.01)
        i = 0
        for _ in range(args.repeats):
            for kind in rng.sample(sorted(times), 2):
                with db.write() as conn:
                    conn.execute(text("DROP TRIGGER IF EXISTS tlog_entries_queued ON tlog_entries"))
                    if kind == "notify":
                        conn.execute(text(trigger))
                time.sleep(rng.uniform(0.0, 1.0))
                times[kind].append(_wake_sample(other, service, i))
                i += 1
    finally:
        seq.stop()
        other.dispose()
        db.dispose()
    med = {k: statistics.median(v) for k, v in times.items()}
    for kind, found in times.items():
        q = statistics.quantiles(found, n=10)
        print(f"{kind:>10}: median {med[kind] * 1000:7.1f} ms, p90 {q[-1] * 1000:7.1f} ms, n={len(found)}")
    print(f"idle look / notify (medians): {med['idle look'] / med['notify']:.1f}x")


def main() -> None:
    # SIGTERM ends through sys.exit, so the atexit hooks drop any PostgreSQL bench schema.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["integrate", "proofs", "audit", "rounds", "drain", "wake", "child"])
    parser.add_argument("--entries", type=int, default=None)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--baseline-src", default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--mode", default="rounds", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.entries is None:
        args.entries = 100_000 if args.what in ("drain", "child") else 1_000_000
    if args.what == "child":
        args.what = args.mode
        bench_child(args)
        return
    run = {
        "integrate": bench_integrate,
        "proofs": bench_proofs,
        "audit": bench_audit,
        "rounds": bench_compare,
        "drain": bench_compare,
        "wake": bench_wake,
    }
    run[args.what](args)


if __name__ == "__main__":
    main()
