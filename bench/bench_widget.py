"""Counted widget clicks per second over HTTP on loopback, against a bare FastAPI endpoint that
accepts the same JSON and answers 200, both served the same way (uvicorn, same worker count,
one server at a time) and driven by the same client in the same run.

The widget path is the real one: signed challenge check and single-use nonce, origin check,
dedupe slot, per-visitor and per-network rate-limit reads, the per-click rule, ledger postings,
the pledge, the log-queue entry and the decision row, in one transaction. Challenges are fetched
over HTTP from the server (GET state) before the timed part, one per distinct visitor, as each
reader's widget would; the timed part is the clicks only.

    .venv/bin/python bench/bench_widget.py --clicks 2000 --concurrency 8

Loopback only; bounded loops; temporary files are removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wefirst.api.widget import ClickIn as WidgetClickIn  # the same JSON model as the real endpoint

HOST = "127.0.0.1"
ORIGIN = "https://bench-blog.example"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


# -- servers (run in child processes) ----------------------------------------------------------
def widget_app() -> Any:
    """The real app, plus the bare endpoint mounted inside it: that line of the table shows
    what the app's own middleware (metrics, request log) costs before any widget logic."""
    from wefirst.app import create_app_from_env

    app = create_app_from_env()
    for route in bare_app().routes:
        if getattr(route, "path", "") == "/v1/widget/clicks":
            app.add_api_route("/bench/bare", route.endpoint, methods=["POST"])
    # Matched first, like the widget router, so the line measures the app, not route order.
    app.router.routes.insert(0, app.router.routes.pop())
    return app


def serve_widget(port: int, workers: int) -> None:
    import uvicorn

    uvicorn.run(
        "bench_widget:widget_app",
        factory=True,
        host=HOST,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        app_dir=str(Path(__file__).parent),
    )


def bare_app() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/v1/widget/clicks")
    def click(data: WidgetClickIn) -> dict[str, str]:
        return {"decision": "ok"}

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def serve_bare(port: int, workers: int) -> None:
    import uvicorn

    uvicorn.run(
        "bench_widget:bare_app",
        factory=True,
        host=HOST,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        app_dir=str(Path(__file__).parent),
    )


# -- a minimal keep-alive HTTP/1.1 client, so the load generator costs little CPU --------------
class Conn:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        assert self.reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}"]
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@dataclass
class Run:
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]
    cpu: float = 0.0  # CPU seconds of the server process (and its children) during the run

    @property
    def cpu_ms(self) -> float:
        return self.cpu * 1000 / max(1, len(self.latencies_ms))

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def add(self, other: Run) -> None:
        self.cpu += other.cpu
        self.seconds += other.seconds
        self.latencies_ms += other.latencies_ms
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n

    def pct(self, q: float) -> float:
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, int(q * len(data)))]


