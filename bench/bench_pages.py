"""Page timings with a big database: time to first byte and full load of the campaign and
scorecard pages (and the home page), with 1,000,000 log entries and 100,000 posts.

Seeding: brands, beneficiaries and campaigns go through the catalog service; pledges are
bulk-inserted with the same rows the ledger service writes (transaction, balanced postings
from `ledger.accounts.pledge`, pledge row, canonical log entry from `tlog.queue.canonical`),
half of them in one big campaign (the one timed), the rest spread over 19 others; log indexes
are assigned in order (no tiles: these pages do not read them). Posts and their brand mentions
are bulk-inserted over the last 90 days, 70% about the timed brand.

Timing: the real app (create_app) under uvicorn on loopback, one worker. For each page, the
first request after start (cold: the page roll-ups read the whole ledger of the campaign) and
then --requests warm requests, measured three ways: server time (an ASGI wrapper around the
app), time to first byte and full body at the HTTP client, and in Chromium (navigation timing:
responseStart and loadEventEnd, stylesheet and scripts included).

    .venv/bin/python bench/bench_pages.py                    # 1,000,000 entries, 100,000 posts
    .venv/bin/python bench/bench_pages.py --entries 100000 --posts 10000 --requests 10

Loopback only; bounded loops; the temporary database is removed at the end (unless --keep).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def campaign_in(ben_id: str, name: str) -> Any:
    from wefirst.catalog.models import CampaignIn

    return CampaignIn.model_validate(
        {
            "name": name,
            "beneficiary_id": ben_id,
            "currency": "EUR",
            "starts_at": "2026-01-01T00:00:00Z",
            "ends_at": "2027-12-31T00:00:00Z",
            "impact_unit": {
                "labels": {
                    "en": {"singular": "tetanus vaccine", "plural": "tetanus vaccines"},
                    "fr": {"singular": "vaccin", "plural": "vaccins"},
                },
                "cost_per_unit": {"amount": 30, "currency": "EUR"},
                "cost_source": "bench",
                "cost_date": "2026-01-15",
                "mode": "funds",
            },
            "rules": [{"kind": "per_unit", "sku_patterns": ["SKU-*"], "units_per_item": 1}],
            "status": "active",
        }
    )


def seed(db: Any, entries: int, posts: int, rng: random.Random) -> dict[str, Any]:
    from sqlalchemy import insert, text

    from wefirst.catalog import service as catalog
    from wefirst.catalog.models import BeneficiaryIn, BrandIn
    from wefirst.domain.ids import new_id
    from wefirst.ledger import accounts
    from wefirst.ledger import service as ledger
    from wefirst.store.tables_core import ledger_postings, ledger_transactions, pledges
    from wefirst.store.tables_tlog import tlog_entries
    from wefirst.store.tables_voice import voice_mentions, voice_posts
    from wefirst.tlog.queue import canonical

    t0 = time.perf_counter()
    with db.write() as conn:
        brand_ids = [catalog.create_brand(conn, BrandIn(name=f"Brand {i}"))["id"] for i in range(5)]
        ben = catalog.create_beneficiary(conn, BeneficiaryIn(name="Vaccines for All"))["id"]
        campaigns = [
            catalog.create_campaign(conn, brand_ids[i % 5], campaign_in(ben, f"Campaign {i}"))["id"]
            for i in range(20)
        ]
    big = campaigns[0]
    start = datetime(2026, 3, 1, tzinfo=UTC)
    now = datetime.now(UTC)
    chunk = 20_000
    done = 0
    while done < entries:
        n = min(chunk, entries - done)
        txns: list[Any] = []
        posts_rows: list[Any] = []
        pledge_rows: list[Any] = []
        log_rows: list[Any] = []
        for k in range(n):
            i = done + k
            cid = big if i % 2 == 0 else campaigns[1 + (i // 2) % 19]
            brand = brand_ids[campaigns.index(cid) % 5]
            at = start + timedelta(seconds=int((now - start).total_seconds() * i / entries))
            qty = 1 + (i % 3)
            txn, plg = new_id("txn"), new_id("plg")
            commitment = hashlib.sha256(f"bench-{i}".encode()).hexdigest()
            txns.append(
                {
                    "id": txn,
                    "kind": "pledge",
                    "campaign_id": cid,
                    "ref_id": plg,
                    "occurred_at": at,
                    "received_at": at,
                    "created_at": at,
                }
            )
            posts_rows.extend(
                {
                    "txn_id": txn,
                    "campaign_id": cid,
                    "account": p.account,
                    "commodity": p.commodity,
                    "amount": p.amount,
                }
                for p in accounts.pledge("EUR", qty * 30, qty)
            )
            pledge_rows.append(
                {
                    "id": plg,
                    "campaign_id": cid,
                    "line_key": f"o{i}:1",
                    "source": "api",
                    "rule": "per_unit",
                    "order_hash": None,
                    "sku": "SKU-1",
                    "quantity": qty,
                    "units": qty,
                    "money": qty * 30,
                    "currency": "EUR",
                    "impact_unit_version": 1,
                    "commitment": commitment,
                    "txn_id": txn,
                    "occurred_at": at,
                    "received_at": at,
                    "created_at": at,
                }
            )
            entry = {
                "v": 1,
                "kind": "pledge",
                "txn": txn,
                "campaign": cid,
                "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "pledge": plg,
                "brand": brand,
                "beneficiary": ben,
                "source": "api",
                "rule": "per_unit",
                "quantity": qty,
                "units": qty,
                "money": {"amount": qty * 30, "currency": "EUR"},
                "commitment": commitment,
            }
            log_rows.append({"data": canonical(entry), "commitment": commitment, "created_at": at})
        with db.write() as conn:
            conn.execute(insert(ledger_transactions), txns)
            conn.execute(insert(ledger_postings), posts_rows)
            conn.execute(insert(pledges), pledge_rows)
            conn.execute(insert(tlog_entries), log_rows)
        done += n
        print(f"\r  seeded {done:,}/{entries:,} log entries", end="", file=sys.stderr)
    print(file=sys.stderr)
    with db.write() as conn:
        loaded = catalog.load_campaign(conn, big).campaign
        for month in range(3, 11):
            ledger.report_settlement(
                conn,
                loaded,
                amount=100_000,
                external_reference=f"S{month}",
                paid_at=datetime(2026, month, 28, tzinfo=UTC),
                # small runs (--entries 20000) owe less than the 8 payments: say why, as a brand must
                beyond_owed_reason="bench: fixed monthly payments whatever the pledges so far",
            )
            ledger.report_delivery(
                conn,
                loaded,
                units=3000,
                period_start=date(2026, month, 1),
                period_end=date(2026, month, 28),
                evidence_url=f"https://ngo.example/{month}.pdf",
                note=None,
                beyond_funded_reason="bench: fixed monthly deliveries whatever the pledges so far",
            )
        # the log's order: every entry gets its index (the sequencer's job, without tiles)
        conn.execute(text("INSERT INTO tlog_index (idx, entry_id) SELECT id - 1, id FROM tlog_entries"))
        conn.execute(text("DELETE FROM tlog_pending"))
    seeded_log = time.perf_counter() - t0

    t1 = time.perf_counter()
    words = ["great", "awful", "late", "thanks", "vaccine", "price", "refund", "love"]
    done = 0
    while done < posts:
        n = min(chunk, posts - done)
        prow, mrow = [], []
        for k in range(n):
            i = done + k
            created = now - timedelta(seconds=rng.randrange(90 * 86400))
            sentiment = rng.choice(["positive", "negative", "neutral"])
            prow.append(
                {
                    "seq": i + 1,
                    "source": "mastodon",
                    "external_id": f"https://m.example/{i}",
                    "author_hash": f"{i % 5000:032x}",
                    "language": "en",
                    "created_at": created,
                    "text": f"Brand 0 {rng.choice(words)} {rng.choice(words)}",
                    "url": None,
                    "replies": 0,
                    "reposts": 0,
                    "likes": i % 7,
                    "sentiment": sentiment,
                    "sentiment_score": 0.5,
                    "reason": None,
                    "hidden": False,
                    "ingested_at": now,
                }
            )
            brand = brand_ids[0] if i % 10 < 7 else brand_ids[1 + i % 4]
            mrow.append(
                {
                    "post_seq": i + 1,
                    "brand_id": brand,
                    "language": "en",
                    "hour": created.replace(minute=0, second=0, microsecond=0),
                    "polarity": sentiment,
                }
            )
        with db.write() as conn:
            conn.execute(insert(voice_posts), prow)
            conn.execute(insert(voice_mentions), mrow)
        done += n
    seeded_posts = time.perf_counter() - t1
    return {
        "brand": brand_ids[0],
        "ben": ben,
        "late_receipt": f"bench-{entries - 2 if entries % 2 == 0 else entries - 1}",
        "campaign": big,
        "small": campaigns[1],
        "seed_log_s": seeded_log,
        "seed_posts_s": seeded_posts,
    }


class Timed:
    """ASGI wrapper: the server's time to build each response (request in → response headers
    out; these pages are rendered whole before the headers), as a Server-Timing header."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def timed_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                took = (time.perf_counter() - start) * 1000
                message["headers"] = [
                    *message.get("headers", []),
                    (b"server-timing", f"app;dur={took:.2f}".encode()),
                ]
            await send(message)

        await self.app(scope, receive, timed_send)


