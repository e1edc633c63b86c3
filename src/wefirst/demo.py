"""`wefirst demo`: a whole product on the embedded SQLite default in one minute.

Seeds the two classic campaign shapes — "1 pack = 1 tetanus vaccine" (a diaper brand, a
vaccine charity, per_unit) and "1 click = 1 day of clean water" (a consumer-goods brand, a water
charity, per_click) — then replays a realistic stream through the real HTTP API of a running
server, so every figure on the pages came through the same path as production traffic.
Brands and charities are invented; no real organisation is named."""

from __future__ import annotations

import random
import secrets
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import uvicorn
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import func, select

from wefirst import demo_witness
from wefirst.app import create_app
from wefirst.auth.keys import create_key
from wefirst.settings import Settings
from wefirst.store import migrate
from wefirst.store.db import Database
from wefirst.store.tables_core import brands
from wefirst.tlog.errors import TlogError
from wefirst.witness.process import WitnessProcess

DEMO_HISTORY_HOURS = 24 * 62
"""The replayed history is sixty days long (`seed`)."""

console = Console(soft_wrap=True)  # URLs must stay whole for copy and paste


@dataclass
class DemoContext:
    """What later demo steps (widget blog, connectors, voice, cases) need."""

    settings: Settings
    db: Database
    base_url: str
    admin_key: str
    ids: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)


def console_users(ctx: DemoContext) -> None:
    """Sign-ins for the brand, beneficiary and (once the widget step made the sample blog's
    publisher) publisher consoles, with a password made for this demo."""
    from wefirst.web.sessions import create_user

    password = secrets.token_urlsafe(12)
    emails = ["brand@doudou.example", "team@vwb.example"]
    with ctx.db.write() as conn:
        create_user(conn, "brand@doudou.example", "brand", ctx.ids["brand1"], password)
        create_user(conn, "team@vwb.example", "beneficiary", ctx.ids["ngo1"], password)
        if "publisher" in ctx.ids:
            create_user(conn, "blog@carnet.example", "publisher", ctx.ids["publisher"], password)
            emails.append("blog@carnet.example")
    base = ctx.base_url
    ctx.urls["Campaign page"] = f"{base}/campaigns/{ctx.ids['vaccine']}"
    ctx.urls["Scorecard"] = f"{base}/brands/{ctx.ids['brand1']}"
    ctx.urls["Consoles"] = f"{base}/signin — {' or '.join(emails)}, password {password}"
    # the API keys the demo made, so its API calls can be tried by hand
    for name, label in (("brand1", "Doudou Diapers"), ("brand2", "Clairo Home"), ("ngo1", "Vaccines W.B.")):
        if name in ctx.keys:
            ctx.urls[f"API key, {label}"] = ctx.keys[name]


def extra_steps() -> list[tuple[str, Callable[[DemoContext], None]]]:
    """Each area's demo step, run once after the core seed, with the server running."""
    from wefirst.cases.demo import demo_step as cases_step
    from wefirst.ingest.connectors.demo import demo_step as connectors_step
    from wefirst.social.demo import demo_step as social_step
    from wefirst.voice.demo import demo_step as voice_step
    from wefirst.widget.demo import demo_step as widget_step

    return [
        ("shops: signed Shopify, WooCommerce, Stripe deliveries and a sales report", connectors_step),
        ("widget: a French sample blog on a second origin", widget_step),
        ("console sign-ins (brand, beneficiary, the sample blog's publisher)", console_users),
        ("voice: posts written for the demo, and ../shared/data/voice when present", voice_step),
        ("accountability cases", cases_step),
        ("social: a share campaign on a fake Mastodon and Bluesky, with a burst of shares", social_step),
    ]


def _h(key: str, idem: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}"}
    if idem:
        headers["Idempotency-Key"] = idem
    return headers


def _ok(r: httpx.Response) -> dict[str, Any]:
    if r.status_code >= 400:
        raise RuntimeError(f"{r.request.method} {r.request.url} → {r.status_code}: {r.text}")
    data: dict[str, Any] = r.json()
    return data


def _unit(en: tuple[str, str], fr: tuple[str, str], cost: int, source: str) -> dict[str, Any]:
    return {
        "labels": {"en": {"singular": en[0], "plural": en[1]}, "fr": {"singular": fr[0], "plural": fr[1]}},
        "cost_per_unit": {"amount": cost, "currency": "EUR"},
        "cost_source": source,
        "cost_date": "2026-01-15",
        "mode": "funds",
    }


