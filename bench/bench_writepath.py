"""The write path over HTTP, side by side with a bare FastAPI app (issue 18).

Starts the real server (`wefirst serve`, the product's own uvicorn settings) and a bare FastAPI
app served by uvicorn with the same settings and worker count, which parses the same JSON with
the same pydantic models and answers at once. One client (httpx, keep-alive HTTP/1.1) drives
both in interleaved rounds, so both see the same machine load:

- `click`: the widget flow — a challenge per reader fetched from the real server before the
  round (not timed), then one POST /v1/widget/clicks per reader (timed);
- `purchase`: one purchase per request (POST /v1/purchases, its own Idempotency-Key);
- `batch`: POST /v1/purchases/batch with `--batch-size` orders per request, when the server
  has the endpoint (events counted per order).

For each it reports requests (events) per second, p50/p99 latency, the server's CPU per event
(uvicorn and its workers, from /proc), PostgreSQL's backend CPU per event (the backends of the
bench's own database, from /proc) and statements, transactions and pool checkouts per event
(counted inside the server's processes by bench/writepath_hooks/sitecustomize.py), with the
round's totals of rollbacks, contended group attempts (re-run with the counter lock first) and
requests sent to the writer again.

    .venv/bin/python bench/bench_writepath.py --db sqlite --db postgresql --workers 1 --workers 2

SQLite runs with one worker only (`wefirst serve` refuses several on SQLite). Loopback only;
bounded loops; the temporary directory and the PostgreSQL database are removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
ORIGIN = "https://bench-blog.example"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
HOOKS = Path(__file__).parent / "writepath_hooks"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


# -- the bare app (a child process) -------------------------------------------------------------
def bare_app() -> Any:
    """Same routes and bodies as the real endpoints, no work: what FastAPI and uvicorn cost."""
    from fastapi import FastAPI, Header

    from wefirst.api.widget import ClickIn
    from wefirst.catalog.models import Strict
    from wefirst.ingest.payloads import PurchaseBody

    class Order(PurchaseBody):
        idempotency_key: str

    class Batch(Strict):
        orders: list[Order]

    app = FastAPI()

    @app.post("/v1/widget/clicks", status_code=201)
    def click(data: ClickIn) -> dict[str, str]:
        return {"decision": "counted"}

    @app.post("/v1/purchases")
    def purchase(
        data: PurchaseBody,
        authorization: str | None = Header(None),
        idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
    ) -> dict[str, str]:
        return {"object": "purchase_result", "order_id": data.order_id}

    @app.post("/v1/purchases/batch")
    def batch(
        data: Batch,
        authorization: str | None = Header(None),
    ) -> dict[str, Any]:
        return {"object": "purchase_batch_result", "results": [{"status": 200} for _ in data.orders]}

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def serve_bare(port: int, workers: int) -> None:
    """uvicorn.run with the options `wefirst serve` passes (wefirst.cli.UVICORN_OPTIONS)."""
    import uvicorn

    from wefirst.cli import UVICORN_OPTIONS

    uvicorn.run(
        "bench_writepath:bare_app",
        host=HOST,
        port=port,
        workers=workers,
        app_dir=str(Path(__file__).parent),
        **UVICORN_OPTIONS,
    )


# -- measurement ---------------------------------------------------------------------------------
def _proc_cpu(match: Callable[[int, int, str], bool]) -> float:
    """User + system CPU seconds of the processes `match(pid, ppid, cmdline)` picks, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if match(int(entry), int(fields[1]), cmdline):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def server_cpu(pid: int) -> float:
    """The server process and its children (uvicorn's workers, multiprocessing's helpers)."""
    return _proc_cpu(lambda p, pp, _c: p == pid or pp == pid)


def pg_cpu(database: str | None) -> float:
    """PostgreSQL backends serving `database` (their title names it): other jobs on the same
    server are not counted. Background processes (WAL writer, checkpointer) are not either."""
    if database is None:
        return 0.0
    return _proc_cpu(lambda _p, _pp, c: c.startswith("postgres:") and f" {database} " in c)


