"""Webhook deliveries per second: verified and stored (acknowledged), and processed to pledges,
against the bare signature check of the same bodies in the same run.

Bodies are the spec's Shopify `orders/create` fixture (≈10 KB, 3 lines, one matching the
campaign) with a distinct order id and line ids each, signed with the connection's secret.

- bare check: `verify_base64_hmac` over each body (what a receiver cannot avoid);
- acknowledged: `inbox.receive` — secret lookup and decryption, signature, header and body
  checks, durable insert of the raw delivery and counters, one transaction per delivery
  (what happens before the 2xx; HTTP framing excluded);
- acknowledged, concurrent: the same from many threads at once through the group-commit
  writer the API uses (`store.groupcommit`) (each receiver still waits for its own commit);
- acknowledged over HTTP: the same through the ASGI app with FastAPI's TestClient, one request
  at a time (adds routing, problem handling and the in-process HTTP client);
- processed: `process_pending` — re-parse, per-line counters, pledge through
  `pledges.engine.apply_purchase` (ledger + log queue), one transaction per delivery.

    .venv/bin/python bench/bench_connectors.py [--deliveries 1000] [--pg URL | --no-pg]
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

from wefirst.app import create_app
from wefirst.catalog import service
from wefirst.catalog.models import BeneficiaryIn, BrandIn, CampaignIn
from wefirst.domain.clock import utcnow
from wefirst.ingest.connectors import accounts, inbox, processing
from wefirst.ingest.connectors.records import Source
from wefirst.ingest.connectors.signatures import b64_hmac_sha256, verify_base64_hmac
from wefirst.secretbox import SecretBox
from wefirst.settings import Settings
from wefirst.store import migrate
from wefirst.store.db import Database
from wefirst.store.groupcommit import GroupCommit

FIXTURE = Path(__file__).resolve().parents[1] / "tests/assets/connectors/shopify/orders_create.json"
SECRET = "bench-shopify-secret-" + "x" * 24
console = Console()


def setup(url: str) -> tuple[Settings, Database, SecretBox, str]:
    settings = Settings(
        database_url=url,
        secret_key="bench-" + "k" * 40,
        connectors_process_after_ack=False,
        connectors_worker_interval_seconds=0,
        tlog_sequencer=False,
    )
    db = Database(settings)
    migrate.upgrade(db)
    box = SecretBox.from_settings(settings)
    with db.write() as conn:
        brand = service.create_brand(conn, BrandIn(name="Bench"))
        ben = service.create_beneficiary(conn, BeneficiaryIn(name="Bench NGO"))
        service.create_campaign(
            conn,
            brand["id"],
            CampaignIn.model_validate(
                {
                    "name": "bench",
                    "beneficiary_id": ben["id"],
                    "currency": "EUR",
                    "starts_at": "2026-01-01T00:00:00Z",
                    "status": "active",
                    "impact_unit": {
                        "labels": {"en": {"singular": "dose", "plural": "doses"}},
                        "cost_per_unit": {"amount": 30, "currency": "EUR"},
                        "cost_source": "bench",
                        "cost_date": "2026-01-01",
                    },
                    "rules": [{"kind": "per_unit", "sku_patterns": ["PAMPERS-*"], "units_per_item": 1}],
                    "caps": {"total_units": 10**9},
                }
            ),
        )
    return settings, db, box, brand["id"]


def connection(db: Database, box: SecretBox, brand_id: str) -> tuple[str, str]:
    shop = f"bench-{secrets.token_hex(4)}.myshopify.com"
    with db.write() as conn:
        info = accounts.create_connection(
            conn,
            box,
            brand_id=brand_id,
            platform=Source.SHOPIFY,
            account=shop,
            name=None,
            secret=SECRET,
            livemode=True,
        )
    return info.id, shop


def deliveries(n: int, shop: str) -> list[tuple[bytes, dict[str, str]]]:
    order = json.loads(FIXTURE.read_bytes())
    out = []
    base = 7_000_000_000_000 + secrets.randbelow(10**9) * 1000
    for i in range(n):
        order["id"] = base + i
        for j, item in enumerate(order["line_items"]):
            item["id"] = (base + i) * 10 + j
        body = json.dumps(order, separators=(",", ":"), ensure_ascii=False).encode()
        out.append(
            (
                body,
                {
                    "content-type": "application/json",
                    "x-shopify-topic": "orders/create",
                    "x-shopify-shop-domain": shop,
                    "x-shopify-event-id": f"bench-{base + i}",
                    "x-shopify-hmac-sha256": b64_hmac_sha256(SECRET, body),
                },
            )
        )
    return out


def commit_floor(db: Database, n: int) -> float:
    """One tiny row per transaction: what the disk allows before any of our work."""
    with db.write() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_commit_floor (i INTEGER)"))

    def go() -> None:
        for i in range(n):
            with db.write() as conn:
                conn.execute(text("INSERT INTO bench_commit_floor VALUES (:i)"), {"i": i})

    value = rate(n, go, "floor")
    with db.write() as conn:
        conn.execute(text("DROP TABLE bench_commit_floor"))
    return value


CPU: dict[str, list[float]] = {}


def _verify_all(batch: list[tuple[bytes, dict[str, str]]]) -> list[object]:
    return [verify_base64_hmac(body, h["x-shopify-hmac-sha256"], [SECRET]) for body, h in batch]


def rate(n: int, fn: Callable[[], Any], stage: str = "") -> float:
    """Deliveries per second of wall time; per second of this process's CPU time is kept in
    `CPU[stage]` (the fairer figure on a shared machine; it excludes the PostgreSQL server)."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    CPU.setdefault(stage, []).append(n / max(time.process_time() - cpu, 1e-9))
    return n / (time.perf_counter() - start)