def seed(ctx: DemoContext, http: httpx.Client, scale: float = 1.0) -> None:
    admin = ctx.admin_key
    now = datetime.now(UTC)
    start = (now - timedelta(days=60)).replace(hour=0, minute=0, second=0, microsecond=0)
    b1 = _ok(
        http.post(
            "/v1/brands",
            json={"name": "Doudou Diapers", "website": "https://doudou.example"},
            headers=_h(admin),
        )
    )
    b2 = _ok(
        http.post(
            "/v1/brands", json={"name": "Clairo Home", "website": "https://clairo.example"}, headers=_h(admin)
        )
    )
    n1 = _ok(
        http.post(
            "/v1/beneficiaries",
            json={"name": "Vaccines Without Borders", "website": "https://vwb.example"},
            headers=_h(admin),
        )
    )
    n2 = _ok(
        http.post(
            "/v1/beneficiaries",
            json={"name": "Clear Water Fund", "website": "https://clearwater.example"},
            headers=_h(admin),
        )
    )
    keys = {}
    with ctx.db.write() as conn:
        for name, role, owner in (
            ("brand1", "brand", b1["id"]),
            ("brand2", "brand", b2["id"]),
            ("ngo1", "beneficiary", n1["id"]),
            ("ngo2", "beneficiary", n2["id"]),
        ):
            keys[name], _ = create_key(conn, role, owner, label=f"demo {name}")  # type: ignore[arg-type]
    ctx.keys.update(keys)
    vaccine = {
        "name": "1 pack = 1 tetanus vaccine",
        "beneficiary_id": n1["id"],
        "currency": "EUR",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(days=180)).isoformat(),
        "impact_unit": {
            **_unit(
                ("tetanus vaccine", "tetanus vaccines"),
                ("vaccin contre le tétanos", "vaccins contre le tétanos"),
                30,
                "Supplier price list (demo figure)",
            ),
            "outcome": {
                "units_per_outcome": 3,
                "labels": {
                    "en": {"singular": "child protected", "plural": "children protected"},
                    "fr": {"singular": "enfant protégé", "plural": "enfants protégés"},
                },
            },
        },
        "rules": [{"kind": "per_unit", "sku_patterns": ["DOUDOU-*"], "units_per_item": 1}],
        "caps": {"total_units": 1_000_000, "units_per_day": 50_000},
        "guaranteed_minimum": {"amount": 50_000, "currency": "EUR"},
        "status": "active",
    }
    water = {
        "name": "1 click = 1 day of clean water",
        "beneficiary_id": n2["id"],
        "currency": "EUR",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(days=120)).isoformat(),
        "impact_unit": _unit(
            ("day of clean water", "days of clean water"),
            ("journée d'eau potable", "journées d'eau potable"),
            5,
            "Water charity cost model 2025 (demo figure)",
        ),
        "rules": [
            {"kind": "per_click", "units_per_click": 1},
            {"kind": "percent_of_sale", "basis_points": 200, "sku_patterns": ["CLAIRO-*"]},
        ],
        "caps": {"total_units": 500_000},
        "status": "active",
    }
    c1 = _ok(http.post("/v1/campaigns", json=vaccine, headers=_h(keys["brand1"], "demo-c1")))
    c2 = _ok(http.post("/v1/campaigns", json=water, headers=_h(keys["brand2"], "demo-c2")))
    ctx.ids.update(
        brand1=b1["id"], brand2=b2["id"], ngo1=n1["id"], ngo2=n2["id"], vaccine=c1["id"], water=c2["id"]
    )
    replay(ctx, http, start, now, scale)