def statement_counts(directory: Path) -> dict[str, int]:
    total = {"statements": 0, "transactions": 0, "rollbacks": 0, "checkouts": 0, "contended": 0, "retries": 0}
    for path in directory.glob("*.json"):
        try:
            counts = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for k in total:
            total[k] += int(counts.get(k, 0))
        for k, n in counts.items():
            if k.startswith("kind:"):
                total[k] = total.get(k, 0) + int(n)
    return total


@dataclass
class Sample:
    """One endpoint's requests over every round of one configuration."""

    events: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    cpu: float = 0.0
    pg_cpu: float = 0.0
    client_cpu: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def per_event(self, value: float) -> float:
        return value / self.events if self.events else 0.0

    def pct(self, q: float) -> float:
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, int(q * len(data)))] if data else 0.0


@dataclass
class Request:
    path: str
    body: bytes
    headers: dict[str, str]
    events: int = 1


async def drive(
    port: int, requests: Sequence[Request], concurrency: int, advance: Callable[[int], None]
) -> Sample:
    import httpx

    sample = Sample()
    queue = list(reversed(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", limits=limits, timeout=120) as client:

        async def worker() -> None:
            while queue:
                req = queue.pop()
                t0 = time.perf_counter()
                r = await client.post(req.path, content=req.body, headers=req.headers)
                sample.latencies_ms.append((time.perf_counter() - t0) * 1000)
                sample.statuses[r.status_code] = sample.statuses.get(r.status_code, 0) + 1
                sample.events += req.events
                advance(req.events)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        sample.seconds = time.perf_counter() - t0
    return sample


def _client_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# -- the servers ---------------------------------------------------------------------------------
def wait_up(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 600  # a loaded 2-core box takes minutes to import two workers
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://{HOST}:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


@contextmanager
def running(cmd: list[str], port: int, env: dict[str, str], log: Path) -> Iterator[int]:
    with open(log, "ab") as err:
        # a session of its own: stopping it stops uvicorn's workers too, even when the server
        # never finished starting (a failed start left its spawned workers running)
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    try:
        wait_up(port, proc, log)
        yield proc.pid
    finally:
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
        time.sleep(0.5)
        _signal_group(proc.pid, signal.SIGKILL)  # whatever of the group is left


def _signal_group(pgid: int, sig: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Seeded:
    brand_key: str
    click_campaign: str
    purchase_campaign: str
    publisher: str


def seed(env: dict[str, str]) -> Seeded:
    """A brand with a brand key, a click campaign joined by a publisher, a purchase campaign
    (1 unit per item of BENCH-*); no caps, so every event pledges."""
    os.environ.update(env)
    from wefirst.auth.keys import create_key
    from wefirst.catalog.models import BeneficiaryIn, BrandIn, CampaignIn
    from wefirst.catalog.service import create_beneficiary, create_brand, create_campaign
    from wefirst.settings import Settings
    from wefirst.store import migrate
    from wefirst.store.db import Database
    from wefirst.widget import publishers as pubs

    unit = {
        "labels": {"en": {"singular": "day of water", "plural": "days of water"}},
        "cost_per_unit": {"amount": 5, "currency": "EUR"},
        "cost_source": "bench",
        "cost_date": "2026-01-01",
    }

    def campaign(name: str, rules: list[dict[str, Any]]) -> CampaignIn:
        return CampaignIn.model_validate(
            {
                "name": name,
                "beneficiary_id": ben,
                "currency": "EUR",
                "starts_at": "2026-01-01T00:00:00Z",
                "status": "active",
                "impact_unit": unit,
                "rules": rules,
            }
        )

    db = Database(Settings())
    migrate.upgrade(db)
    with db.write() as conn:
        brand = create_brand(conn, BrandIn(name="Bench brand"))["id"]
        ben = create_beneficiary(conn, BeneficiaryIn(name="Bench NGO"))["id"]
        clicks = create_campaign(
            conn, brand, campaign("Clicks", [{"kind": "per_click", "units_per_click": 1}])
        )
        buys = create_campaign(
            conn,
            brand,
            campaign("Buys", [{"kind": "per_unit", "sku_patterns": ["BENCH-*"], "units_per_item": 1}]),
        )
        pub = pubs.create_publisher(conn, name="Bench blog", domains=["bench-blog.example"])
        pubs.join_campaign(conn, pub["id"], clicks["id"], approved=True)
        key, _ = create_key(conn, "brand", brand)
    db.dispose()
    return Seeded(key, str(clicks["id"]), str(buys["id"]), str(pub["id"]))


def count_pledges(env: dict[str, str], campaign: str) -> int:
    from sqlalchemy import func, select

    from wefirst.settings import Settings
    from wefirst.store.db import Database
    from wefirst.store.tables_core import pledges

    os.environ.update(env)
    db = Database(Settings())
    with db.read() as conn:
        n = conn.execute(select(func.count()).select_from(pledges).where(pledges.c.campaign_id == campaign))
        found = int(n.scalar_one())
    db.dispose()
    return found


@contextmanager
def pg_database(base: str) -> Iterator[tuple[str, str]]:
    """A fresh database named after this bench on the server at `base`, dropped at the end."""
    from sqlalchemy import create_engine, make_url, text

    name = f"bench_writepath_{secrets.token_hex(3)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False), name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- the raw-insert baseline ---------------------------------------------------------------------
#: What the server stores for one order: these tables' rows of the purchase campaign's pledges.
RAW_TABLES = ("idempotency_records", "ledger_transactions", "ledger_postings", "pledges", "tlog_entries")


@dataclass
class Raw:
    """The same rows inserted with no logic: what the database alone costs per order."""

    events: int
    executemany: list[float] = field(default_factory=list)  # seconds per pass, every pass
    copy: list[float] = field(default_factory=list)

    def rate(self, passes: list[float]) -> float:
        return self.events / median(passes) if passes else 0.0


def median(xs: list[float]) -> float:
    data = sorted(xs)
    return data[len(data) // 2]


def _stored_rows(conn: Any, campaign: str, mark: str) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Every row stored for the purchase campaign's pledges, as the driver returns them."""

    def fetch(sql: str, *params: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
        cur = conn.exec_driver_sql(sql.replace("?", mark), params if params else ())
        return list(cur.keys()), [tuple(r) for r in cur.fetchall()]

    pledge_cols, pledge_rows = fetch("SELECT * FROM pledges WHERE campaign_id = ? ORDER BY seq", campaign)
    n = len(pledge_rows)
    sub = "SELECT txn_id FROM pledges WHERE campaign_id = ?"
    return {
        "pledges": (pledge_cols, pledge_rows),
        "ledger_transactions": fetch(f"SELECT * FROM ledger_transactions WHERE id IN ({sub})", campaign),
        "ledger_postings": fetch(f"SELECT * FROM ledger_postings WHERE txn_id IN ({sub})", campaign),
        # one log entry per pledge: the newest ones (the purchase workloads run after clicks)
        "tlog_entries": fetch(f"SELECT * FROM tlog_entries ORDER BY id DESC LIMIT {n}"),
        "idempotency_records": fetch("SELECT * FROM idempotency_records"),
    }


def raw_baseline(url: str, tmp: Path, campaign: str, batch_size: int, passes: int = 3) -> Raw:
    """Insert the rows the server stored for its orders again, `batch_size` orders' rows per
    transaction, one executemany per table (and on PostgreSQL one COPY per table), into empty
    copies of the tables with their indexes: in `raw.db` next to the bench's SQLite file, or
    as `raw_*` tables (`LIKE … INCLUDING ALL`, logged like the real ones) in the bench's
    PostgreSQL database. Each pass starts empty; the median pass is reported."""
    import sqlite3

    from sqlalchemy import create_engine

    from wefirst.store.meta import metadata

    postgres = url.startswith("postgresql")
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = _stored_rows(conn, campaign, "%s" if postgres else "?")
    engine.dispose()
    events = len(stored["pledges"][1])
    raw = Raw(events)
    if not events:
        return raw
    chunks = -(-events // batch_size)

    def part(rows: list[tuple[Any, ...]], i: int) -> list[tuple[Any, ...]]:
        return rows[i * len(rows) // chunks : (i + 1) * len(rows) // chunks]

    if not postgres:
        path = tmp / "raw.db"
        sa = create_engine(f"sqlite:///{path}")
        metadata.create_all(sa, tables=[metadata.tables[t] for t in RAW_TABLES])
        sa.dispose()
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        for _ in range(passes):
            for t in RAW_TABLES:
                db.execute(f"DELETE FROM {t}")
            started = time.perf_counter()
            for i in range(chunks):
                db.execute("BEGIN IMMEDIATE")
                for t in RAW_TABLES:
                    cols, rows = stored[t]
                    marks = ", ".join("?" * len(cols))
                    db.executemany(f"INSERT INTO {t} ({', '.join(cols)}) VALUES ({marks})", part(rows, i))
                db.execute("COMMIT")
            raw.executemany.append(time.perf_counter() - started)
        db.close()
        return raw

    import psycopg
    from sqlalchemy import make_url

    pg = psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
    with pg:
        for t in RAW_TABLES:
            pg.execute(f"CREATE TABLE raw_{t} (LIKE {t} INCLUDING ALL)")
        pg.commit()
        for _ in range(passes):
            for how in ("executemany", "copy"):
                pg.execute("TRUNCATE " + ", ".join(f"raw_{t}" for t in RAW_TABLES))
                pg.commit()
                started = time.perf_counter()
                for i in range(chunks):
                    with pg.cursor() as cur:
                        for t in RAW_TABLES:
                            cols, rows = stored[t]
                            names = ", ".join(cols)
                            if how == "copy":
                                with cur.copy(f"COPY raw_{t} ({names}) FROM STDIN") as copy:
                                    for row in part(rows, i):
                                        copy.write_row(row)
                            else:
                                marks = ", ".join(["%s"] * len(cols))
                                cur.executemany(
                                    f"INSERT INTO raw_{t} ({names}) VALUES ({marks})", part(rows, i)
                                )
                    pg.commit()
                getattr(raw, how).append(time.perf_counter() - started)
    return raw


# -- the workloads -------------------------------------------------------------------------------
def purchase_body(order: str) -> dict[str, Any]:
    return {
        "order_id": order,
        "currency": "EUR",
        "occurred_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lines": [{"sku": "BENCH-1", "quantity": 1, "unit_price": {"amount": 1000, "currency": "EUR"}}],
    }


def purchase_requests(s: Seeded, n: int, tag: str) -> list[Request]:
    auth = {"Authorization": f"Bearer {s.brand_key}", "Content-Type": "application/json"}
    return [
        Request(
            "/v1/purchases",
            json.dumps(purchase_body(f"{tag}-{i}")).encode(),
            {**auth, "Idempotency-Key": f"{tag}-{i}"},
        )
        for i in range(n)
    ]


def batch_requests(s: Seeded, n: int, size: int, tag: str) -> list[Request]:
    auth = {"Authorization": f"Bearer {s.brand_key}", "Content-Type": "application/json"}
    out = []
    for start in range(0, n, size):
        orders = [
            {"idempotency_key": f"{tag}-{i}", **purchase_body(f"{tag}-{i}")}
            for i in range(start, min(n, start + size))
        ]
        out.append(Request("/v1/purchases/batch", json.dumps({"orders": orders}).encode(), auth, len(orders)))
    return out


async def challenges(port: int, s: Seeded, visitors: list[str], concurrency: int) -> list[str]:
    import httpx

    headers = {"Origin": ORIGIN, "User-Agent": UA}
    tokens: list[str] = [""] * len(visitors)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", limits=limits, timeout=120) as client:
        sem = asyncio.Semaphore(concurrency)

        async def one(i: int, v: str) -> None:
            async with sem:
                r = await client.get(
                    f"/v1/widget/campaigns/{s.click_campaign}/state",
                    params={"publisher": s.publisher, "visitor": v},
                    headers=headers,
                )
                r.raise_for_status()
                tokens[i] = r.json()["challenge"]["token"]

        await asyncio.gather(*(one(i, v) for i, v in enumerate(visitors)))
    return tokens


def click_requests(s: Seeded, visitors: list[str], tokens: list[str]) -> list[Request]:
    headers = {"Origin": ORIGIN, "User-Agent": UA, "Content-Type": "application/json"}
    return [
        Request(
            "/v1/widget/clicks",
            json.dumps(
                {"campaign": s.click_campaign, "publisher": s.publisher, "visitor": v, "challenge": t}
            ).encode(),
            headers,
        )
        for v, t in zip(visitors, tokens, strict=True)
    ]


# -- one configuration ---------------------------------------------------------------------------
@dataclass
class Result:
    database: str
    workers: int
    workload: str
    real: Sample
    bare: Sample
    raw: Raw | None = None  # the batch workload's raw-insert baseline


def run_config(args: argparse.Namespace, database: str, workers: int, progress: Any) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="wefirst-bench-writepath-") as tmp_name:
        tmp = Path(tmp_name)
        if database == "postgresql":
            with pg_database(args.pg) as (url, name):
                if args.baseline is None:
                    return _run_config(args, tmp, url, name, workers, progress, None)
                with pg_database(args.pg) as (old_url, old_name):
                    return _run_config(args, tmp, url, name, workers, progress, (old_url, old_name))
        old = (f"sqlite:///{tmp}/before.db", None) if args.baseline else None
        return _run_config(args, tmp, f"sqlite:///{tmp}/bench.db", None, workers, progress, old)


@dataclass
class Server:
    """A real server under test: this checkout's code, or (`--baseline`) an older one, each on
    a database of its own seeded alike."""

    name: str
    url: str
    pg_name: str | None
    env: dict[str, str]
    seeded: Seeded
    counts_dir: Path
    port: int
    cmd: list[str]
    server_env: dict[str, str]
    sample: Sample = field(default_factory=Sample)


def _server(name: str, tmp: Path, url: str, pg_name: str | None, workers: int, source: Path | None) -> Server:
    counts_dir = tmp / f"counts-{name}"
    counts_dir.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "WEFIRST_DATABASE_URL": url,
        "WEFIRST_DATA_DIR": str(tmp / name),
        "WEFIRST_BASE_URL": f"http://{HOST}:{port}",
        "WEFIRST_SECRET_KEY": "bench-" + "s" * 40,
        "WEFIRST_LOG_JSON": "false",
        "WEFIRST_DEVELOPMENT": "true",  # no https base URL, no witness keys: loopback only
        # One loopback address plays every reader: lift the per-network limits (the checks and
        # their queries still run on every click). The proof of work is the reader's cost, not
        # the server's (one hash to check): the bench client does not solve it.
        "WEFIRST_WIDGET_NETWORK_ATTEMPTS_PER_MINUTE": str(10**9),
        "WEFIRST_WIDGET_NETWORK_COUNTED_PER_DAY": str(10**9),
        "WEFIRST_WIDGET_NETWORK_COUNTED_PER_DAY_ALL_CAMPAIGNS": str(10**9),
        "WEFIRST_WIDGET_POW_BITS_DEFAULT": "0",
    }
    (tmp / name).mkdir()
    seeded = seed(env)  # with this checkout's code: the schema is the same (no migration between)
    path = [str(HOOKS), *([str(source)] if source else []), env.get("PYTHONPATH")]
    server_env = {
        **env,
        "PYTHONPATH": os.pathsep.join(filter(None, path)),
        "WEFIRST_BENCH_STATEMENTS_DIR": str(counts_dir),
    }
    cmd = [sys.executable, "-m", "wefirst.cli", "serve", "--port", str(port), "--workers", str(workers)]
    return Server(name, url, pg_name, env, seeded, counts_dir, port, cmd, server_env)


def _run_config(
    args: argparse.Namespace,
    tmp: Path,
    url: str,
    pg_name: str | None,
    workers: int,
    progress: Any,
    old: tuple[str, str | None] | None,
) -> list[Result]:
    new = _server("real", tmp, url, pg_name, workers, None)
    servers = [new] if old is None else [_server("before", tmp, old[0], old[1], workers, args.baseline), new]
    bare_port = free_port()
    bare_cmd = [sys.executable, __file__, "serve-bare", "--port", str(bare_port), "--workers", str(workers)]
    label = f"{'SQLite' if pg_name is None else 'PostgreSQL'}, {workers} worker(s)"
    database = "SQLite" if pg_name is None else "PostgreSQL"
    results: list[Result] = []
    with ExitStack() as stack:
        pids = {
            s.name: stack.enter_context(running(s.cmd, s.port, s.server_env, tmp / f"{s.name}.log"))
            for s in servers
        }
        bare_pid = stack.enter_context(running(bare_cmd, bare_port, new.env, tmp / "bare.log"))
        batch_ok = "batch" in args.workload and all(_has_batch(s.port, s.seeded) for s in servers)
        for workload in args.workload:
            if workload == "batch" and not batch_ok:
                progress.console.print(f"[yellow]{label}: no /v1/purchases/batch on this server; skipped")
                continue
            per_round = -(-args.events // args.rounds)
            task = progress.add_task(
                f"{label}: {workload}", total=(len(servers) + 1) * per_round * args.rounds
            )
            bare = Sample()
            for s in servers:
                s.sample = Sample()
            visitors = [
                hashlib.sha256(f"bench-{workers}-{i}".encode()).hexdigest() for i in range(args.events)
            ]
            for r in range(args.rounds):
                tag = f"{workload}-{r}-{secrets.token_hex(3)}"
                chunk = visitors[r * per_round : (r + 1) * per_round]
                # every server under test, then the bare one, in every round (the baseline
                # first in even rounds, last in odd ones: neither always follows the bare app)
                order = servers if r % 2 == 0 else list(reversed(servers))
                reqs: list[Request] = []
                for s in order:
                    if workload == "click":
                        tokens = asyncio.run(challenges(s.port, s.seeded, chunk, args.concurrency))
                        time.sleep(0.7)  # the minimum click delay after a challenge (600 ms)
                        reqs = click_requests(s.seeded, chunk, tokens)
                    elif workload == "purchase":
                        reqs = purchase_requests(s.seeded, len(chunk), tag)
                    else:
                        reqs = batch_requests(s.seeded, len(chunk), args.batch_size, tag)
                    _measure(
                        s.sample, s.port, reqs, args, pids[s.name], s.pg_name, s.counts_dir, task, progress
                    )
                _measure(bare, bare_port, reqs, args, bare_pid, None, None, task, progress)
            for s in servers:
                name = database if s is new else f"before: {database}"
                results.append(Result(name, workers, workload, s.sample, bare))
    for s in servers:
        mine = [x for x in results if x.database.startswith("before") == (s is not new)]
        for x in mine:
            if x.workload == "batch" and s is new:  # the servers are stopped: the database is the baseline's
                x.raw = raw_baseline(s.url, tmp, s.seeded.purchase_campaign, args.batch_size)
        expected = sum(x.real.events for x in mine if x.workload != "click")
        pledged = count_pledges(s.env, s.seeded.purchase_campaign)
        if pledged != expected:
            progress.console.print(
                f"[red]{label} ({s.name}): {pledged} purchase pledges for {expected} orders sent"
            )
        clicks = sum(x.real.events for x in mine if x.workload == "click")
        counted = count_pledges(s.env, s.seeded.click_campaign)
        if counted != clicks:
            progress.console.print(
                f"[red]{label} ({s.name}): {counted} click pledges for {clicks} clicks sent"
            )
    return results


def _has_batch(port: int, s: Seeded) -> bool:
    import httpx

    r = httpx.post(
        f"http://{HOST}:{port}/v1/purchases/batch",
        json={"orders": []},
        headers={"Authorization": f"Bearer {s.brand_key}"},
    )
    return r.status_code not in (404, 405)


def _measure(
    into: Sample,
    port: int,
    reqs: list[Request],
    args: argparse.Namespace,
    pid: int,
    pg_name: str | None,
    counts_dir: Path | None,
    task: Any,
    progress: Any,
) -> None:
    before = statement_counts(counts_dir) if counts_dir else {}
    cpu0, pg0, client0 = server_cpu(pid), pg_cpu(pg_name), _client_cpu()
    got = asyncio.run(drive(port, reqs, args.concurrency, lambda n: progress.advance(task, n)))
    time.sleep(0.5)  # the log sequencer integrates the round's entries: its CPU counts here
    got.cpu, got.pg_cpu = server_cpu(pid) - cpu0, pg_cpu(pg_name) - pg0
    got.client_cpu = _client_cpu() - client0
    if counts_dir:
        after = statement_counts(counts_dir)
        got.counts = {
            k: after[k] - before.get(k, 0)
            for k in after
            if after[k] != before.get(k, 0) or not k.startswith("kind:")
        }
    into.events += got.events
    into.seconds += got.seconds
    into.latencies_ms += got.latencies_ms
    into.cpu += got.cpu
    into.pg_cpu += got.pg_cpu
    into.client_cpu += got.client_cpu
    for status, n in got.statuses.items():
        into.statuses[status] = into.statuses.get(status, 0) + n
    for name, n in got.counts.items():
        into.counts[name] = into.counts.get(name, 0) + n


# -- report --------------------------------------------------------------------------------------
COLUMNS = (
    "database",
    "workers",
    "workload",
    "events/s (bare)",
    "ratio",
    "p50 ms",
    "p99 ms",
    "CPU ms/event (bare)",
    "CPU ratio",
    "PG CPU ms/event",
    "statements/event",
    "txns/event",
    "checkouts/event",
    "rollbacks / contended / retries",
    "statuses",
)


def rows(results: list[Result]) -> list[list[str]]:
    out = []
    for x in results:
        real, bare = x.real, x.bare
        cpu, bare_cpu = real.per_event(real.cpu) * 1000, bare.per_event(bare.cpu) * 1000
        out.append(
            [
                x.database,
                str(x.workers),
                x.workload,
                f"{real.rate:,.0f} ({bare.rate:,.0f})",
                f"{real.rate / bare.rate:.3f}" if bare.rate else "-",
                f"{real.pct(0.5):.1f}",
                f"{real.pct(0.99):.1f}",
                f"{cpu:.2f} ({bare_cpu:.2f})",
                f"{bare_cpu / cpu:.2f}" if cpu else "-",
                f"{real.per_event(real.pg_cpu) * 1000:.2f}" if x.database.endswith("PostgreSQL") else "-",
                f"{real.per_event(real.counts.get('statements', 0)):.1f}",
                f"{real.per_event(real.counts.get('transactions', 0)):.2f}",
                f"{real.per_event(real.counts.get('checkouts', 0)):.2f}",
                " / ".join(str(real.counts.get(k, 0)) for k in ("rollbacks", "contended", "retries")),
                " ".join(f"{k}:{v}" for k, v in sorted(real.statuses.items())),
            ]
        )
    return out


def markdown(results: list[Result]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(r) + " |" for r in rows(results)]
    return "\n".join(lines + scaling(results) + raw_table(results))


def scaling(results: list[Result]) -> list[str]:
    """Events/s with N workers over events/s with one, per database and workload, beside the
    bare app's own: what the machine lets a second worker add (on a shared 2-core machine the
    bare app itself may gain nothing, and then neither can the real one)."""
    one = {(x.database, x.workload): x for x in results if x.workers == 1}
    out = []
    for x in results:
        base = one.get((x.database, x.workload))
        if x.workers > 1 and base and base.real.rate and base.bare.rate:
            real, bare = x.real.rate / base.real.rate, x.bare.rate / base.bare.rate
            out.append(f"| {x.database} | {x.workload} | {x.workers} | {real:.2f} | {bare:.2f} |")
    head = [
        "",
        "| database | workload | workers | events/s vs 1 worker | bare app's events/s vs 1 worker |",
        "|---|---|---|---|---|",
    ]
    return head + out if out else []


def raw_table(results: list[Result]) -> list[str]:
    """The batch endpoint against inserting the same rows with no logic (`raw_baseline`)."""
    out = []
    for x in results:
        if x.raw is None or not x.raw.events:
            continue
        em, cp = x.raw.rate(x.raw.executemany), x.raw.rate(x.raw.copy)
        out.append(
            f"| {x.database} | {x.workers} | {x.raw.events} | {x.real.rate:,.0f} | {em:,.0f} | "
            f"{x.real.rate / em:.3f} | " + (f"{cp:,.0f} | {x.real.rate / cp:.3f} |" if cp else "- | - |")
        )
    head = [
        "",
        "| database | workers | orders | batch endpoint orders/s | raw executemany orders/s | ratio "
        "| raw COPY orders/s | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    return head + out if out else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", nargs="?", default="bench", choices=["bench", "serve-bare"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--db", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--workers", type=int, action="append")
    parser.add_argument("--workload", action="append", choices=["click", "purchase", "batch"])
    parser.add_argument("--events", type=int, default=1000, help="events per workload and configuration")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument(
        "--pg", default=os.environ.get("WEFIRST_BENCH_PG", PG_DEFAULT), help="PostgreSQL server"
    )
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a source directory holding an older `wefirst` package (e.g. `git archive <commit> src`"
        " unpacked, its src/): served too, on a database of its own, in the same interleaved rounds",
    )
    args = parser.parse_args()
    if args.mode == "serve-bare":
        serve_bare(args.port, (args.workers or [1])[0])
        return
    args.db = args.db or ["sqlite", "postgresql"]
    args.workers = args.workers or [1, 2]
    args.workload = args.workload or ["click", "purchase", "batch"]
    if not 1 <= args.events <= 200_000 or not 1 <= args.rounds <= 100 or not 1 <= args.concurrency <= 256:
        parser.error("--events 1..200000, --rounds 1..100, --concurrency 1..256")
    if not 1 <= args.batch_size <= 1000:
        parser.error("--batch-size 1..1000")

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console()
    results: list[Result] = []
    started = time.time()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        for database in args.db:
            for workers in args.workers:
                if database == "sqlite" and workers > 1:
                    progress.console.print("[yellow]SQLite: `wefirst serve` refuses several workers; skipped")
                    continue
                got = run_config(args, database, workers, progress)
                results += got
                # each configuration as soon as it is done: a later one failing loses nothing
                progress.console.print(markdown(got), markup=False, soft_wrap=True)
                for x in got:
                    kinds = sorted(
                        ((n, k[5:]) for k, n in x.real.counts.items() if k.startswith("kind:")), reverse=True
                    )
                    for n, k in kinds[:14]:
                        progress.console.print(
                            f"  {x.database} {x.workers} {x.workload}: {x.real.per_event(n):5.2f}  {k}",
                            markup=False,
                        )
                if args.markdown:
                    args.markdown.write_text(markdown(results) + "\n")
    # a markdown table: too wide for a terminal table, and pasted as is into docs/benchmarks.md
    print(
        f"write path vs bare FastAPI, concurrency {args.concurrency}, {args.rounds} rounds, "
        f"{args.events} events"
    )
    print(markdown(results))
    load = os.getloadavg()
    console.print(
        f"{os.cpu_count()} CPUs, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; "
        f"{time.time() - started:.0f} s; ratio = events/s of the real server / the bare app's; "
        "CPU ratio = bare CPU per event / real CPU per event"
    )
    if args.markdown:
        args.markdown.write_text(markdown(results) + "\n")


if __name__ == "__main__":
    main()