async def drive(
    port: int, requests: Sequence[tuple[str, str, bytes | None]], concurrency: int, headers: dict[str, str]
) -> tuple[Run, list[bytes]]:
    latencies: list[float] = []
    bodies: list[bytes] = [b""] * len(requests)
    statuses: dict[int, int] = {}
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        conn = Conn(port)
        try:
            while next_index < len(requests):
                i = next_index
                next_index += 1
                method, path, body = requests[i]
                t0 = time.perf_counter()
                status, answer = await conn.request(method, path, body, headers)
                latencies.append((time.perf_counter() - t0) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
                bodies[i] = answer
        finally:
            conn.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Run(time.perf_counter() - start, latencies, statuses), bodies


def wait_up(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited: " + (proc.stderr.read().decode() if proc.stderr else ""))
        try:
            status, _ = asyncio.run(Conn(port).request("GET", "/healthz"))
            if status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (uvicorn workers), from /proc: on a
    machine shared with other jobs, CPU per request is the figure that does not depend on them."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def start(kind: str, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, __file__, kind, "--port", str(port), "--workers", str(workers)],
        env=env,
        stderr=subprocess.PIPE,
    )
    wait_up(port, proc)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def setup(url: str, env: dict[str, str]) -> tuple[str, str]:
    os.environ.update(env)
    from wefirst.catalog.models import BeneficiaryIn, BrandIn, CampaignIn
    from wefirst.catalog.service import create_beneficiary, create_brand, create_campaign
    from wefirst.settings import Settings
    from wefirst.store import migrate
    from wefirst.store.db import Database
    from wefirst.widget import publishers as pubs

    db = Database(Settings())
    migrate.upgrade(db)
    with db.write() as conn:
        brand = create_brand(conn, BrandIn(name="Bench brand"))["id"]
        ben = create_beneficiary(conn, BeneficiaryIn(name="Bench NGO"))["id"]
        campaign = create_campaign(
            conn,
            brand,
            CampaignIn.model_validate(
                {
                    "name": "Bench",
                    "beneficiary_id": ben,
                    "currency": "EUR",
                    "starts_at": "2026-01-01T00:00:00Z",
                    "status": "active",
                    "impact_unit": {
                        "labels": {"en": {"singular": "day of water", "plural": "days of water"}},
                        "cost_per_unit": {"amount": 5, "currency": "EUR"},
                        "cost_source": "bench",
                        "cost_date": "2026-01-01",
                    },
                    "rules": [{"kind": "per_click", "units_per_click": 1}],
                }
            ),
        )["id"]
        pub = pubs.create_publisher(conn, name="Bench blog", domains=["bench-blog.example"])
        pubs.join_campaign(conn, pub["id"], campaign, approved=True)
    db.dispose()
    return str(campaign), str(pub["id"])


def count_rows(env: dict[str, str], campaign: str) -> tuple[int, int, int]:
    from sqlalchemy import func, select

    from wefirst.settings import Settings
    from wefirst.store.db import Database
    from wefirst.store.tables_core import pledges
    from wefirst.store.tables_widget import widget_decisions

    db = Database(Settings())
    with db.read() as conn:
        n_pledges = conn.execute(
            select(func.count()).select_from(pledges).where(pledges.c.campaign_id == campaign)
        ).scalar_one()
        counted = conn.execute(
            select(func.count()).select_from(widget_decisions).where(widget_decisions.c.reason == "counted")
        ).scalar_one()
        queued = (
            conn.exec_driver_sql("SELECT count(*) FROM tlog_entries").scalar_one()
            if _has_table(conn, "tlog_entries")
            else -1
        )
    db.dispose()
    return int(n_pledges), int(counted), int(queued)


def _has_table(conn: Any, name: str) -> bool:
    from sqlalchemy import inspect

    return bool(inspect(conn).has_table(name))


def pg_schema(base: str) -> tuple[str, Any]:
    """A fresh schema on the PostgreSQL server at `base`, dropped by the returned callable."""
    import secrets
    from urllib.parse import quote

    from sqlalchemy import create_engine, text

    schema = f"bench_widget_{secrets.token_hex(4)}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", nargs="?", default="bench", choices=["bench", "serve-widget", "serve-bare"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--clicks", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--database-url",
        default=None,
        help="postgresql+psycopg://… to run on PostgreSQL (a fresh schema is made and "
        "dropped); default: a temporary SQLite file",
    )
    args = parser.parse_args()
    if args.mode == "serve-widget":
        serve_widget(args.port, args.workers)
        return
    if args.mode == "serve-bare":
        serve_bare(args.port, args.workers)
        return
    if not 1 <= args.clicks <= 100_000 or not 1 <= args.concurrency <= 256 or not 1 <= args.rounds <= 100:
        parser.error("--clicks 1..100000, --concurrency 1..256, --rounds 1..100")

    drop_schema = None
    with tempfile.TemporaryDirectory(prefix="wefirst-bench-widget-") as tmp:
        port = free_port()
        database_url = f"sqlite:///{tmp}/bench.db"
        if args.database_url:
            database_url, drop_schema = pg_schema(args.database_url)
        env = {
            **os.environ,
            "WEFIRST_DATABASE_URL": database_url,
            "WEFIRST_DATA_DIR": tmp,
            "WEFIRST_BASE_URL": f"http://{HOST}:{port}",
            "WEFIRST_SECRET_KEY": "bench-" + "s" * 40,
            "WEFIRST_LOG_JSON": "false",
            # One loopback address plays every reader: lift the per-network limits, keep the
            # checks (they still run, with their queries, on every click).
            "WEFIRST_WIDGET_NETWORK_ATTEMPTS_PER_MINUTE": str(10**9),
            "WEFIRST_WIDGET_NETWORK_COUNTED_PER_DAY": str(10**9),
        }
        campaign, publisher = setup(env["WEFIRST_DATABASE_URL"], env)
        visitors = [hashlib.sha256(f"bench-visitor-{i}".encode()).hexdigest() for i in range(args.clicks)]
        headers = {"Origin": ORIGIN, "User-Agent": UA}

        bare_port = free_port()
        procs = [
            start("serve-widget", port, args.workers, env),
            start("serve-bare", bare_port, args.workers, env),
        ]
        try:
            state_requests = [
                ("GET", f"/v1/widget/campaigns/{campaign}/state?publisher={publisher}&visitor={v}", None)
                for v in visitors
            ]
            state_run, states = asyncio.run(drive(port, state_requests, args.concurrency, headers))
            assert state_run.statuses == {200: args.clicks}, state_run.statuses
            tokens = [json.loads(s)["challenge"]["token"] for s in states]
            clicks = [
                json.dumps(
                    {"campaign": campaign, "publisher": publisher, "visitor": v, "challenge": t}
                ).encode()
                for v, t in zip(visitors, tokens, strict=True)
            ]
            time.sleep(0.7)  # the minimum click delay after a challenge (600 ms by default)
            # Rounds alternate between the endpoints so that all three see the same machine load
            # (the bench machine is shared; a run of one after the other measures the neighbours).
            widget_run, in_app_run, bare_run = Run(0, [], {}), Run(0, [], {}), Run(0, [], {})
            answers: list[bytes] = []
            size = -(-len(clicks) // args.rounds)
            widget_pid, bare_pid = procs[0].pid, procs[1].pid
            for r in range(args.rounds):
                chunk = clicks[r * size : (r + 1) * size]
                cpu0 = cpu_seconds(widget_pid)
                run, got = asyncio.run(
                    drive(port, [("POST", "/v1/widget/clicks", b) for b in chunk], args.concurrency, headers)
                )
                time.sleep(0.5)  # let the log sequencer integrate this round's entries: its CPU counts here
                run.cpu = cpu_seconds(widget_pid) - cpu0
                widget_run.add(run)
                answers += got
                cpu0 = cpu_seconds(widget_pid)
                run, _ = asyncio.run(
                    drive(port, [("POST", "/bench/bare", b) for b in chunk], args.concurrency, headers)
                )
                run.cpu = cpu_seconds(widget_pid) - cpu0
                in_app_run.add(run)
                cpu0 = cpu_seconds(bare_pid)
                run, _ = asyncio.run(
                    drive(
                        bare_port,
                        [("POST", "/v1/widget/clicks", b) for b in chunk],
                        args.concurrency,
                        headers,
                    )
                )
                run.cpu = cpu_seconds(bare_pid) - cpu0
                bare_run.add(run)
        finally:
            for proc in procs:
                stop(proc)
        decisions: dict[str, int] = {}
        for a in answers:
            d = json.loads(a).get("decision", "?")
            decisions[d] = decisions.get(d, 0) + 1

        n_pledges, n_counted, queued = count_rows(env, campaign)
        if drop_schema is not None:
            drop_schema()

    ratio = widget_run.rate / bare_run.rate
    print(
        f"server: uvicorn, {args.workers} worker(s), "
        f"{'PostgreSQL' if args.database_url else 'SQLite (WAL)'}; client: asyncio keep-alive "
        f"HTTP/1.1, {args.concurrency} connections; {args.clicks} clicks in {args.rounds} "
        "alternating rounds; "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{'endpoint':<28}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'CPU ms/req':>12}")
    for name, run in (
        ("GET state (challenge)", state_run),
        ("POST click (widget path)", widget_run),
        ("POST bare, inside the app", in_app_run),
        ("POST bare FastAPI", bare_run),
    ):
        cpu = f"{run.cpu_ms:>12.2f}" if run.cpu else f"{'':>12}"
        print(
            f"{name:<28}{run.rate:>9.0f}{run.pct(0.5):>9.1f}{run.pct(0.99):>9.1f}"
            f"{max(run.latencies_ms):>9.1f}{cpu}"
        )
    print(
        f"by server CPU per request: widget/bare {bare_run.cpu_ms / widget_run.cpu_ms:.2f}, "
        f"widget/bare-inside-the-app {in_app_run.cpu_ms / widget_run.cpu_ms:.2f}"
    )
    print(f"widget/bare ratio: {ratio:.2f}  (goal >= 0.5, p99 <= 50 ms)")
    print(
        f"decisions: {decisions}; pledges: {n_pledges}; counted rows: {n_counted}; "
        f"log entries: {queued}; statuses: {widget_run.statuses}"
    )
    if in_app_run.statuses != {200: args.clicks} or bare_run.statuses != {200: args.clicks}:
        sys.exit(f"bare endpoints failed: {in_app_run.statuses} {bare_run.statuses}")
    if decisions != {"counted": args.clicks} or n_pledges != args.clicks:
        sys.exit("not every click was counted exactly once")
    print("mean widget latency", f"{statistics.fmean(widget_run.latencies_ms):.1f} ms")


if __name__ == "__main__":
    main()