def run(
    name: str, url: str, n: int, repeats: int, group: int, threads: int
) -> list[tuple[str, str, float, int, float]]:
    settings, db, box, brand_id = setup(url)
    rows: list[tuple[str, str, float, int, float]] = []
    bare: list[float] = []
    ack: list[float] = []
    ack_http: list[float] = []
    done: list[float] = []
    floor: list[float] = []
    ack_concurrent: list[float] = []
    group_sizes: list[float] = []
    for _ in range(repeats):
        floor.append(commit_floor(db, min(n, 300)))
        con_id, shop = connection(db, box, brand_id)
        batch = deliveries(n, shop)
        bare.append(
            rate(
                n,
                partial(_verify_all, batch),
                f"{name}/bare",
            )
        )

        cache = inbox.ConnectionCache()

        def receive_all(
            b: list[tuple[bytes, dict[str, str]]] = batch, c: str = con_id, k: inbox.ConnectionCache = cache
        ) -> None:
            for body, headers in b:
                got = inbox.receive(
                    inbox.Receiver(db, box, cache=k),
                    connection_id=c,
                    platform=Source.SHOPIFY,
                    headers=headers,
                    body=body,
                    now=utcnow(),
                )
                assert got.status == "queued"

        ack.append(rate(n, receive_all, f"{name}/ack"))
        # the same, from `threads` concurrent receivers sharing commits (the group-commit writer)
        con_c, shop_c = connection(db, box, brand_id)
        batch_c = deliveries(n, shop_c)
        writer = GroupCommit(db, name="connector-inbox", max_group=256)
        cache_c = inbox.ConnectionCache()

        def receive_concurrently(
            b: list[tuple[bytes, dict[str, str]]] = batch_c,
            c: str = con_c,
            w: GroupCommit = writer,
            k: inbox.ConnectionCache = cache_c,
        ) -> None:
            def worker(part: list[tuple[bytes, dict[str, str]]]) -> None:
                for body, headers in part:
                    got = inbox.receive(
                        inbox.Receiver(db, box, cache=k, writer=w),
                        connection_id=c,
                        platform=Source.SHOPIFY,
                        headers=headers,
                        body=body,
                        now=utcnow(),
                    )
                    assert got.status == "queued"

            pool = [threading.Thread(target=worker, args=(b[i::threads],)) for i in range(threads)]
            for t in pool:
                t.start()
            for t in pool:
                t.join()

        ack_concurrent.append(rate(n, receive_concurrently, f"{name}/ack_concurrent"))
        writer.stop()
        group_sizes.append(writer.items / max(1, writer.groups))

        def process_all(c: str = con_id) -> None:
            summary = processing.process_pending(
                db, box, processing.live_remotes, connection_id=c, limit=n, group=group
            )
            assert summary.counts == {"processed": n}, summary.counts

        done.append(rate(n, process_all, f"{name}/processed"))
        # over HTTP, into a fresh connection (the in-process ASGI path, one request at a time)
        con_http, shop_http = connection(db, box, brand_id)
        http_batch = deliveries(n, shop_http)
        app = create_app(settings, db=db)
        with TestClient(app) as client:

            def post_all(b: list[tuple[bytes, dict[str, str]]] = http_batch, c: str = con_http) -> None:
                for body, headers in b:
                    r = client.post(f"/v1/connectors/{c}/shopify", content=body, headers=headers)
                    assert r.status_code == 200, r.text

            ack_http.append(rate(n, post_all, f"{name}/http"))

    def cpu(stage: str) -> float:
        return statistics.median(CPU.get(f"{name}/{stage}", [0.0]))

    rows.append((name, "bare signature check (HMAC over the body)", statistics.median(bare), n, cpu("bare")))
    rows.append((name, "storage floor: 1-row insert + commit", statistics.median(floor), min(n, 300), 0.0))
    rows.append((name, "acknowledged: verified + stored (service)", statistics.median(ack), n, cpu("ack")))
    rows.append(
        (
            name,
            f"acknowledged, {threads} concurrent receivers (group commit, "
            f"≈{statistics.median(group_sizes):.0f}/txn)",
            statistics.median(ack_concurrent),
            n,
            cpu("ack_concurrent"),
        )
    )
    rows.append(
        (name, "acknowledged over HTTP (TestClient, serial)", statistics.median(ack_http), n, cpu("http"))
    )
    rows.append(
        (name, f"processed to pledges ({group} deliveries/txn)", statistics.median(done), n, cpu("processed"))
    )
    db.dispose()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deliveries", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--group", type=int, default=50, help="deliveries per processing txn")
    ap.add_argument("--threads", type=int, default=16, help="concurrent receivers")
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    targets = [("SQLite (file, WAL)", f"sqlite:///{tmp / 'bench.db'}")]
    schema = f"bench_connectors_{secrets.token_hex(3)}"
    admin = None
    if not args.no_pg:
        admin = create_engine(args.pg)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        targets.append(("PostgreSQL", f"{args.pg}?options={quote(f'-csearch_path={schema}')}"))
    table = Table(
        title=f"Connector deliveries/s, median of {args.repeats} ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)"
    )
    for col in ("database", "stage", "deliveries/s (wall)", "× bare check", "per CPU-second", "n"):
        table.add_column(col, justify="right")
    try:
        for name, url in targets:
            rows = run(name, url, args.deliveries, args.repeats, args.group, args.threads)
            bare = rows[0][2]
            for db_name, stage, value, n, per_cpu in rows:
                table.add_row(
                    db_name,
                    stage,
                    f"{value:,.0f}",
                    f"{value / bare:.4f}",
                    f"{per_cpu:,.0f}" if per_cpu else "",
                    str(n),
                )
    finally:
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    console.print(table)


if __name__ == "__main__":
    main()
