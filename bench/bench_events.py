"""Events applied per second through the whole pledge path, against raw inserts.

Full path per event: validate the request body (pydantic), idempotency (look up + store the
answer), rules with carried remainders, cap check under the counter-row lock, ledger
transaction with balanced postings, pledge row, log-queue entry. Baseline: one small row per
event inserted through the same driver with the same batching, in the same run.

    .venv/bin/python bench/bench_events.py [--events 2000] [--repeats 3] [--pg URL] [--profile]
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rich.console import Console
from rich.table import Table
from sqlalchemy import Column, Integer, MetaData, String, create_engine, insert, text
from sqlalchemy import Table as SaTable

from wefirst.auth.keys import create_key
from wefirst.catalog import service
from wefirst.catalog.models import BeneficiaryIn, BrandIn, CampaignIn
from wefirst.ingest.idempotency import Pending, apply_once, request_fingerprint
from wefirst.ingest.payloads import PurchaseBody
from wefirst.pledges import engine
from wefirst.pledges.batch import Batch
from wefirst.pledges.model import LineIn, PurchaseIn
from wefirst.settings import Settings
from wefirst.store import migrate
from wefirst.store.db import Database

console = Console(width=160)
raw_meta = MetaData()
raw = SaTable(
    "bench_raw",
    raw_meta,
    Column("id", Integer, primary_key=True),
    Column("k", String(64)),
    Column("v", Integer),
)


def setup(url: str) -> tuple[Database, str]:
    db = Database(Settings(database_url=url))
    migrate.upgrade(db)
    raw_meta.create_all(db.engine)
    with db.write() as conn:
        brand = service.create_brand(conn, BrandIn(name="Bench"))
        ben = service.create_beneficiary(conn, BeneficiaryIn(name="Bench NGO"))
        create_key(conn, "brand", brand["id"])
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
                    "rules": [{"kind": "per_unit", "sku_patterns": ["P-*"], "units_per_item": 1}],
                    "caps": {"total_units": 10**9},
                }
            ),
        )
    return db, brand["id"]


def bodies(n: int, tag: str) -> list[bytes]:
    return [
        json.dumps(
            {
                "order_id": f"{tag}-{i}",
                "currency": "EUR",
                "occurred_at": "2026-03-14T10:00:00Z",
                "lines": [{"sku": "P-1", "quantity": 2, "unit_price": {"amount": 2499, "currency": "EUR"}}],
            }
        ).encode()
        for i in range(n)
    ]


def parse(body: bytes) -> PurchaseIn:
    """Validation, as the API does it (pydantic model of the request body)."""
    data = PurchaseBody.model_validate_json(body)
    return PurchaseIn(
        order_id=data.order_id,
        currency=data.currency,
        occurred_at=data.occurred_at,
        lines=[LineIn(x.sku, x.quantity, x.unit_price.amount, str(i + 1)) for i, x in enumerate(data.lines)],
    )


def full_event(
    conn: Any,
    batch: Batch,
    pending: Pending,
    brand_id: str,
    body: bytes,
    key: str,
    purchase: PurchaseIn,
) -> None:
    def work(c: Any) -> tuple[int, Any]:
        results = engine.apply_purchase(c, brand_id=brand_id, purchase=purchase, batch=batch)
        return 200, {"results": [r.as_json("http://bench") for r in results]}

    apply_once(
        conn,
        scope="bench",
        key=key,
        fingerprint=request_fingerprint("POST", "/v1/purchases", body),
        work=work,
        pending=pending,
    )


def run_full(db: Database, brand_id: str, n: int, batch: int) -> float:
    tag = secrets.token_hex(4)
    payload = bodies(n, tag)
    start = time.perf_counter()
    for i in range(0, n, batch):
        with db.write() as conn:
            unit_of_work, pending = Batch(conn), Pending()
            chunk = payload[i : i + batch]
            keys = [f"{tag}-{i + j}" for j in range(len(chunk))]
            parsed = [parse(body) for body in chunk]
            pending.prefetch(conn, "bench", keys)
            unit_of_work.prefetch_purchases(brand_id, parsed)
            for body, key, purchase in zip(chunk, keys, parsed, strict=True):
                full_event(conn, unit_of_work, pending, brand_id, body, key, purchase)
            unit_of_work.flush()
            pending.flush(conn)
    return n / (time.perf_counter() - start)


def run_raw(db: Database, n: int, batch: int) -> float:
    tag = secrets.token_hex(4)
    rows = [{"k": f"{tag}-{i}", "v": i} for i in range(n)]
    start = time.perf_counter()
    for i in range(0, n, batch):
        with db.write() as conn:
            chunk = rows[i : i + batch]
            if batch == 1:
                conn.execute(insert(raw).values(**chunk[0]))
            else:
                conn.execute(insert(raw), chunk)
    return n / (time.perf_counter() - start)


def total_rows(db: Database) -> int:
    """Rows in every wefirst table: the full path writes several per event."""
    from sqlalchemy import func, select

    from wefirst.store.schema import metadata

    with db.read() as conn:
        return sum(
            conn.execute(select(func.count()).select_from(t)).scalar_one() for t in metadata.sorted_tables
        )


def median_of(repeats: int, fn: Callable[[], float]) -> float:
    return statistics.median(fn() for _ in range(repeats))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--one-by-one", type=int, default=300)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    targets = [("SQLite (file, WAL)", f"sqlite:///{tmp / 'bench.db'}")]
    schema = f"bench_{secrets.token_hex(3)}"
    admin = None
    if args.pg:
        admin = create_engine(args.pg)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        targets.append(("PostgreSQL", f"{args.pg}?options={quote(f'-csearch_path={schema}')}"))
    table = Table(title=f"Events/s, median of {args.repeats} ({datetime.now(UTC):%Y-%m-%d})")
    for col in (
        "database",
        "mode",
        "full path ev/s",
        "raw insert rows/s",
        "ratio",
        "rows written/event",
        "full path rows/s ÷ raw rows/s",
    ):
        table.add_column(col, justify="right")
    try:
        for name, url in targets:
            db, brand_id = setup(url)
            for mode, n, batch in (("batch", args.events, args.batch), ("one-by-one", args.one_by_one, 1)):
                before = total_rows(db)
                full = median_of(args.repeats, partial(run_full, db, brand_id, n, batch))
                per_event = (total_rows(db) - before) / (n * args.repeats)
                base = median_of(args.repeats, partial(run_raw, db, n, batch))
                table.add_row(
                    name,
                    f"{mode} ({batch}/txn)",
                    f"{full:,.0f}",
                    f"{base:,.0f}",
                    f"{full / base:.3f}",
                    f"{per_event:.1f}",
                    f"{full * per_event / base:.3f}",
                )
            if args.profile and name.startswith("SQLite"):
                from pyinstrument import Profiler

                prof = Profiler()
                prof.start()
                run_full(db, brand_id, args.events, args.batch)
                prof.stop()
                console.print(prof.output_text(unicode=True, color=False, show_all=False))
            db.dispose()
    finally:
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    console.print(table)


if __name__ == "__main__":
    main()
