"""Social actions per second from a recorded Jetstream stream, against parsing it alone.

Full path per frame: JSON parse, Jetstream commit → social actions (social/jetstream.py),
rule matching, account criteria (age, posts, bot, burst: an indexed range query), the
once-per-account check, pledge with carried remainders under the campaign's locked counter
row, ledger transaction, pledge row, `social_actions` row, log-queue entry with the action's
commitment — in engine batches of `--batch` frames per transaction (what a poll does).
Baseline in the same run: the same frames through JSON parse + Jetstream parse only.

The stream is recorded once per run from a fixed seed, in the Jetstream v1 wire format: likes
and reposts of the brand's post by many accounts (some repeated, some from accounts that fail
the criteria), likes of other posts (noise that matches no rule) and posts with the hashtag.

Also measured: SQL statements per action on the full path (counted on the engine), and the
time from an action on the fake network to its pledge on the campaign page — a like emitted
on `FakeJetstream` (a real websocket on 127.0.0.1), followed by the live follower
(social/follow.py, its default 0.5 s round) and read back from `GET /campaigns/{id}` (the
page's social tally), median over `--latency-n` actions.

    .venv/bin/python bench/bench_social.py [--frames 5000] [--repeats 3] [--batch 500] [--latency-n 20]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import event

from wefirst.app import create_app
from wefirst.catalog import service
from wefirst.catalog.models import BeneficiaryIn, BrandIn, CampaignIn
from wefirst.domain.social import Account
from wefirst.outbound import OutboundPolicy
from wefirst.pledges.batch import Batch
from wefirst.pledges.social import apply_social_action, prefetch_seen
from wefirst.settings import Settings
from wefirst.social.fakenet import FakeJetstream, FakeNetwork
from wefirst.social.follow import SocialFollower
from wefirst.social.jetstream import actions_of, parse_frame
from wefirst.store import migrate
from wefirst.store.db import Database

console = Console(width=140)
BRAND_POST = "at://did:plc:pampybrand00000000000000/app.bsky.feed.post/3lbrandpost22"
START = datetime(2026, 3, 14, 9, tzinfo=UTC)


def record_stream(frames: int, seed: int = 16) -> tuple[list[str], dict[str, Account]]:
    rng = random.Random(seed)
    accounts = [f"did:plc:{i:024d}" for i in range(max(frames // 2, 10))]
    profiles: dict[str, Account] = {}
    for i, did in enumerate(accounts):
        young = rng.random() < 0.1
        created = START - timedelta(days=2 if young else 60 + i % 900, hours=i % 24)
        profiles[did] = Account(did, created, 0 if rng.random() < 0.05 else 50, bot=rng.random() < 0.03)
    lines = []
    for n in range(frames):
        did = rng.choice(accounts)
        t = int((START + timedelta(seconds=n)).timestamp() * 1_000_000)
        r = rng.random()
        rec: dict[str, object]
        if r < 0.1:
            tag = {"$type": "app.bsky.richtext.facet#tag", "tag": "DoudouVaccins"}
            rec = {
                "$type": "app.bsky.feed.post",
                "text": "#DoudouVaccins",
                "createdAt": "2026-03-14T09:00:00Z",
                "facets": [{"features": [tag], "index": {"byteStart": 0, "byteEnd": 14}}],
            }
            collection = "app.bsky.feed.post"
        else:
            subject = BRAND_POST if r < 0.8 else f"at://did:plc:other/app.bsky.feed.post/{n}"
            collection = "app.bsky.feed.like" if r < 0.55 or r >= 0.8 else "app.bsky.feed.repost"
            rec = {
                "$type": collection,
                "subject": {"uri": subject, "cid": "bafy"},
                "createdAt": "2026-03-14T09:00:00Z",
            }
        lines.append(json.dumps({"did": did, "time_us": t, "kind": "commit", "commit": {
            "rev": f"r{n}", "operation": "create", "collection": collection, "rkey": f"k{n}", "record": rec,
            "cid": "bafy"}}))  # fmt: skip
    return lines, profiles


def setup(url: str) -> tuple[Database, str]:
    db = Database(Settings(database_url=url))
    migrate.upgrade(db)
    crit = {"min_account_age_days": 30, "min_posts": 5, "burst_window_hours": 1, "burst_max": 20}
    rules = [
        {"kind": "per_social_action", "action": a, "network": "bluesky", "target": t, "units_per_action": 1,
         "criteria": crit}
        for a, t in (("like", BRAND_POST), ("repost", BRAND_POST), ("hashtag_post", "#DoudouVaccins"))
    ]  # fmt: skip
    with db.write() as conn:
        brand = service.create_brand(conn, BrandIn(name="Bench"))
        ben = service.create_beneficiary(conn, BeneficiaryIn(name="Bench NGO"))
        body = {
            "name": "bench social", "beneficiary_id": ben["id"], "currency": "EUR",
            "starts_at": "2026-01-01T00:00:00Z", "status": "active", "rules": rules,
            "impact_unit": {"labels": {"en": {"singular": "dose", "plural": "doses"}},
                            "cost_per_unit": {"amount": 30, "currency": "EUR"}, "cost_source": "bench",
                            "cost_date": "2026-01-01"},
        }  # fmt: skip
        cid = service.create_campaign(conn, brand["id"], CampaignIn.model_validate(body))["id"]
    return db, str(cid)


def parse_only(lines: list[str], profiles: dict[str, Account]) -> float:
    t0 = time.perf_counter()
    n = 0
    for line in lines:
        frame = parse_frame(line)
        if frame is not None:
            n += len(actions_of(frame, profiles))
    assert n > 0
    return time.perf_counter() - t0


def full_path(
    lines: list[str], profiles: dict[str, Account], batch_size: int
) -> tuple[float, dict[str, int], int]:
    with tempfile.TemporaryDirectory() as tmp:
        db, cid = setup(f"sqlite:///{Path(tmp) / 'bench.db'}")
        outcomes: dict[str, int] = {}
        statements = [0]

        @event.listens_for(db.engine, "before_cursor_execute")
        def _count(*_: object) -> None:
            statements[0] += 1

        t0 = time.perf_counter()
        for i in range(0, len(lines), batch_size):
            with db.write() as conn:
                batch = Batch(conn)
                frames = [f for line in lines[i : i + batch_size] if (f := parse_frame(line)) is not None]
                acts = [a for f in frames for a in actions_of(f, profiles)]
                prefetch_seen(batch, cid, acts)  # as the follower and a poll do
                for a in acts:
                    o = apply_social_action(conn, cid, a, received_at=a.occurred_at, batch=batch).outcome
                    outcomes[o] = outcomes.get(o, 0) + 1
                batch.flush()
        elapsed = time.perf_counter() - t0
        event.remove(db.engine, "before_cursor_execute", _count)
        db.dispose()
    return elapsed, outcomes, statements[0]


def latency(n: int) -> list[float]:
    """Seconds from each like on the fake network to the campaign page showing it counted."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'latency.db'}"
        db, cid = setup(url)
        now = datetime.now(UTC)
        net = FakeNetwork(now=now, bsky_host="appview.example")
        for i in range(n):
            net.account(f"fan{i:03d}", now - timedelta(days=400 + i), 50)
        js = FakeJetstream()
        js.start()
        net.jetstream = js
        policy = OutboundPolicy(resolver=lambda host, port: ["93.184.216.34"])
        follower = SocialFollower(
            db, lambda: httpx.Client(transport=policy.transport(httpx.MockTransport(net.handle))),
            jetstream_url=js.url, poll_seconds=3600, bsky_base="https://appview.example",
        )  # fmt: skip
        follower.start()
        out: list[float] = []
        row = re.compile(r"<td>Bluesky</td><td>like</td><td class=\"num\">(\d+)</td>")
        try:
            app = create_app(Settings(database_url=url, secret_key="bench-" + "x" * 32), db=db)
            with TestClient(app) as web:
                deadline = time.monotonic() + 60
                while not js.paths and time.monotonic() < deadline:
                    time.sleep(0.01)
                for i in range(n):
                    t0 = time.perf_counter()
                    net.bsky_act(f"fan{i:03d}", "like", BRAND_POST, datetime.now(UTC))
                    while True:
                        m = row.search(web.get(f"/campaigns/{cid}").text)
                        if m and int(m.group(1)) > i:
                            break
                        if time.perf_counter() - t0 > 60:
                            raise SystemExit(f"like {i} not on the page after 60 s")
                    out.append(time.perf_counter() - t0)
        finally:
            follower.stop()
            js.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--latency-n", type=int, default=20)
    args = ap.parse_args()
    lines, profiles = record_stream(args.frames)
    parse_times, full_times = [], []
    outcomes: dict[str, int] = {}
    with Progress(console=console) as progress:
        task = progress.add_task("repeats", total=args.repeats)
        for _ in range(args.repeats):
            parse_times.append(parse_only(lines, profiles))
            elapsed, outcomes, statements = full_path(lines, profiles, args.batch)
            full_times.append(elapsed)
            progress.advance(task)
    parse_rate = args.frames / statistics.median(parse_times)
    full_rate = args.frames / statistics.median(full_times)
    table = Table(title=f"social actions, SQLite, {args.frames} Jetstream frames, median of {args.repeats}")
    for col in ("path", "frames/s", "ratio to parse alone"):
        table.add_column(col)
    table.add_row("parse only (JSON + Jetstream → actions)", f"{parse_rate:,.0f}", "1")
    table.add_row("full: matching, criteria, pledge, ledger, log queue", f"{full_rate:,.0f}",
                  f"{full_rate / parse_rate:.4f} (1/{parse_rate / full_rate:,.0f})")  # fmt: skip
    console.print(table)
    console.print("outcomes:", json.dumps(outcomes, sort_keys=True))
    acted = sum(outcomes.values()) - outcomes.get("no_rule", 0)
    console.print(
        f"SQL statements per action matching a rule: {statements / acted:.2f} ({statements} / {acted})"
    )
    lat = latency(args.latency_n)
    console.print(
        "action on the fake network -> pledge on the campaign page:"
        f" median {statistics.median(lat) * 1000:.0f} ms,"
        f" max {max(lat) * 1000:.0f} ms over {len(lat)} likes (follower round 0.5 s)"
    )


if __name__ == "__main__":
    main()