def serve_child(folder: str, port: int) -> None:
    """The server process: the real app, wrapped for Server-Timing, one uvicorn worker."""
    import uvicorn

    from wefirst.app import create_app

    app = Timed(create_app(bench_settings(Path(folder))))
    uvicorn.run(app, host=HOST, port=port, log_level="warning", lifespan="off", access_log=False)


def bench_settings(folder: Path) -> Any:
    from wefirst.settings import Settings

    return Settings(
        database_url=f"sqlite:///{folder / 'bench.db'}",
        data_dir=folder,
        secret_key="bench-" + "x" * 32,
        tlog_sequencer=False,
        log_json=False,
    )


def start_server(folder: Path) -> tuple[Any, str]:
    import socket
    import subprocess

    import httpx

    with socket.socket() as s:
        s.bind((HOST, 0))
        port = s.getsockname()[1]
    child = subprocess.Popen([sys.executable, __file__, "--serve", str(folder), str(port)])
    base = f"http://{HOST}:{port}"
    # Importing the app on the shared 2-core box under other test runs took over 60 s.
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/healthz", timeout=1)
            return child, base
        except httpx.HTTPError:
            time.sleep(0.1)
    child.kill()
    raise RuntimeError("the page server did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to report CPU per request whatever
    else the machine is doing."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f}"


def p90(values: list[float]) -> str:
    ordered = sorted(values)
    return f"{ordered[int(0.9 * (len(ordered) - 1))] * 1000:.1f}"


def http_times(base: str, path: str, n: int) -> dict[str, Any]:
    import httpx

    ttfb, full, server = [], [], []
    with httpx.Client(base_url=base, timeout=120) as client:
        for _ in range(n):
            t = time.perf_counter()
            with client.stream("GET", path) as r:
                first = time.perf_counter()
                body = r.read()
                end = time.perf_counter()
            # a receipt whose entry awaits its checkpoint answers 202, with its story told
            assert r.status_code in (200, 202), (path, r.status_code)
            ttfb.append(first - t)
            full.append(end - t)
            server.append(float(r.headers["server-timing"].split("dur=")[1]) / 1000)
    return {"ttfb": ttfb, "full": full, "server": server, "bytes": len(body)}


def browser_times(base: str, paths: list[str], n: int) -> dict[str, dict[str, list[float]]]:
    from playwright.sync_api import sync_playwright

    out: dict[str, dict[str, list[float]]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        for path in paths:
            ttfb, load = [], []
            for _ in range(n):
                page.goto(base + path, wait_until="load")
                nav = page.evaluate("performance.getEntriesByType('navigation')[0].toJSON()")
                ttfb.append((nav["responseStart"] - nav["requestStart"]) / 1000)
                load.append((nav["loadEventEnd"] - nav["startTime"]) / 1000)
            out[path] = {"ttfb": ttfb, "load": load}
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--browser-loads", type=int, default=10)
    parser.add_argument("--keep", type=Path, help="keep the database in this folder")
    parser.add_argument("--reuse", action="store_true", help="--keep folder already seeded")
    parser.add_argument("--serve", nargs=2, metavar=("FOLDER", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_child(args.serve[0], int(args.serve[1]))
        return

    from wefirst.store import migrate
    from wefirst.store.db import Database

    folder = args.keep or Path(tempfile.mkdtemp(prefix="wefirst-bench-pages-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = Database(bench_settings(folder))
    if args.reuse:
        seeded = reused(db)
    else:
        migrate.upgrade(db)
        print(f"seeding {args.entries:,} log entries and {args.posts:,} posts ...", file=sys.stderr)
        seeded = seed(db, args.entries, args.posts, random.Random(7))
    db.dispose()
    child, base = start_server(folder)
    pages = {
        "campaign, 50% of the log": f"/campaigns/{seeded['campaign']}",
        "campaign, 2.6% of the log": f"/campaigns/{seeded['small']}",
        "brand scorecard (70% of the posts)": f"/brands/{seeded['brand']}",
        "home (20 active campaigns)": "/",
        "campaigns index (20)": "/campaigns",
        "beneficiary page (20 campaigns, 8 payments, 8 deliveries)": f"/beneficiaries/{seeded['ben']}",
        "log explorer (newest 50 entries in words)": "/log",
        "receipt of the last pledge in the 50% campaign": f"/receipts/{seeded['late_receipt']}",
        "cases index": "/cases",
        # the same server's answer with no page work: under a shared machine's load every
        # median grows, the ratio to this one much less
        "baseline: /healthz": "/healthz",
    }
    rows = []
    try:
        for label, path in pages.items():
            cold = http_times(base, path, 1)
            cpu0 = cpu_seconds(child.pid)
            warm = http_times(base, path, args.requests)
            cpu = (cpu_seconds(child.pid) - cpu0) / args.requests
            rows.append((label, cold, warm, cpu))
            print(
                f"  {label}: cold {cold['server'][0] * 1000:.0f} ms, warm server median "
                f"{ms(warm['server'])} ms, CPU {cpu * 1000:.0f} ms/request",
                file=sys.stderr,
            )
        loads = browser_times(base, list(pages.values()), args.browser_loads)
    finally:
        child.terminate()
        child.wait(timeout=10)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    if "seed_log_s" in seeded:
        print(
            f"\nSeeded {args.entries:,} log entries in {seeded['seed_log_s']:.0f} s and "
            f"{args.posts:,} posts in {seeded['seed_posts_s']:.0f} s (SQLite, bulk inserts)."
        )
    with open("/proc/loadavg") as fh:
        print(f"Load average during the run: {fh.read().split()[0]} (2 cores).\n")
    print(
        "| page | first view: server | server median / p90 | × baseline (median) | server CPU per "
        "request | TTFB median | full body median | Chromium TTFB / load median | HTML |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    base_median = statistics.median(rows[-1][2]["server"])
    for (label, cold, warm, cpu), path in zip(rows, pages.values(), strict=True):
        b = loads[path]
        print(
            f"| {label} | {cold['server'][0] * 1000:.0f} ms | {ms(warm['server'])} / "
            f"{p90(warm['server'])} ms | {statistics.median(warm['server']) / base_median:.1f}× | "
            f"{cpu * 1000:.0f} ms | {ms(warm['ttfb'])} ms | "
            f"{ms(warm['full'])} ms | {ms(b['ttfb'])} / {ms(b['load'])} ms | "
            f"{warm['bytes'] // 1024} KiB |"
        )


def reused(db: Any) -> dict[str, Any]:
    from sqlalchemy import func, select

    from wefirst.store.tables_core import campaigns
    from wefirst.store.tables_voice import voice_mentions

    with db.read() as conn:
        ids = [r.id for r in conn.execute(select(campaigns.c.id).order_by(campaigns.c.seq))]
        brand = conn.execute(
            select(voice_mentions.c.brand_id, func.count().label("n"))
            .group_by(voice_mentions.c.brand_id)
            .order_by(func.count().desc())
            .limit(1)
        ).first()
    from wefirst.store.tables_core import beneficiaries, pledges

    with db.read() as conn:
        ben = conn.execute(select(beneficiaries.c.id)).scalar()
        total = conn.execute(select(func.count()).select_from(pledges)).scalar_one()
    last_even = total - 2 if total % 2 == 0 else total - 1
    return {
        "campaign": ids[0],
        "small": ids[1],
        "brand": brand.brand_id if brand else "",
        "ben": ben,
        "late_receipt": f"bench-{last_even}",
    }


if __name__ == "__main__":
    main()