def replay(ctx: DemoContext, http: httpx.Client, start: datetime, now: datetime, scale: float = 1.0) -> None:
    rng = random.Random(2026)  # the same stream on every run
    keys = ctx.keys
    skus = [
        ("DOUDOU-BABYDRY-S3-52", 2499),
        ("DOUDOU-BABYDRY-S4-46", 2499),
        ("DOUDOU-WIPES-12", 1299),
        ("LESSIVE-PODS-30", 999),
    ]
    orders: list[tuple[str, int]] = []
    days = max((now - start).days, 1)
    n_orders, n_clicks = max(int(400 * scale), 20), max(int(300 * scale), 10)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("replaying purchases, refunds and clicks", total=n_orders + n_clicks)
        for i in range(n_orders):
            when = start + timedelta(minutes=rng.randrange(days * 24 * 60))
            picked = rng.sample(skus, rng.choice([1, 1, 2]))
            lines: list[dict[str, Any]] = [
                {
                    "sku": sku,
                    "quantity": rng.choice([1, 1, 1, 2, 3]),
                    "unit_price": {"amount": price, "currency": "EUR"},
                }
                for sku, price in picked
            ]
            order_id = f"DD-{10_000 + i}"
            bought = _ok(
                http.post(
                    "/v1/purchases",
                    json={
                        "order_id": order_id,
                        "currency": "EUR",
                        "occurred_at": when.isoformat(),
                        "lines": lines,
                    },
                    headers=_h(keys["brand1"], f"demo-{order_id}"),
                )
            )
            receipt = next((r["receipt"] for r in bought.get("results", []) if r.get("receipt")), None)
            if receipt:  # what a shopper holds, to try /verify (the latest purchase's)
                ctx.urls["A receipt"] = f"{ctx.base_url}/receipts#{receipt['secret']}"
            if picked[0][0].startswith("DOUDOU-"):
                orders.append((order_id, len(lines)))
            progress.advance(task)
        for order_id, _n in rng.sample(orders, min(12, len(orders) // 2)):
            _ok(
                http.post(
                    "/v1/refunds",
                    json={
                        "order_id": order_id,
                        "refund_id": f"R-{order_id}",
                        "lines": [{"line_id": "1", "quantity": 1}],
                    },
                    headers=_h(keys["brand1"]),
                )
            )
        for i in range(n_clicks):
            _ok(
                http.post(
                    "/v1/clicks",
                    json={"campaign_id": ctx.ids["water"], "visitor": f"demo-visitor-{i:06d}-0000"},
                    headers=_h(keys["brand2"], f"demo-click-{i}"),
                )
            )
            progress.advance(task)
    vaccine, water = ctx.ids["vaccine"], ctx.ids["water"]
    # Payments and deliveries stay within what the replayed stream owes (a smaller --scale owes
    # less): anything beyond would need a stated reason, as it would for a real brand.
    owed1 = _ok(http.get(f"/v1/campaigns/{vaccine}/balance"))
    owed2 = _ok(http.get(f"/v1/campaigns/{water}/balance"))
    s1 = _ok(
        http.post(
            f"/v1/campaigns/{vaccine}/settlements",
            json={
                "amount": {"amount": min(15_000, owed1["owed"]["amount"] * 6 // 10), "currency": "EUR"},
                "external_reference": "SEPA-DEMO-0001",
                "paid_at": (now - timedelta(days=20)).isoformat(),
            },
            headers=_h(keys["brand1"], "demo-s1"),
        )
    )
    _ok(
        http.post(
            f"/v1/settlements/{s1['id']}/confirm",
            json={"note": "Received, thank you."},
            headers=_h(keys["ngo1"], "demo-s1c"),
        )
    )
    _ok(
        http.post(
            f"/v1/campaigns/{vaccine}/settlements",
            json={
                "amount": {"amount": min(6_000, owed1["owed"]["amount"] * 2 // 10), "currency": "EUR"},
                "external_reference": "SEPA-DEMO-0002",
                "paid_at": (now - timedelta(days=2)).isoformat(),
            },
            headers=_h(keys["brand1"], "demo-s2"),
        )
    )
    _ok(
        http.post(
            f"/v1/campaigns/{vaccine}/deliveries",
            json={
                "units": min(300, owed1["pledged"]["units"] // 2),
                "period_start": (now - timedelta(days=40)).date().isoformat(),
                "period_end": (now - timedelta(days=10)).date().isoformat(),
                "evidence_url": "https://vwb.example/reports/demo-batch-1",
            },
            headers=_h(keys["ngo1"], "demo-d1"),
        )
    )
    s3 = _ok(
        http.post(
            f"/v1/campaigns/{water}/settlements",
            json={
                "amount": {"amount": min(1_000, owed2["owed"]["amount"] // 2), "currency": "EUR"},
                "external_reference": "SEPA-DEMO-0003",
                "paid_at": (now - timedelta(days=5)).isoformat(),
            },
            headers=_h(keys["brand2"], "demo-s3"),
        )
    )
    _ok(http.post(f"/v1/settlements/{s3['id']}/confirm", json={}, headers=_h(keys["ngo2"], "demo-s3c")))


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    """SIGTERM ends the demo the way Ctrl-C does, so its witness process is stopped too."""
    raise KeyboardInterrupt


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the main thread handles Ctrl-C
        pass


def run(host: str, port: int, serve: bool = True, scale: float = 1.0) -> None:
    base = f"http://{host}:{port}"
    settings = Settings(base_url=base) if Settings().base_url == "http://127.0.0.1:8000" else Settings()
    # The demo replays sixty days of sales through the API as if they had been sent on time:
    # its server accepts claims that old (a real deployment refuses them after 72 h).
    # Its mails stay in memory and show at /demo/outbox, so sign-in and co-sign links work.
    settings = settings.model_copy(
        update={
            "claims_max_age_hours": max(settings.claims_max_age_hours, DEMO_HISTORY_HOURS),
            "demo_outbox": settings.mail_backend == "memory",
        }
    )
    with Database(settings) as db:  # disposed however the demo ends
        migrate.upgrade(db)
        with db.write() as conn:
            admin_key, _ = create_key(conn, "admin", label="demo admin")
            fresh = conn.execute(select(func.count()).select_from(brands)).scalar_one() == 0
        witness: WitnessProcess | None = None
        main = threading.current_thread() is threading.main_thread()
        # `kill`, systemd, docker stop: the same as Ctrl-C (the witness process is stopped too).
        previous = signal.signal(signal.SIGTERM, _stop_on_sigterm) if main else None
        try:
            settings, witness = demo_witness.start(settings, db)
        except (RuntimeError, OSError, TlogError) as e:
            console.print(f"[yellow]The demo's witness did not start ({e}); the log runs unwitnessed.[/]")
        app = create_app(settings, db=db)
        server = _Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        from wefirst.widget.demo import stop_blogs

        try:
            thread.start()
            for _ in range(200):
                if server.started:
                    break
                time.sleep(0.05)
            ctx = DemoContext(settings, db, base, admin_key)
            with httpx.Client(base_url=base, timeout=30) as http:
                if fresh:
                    console.print("[bold]Seeding the demo[/] (two campaigns, a realistic stream)…")
                    seed(ctx, http, scale)
                    for name, step in extra_steps():
                        console.print(f"  {name}…")
                        step(ctx)
                else:
                    from wefirst.widget.demo import serve_blog

                    console.print(
                        "Existing demo database found; reusing it (delete wefirst.db to start afresh)."
                    )
                    serve_blog(ctx)
            console.print(f"\n[bold green]wefirst demo running at {base}/[/]  (home page)")
            console.print(f"  API docs:        {base}/docs")
            if settings.demo_outbox:
                console.print(f"  Mail outbox:     {base}/demo/outbox  (sign-in and co-sign links)")
            console.print(f"  Campaigns (API): {base}/v1/campaigns")
            for label, url in ctx.urls.items():
                console.print(f"  {label + ':':<16} {url}")
            console.print(f"  Admin API key:   {admin_key}")
            if witness is not None:
                print_witness(ctx, witness)
            console.print("Press Ctrl-C to stop.")
            while serve and thread.is_alive():
                thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            server.should_exit = True
            thread.join(10)
            stop_blogs()
            if witness is not None:
                witness.stop()
            if main:
                signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def print_witness(ctx: DemoContext, witness: WitnessProcess) -> None:
    """The witness's key in the note format and the demo's trust policy, once the latest
    checkpoint carries the witness's cosignature."""
    base = ctx.base_url
    size = demo_witness.wait_cosigned(ctx.db, witness.key)
    _plain(f"  Witness:         {witness.url}/ (its own process; key and state in {witness.directory})")
    _plain(f"  Witness key:     {witness.key}")
    if size is None:
        _plain("  Checkpoint:      not cosigned yet (the witness is slow to answer)")
    else:
        _plain(f"  Checkpoint:      {base}/log/checkpoint (size {size}, cosigned by the witness)")
    policy = demo_witness.policy(ctx.settings, ctx.db)
    if policy is None:
        return
    _plain("Trust policy (a default: check each key with its owner before you rely on it):")
    for line in policy.splitlines():
        _plain(f"  {line}")
    _plain(f"  Verify with it:  {base}/verify#policy={quote(policy, safe='')}")


def _plain(text: str) -> None:
    """Keys and URLs as they are: no markup, no highlighting, never wrapped."""
    console.print(text, markup=False, highlight=False)
