"""Shared set-up for the page tests: the real app with the pages router, and a campaign with
pledges, a confirmed and a disputed payment, and a delivery — made through the HTTP API, the
way brands and beneficiaries make them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.store.db import Database
from wefirst.web import pages, sessions

from factories import Tenant, auth, delivery, make_beneficiary, make_brand, make_campaign, payment, purchase


def pages_app(
    data_dir: Path,
    *,
    key: str = "k+00000000+AA==",
    receipt: Callable[[str], dict[str, Any] | None] = lambda commitment: None,
    secret: str = "framework-test",  # noqa: S107 - a test server secret
) -> FastAPI:
    """The pages router alone, on services whose log is a stand-in serving `key` and `receipt`
    (the verifier pages' tests bring their own golden log), on a migrated, empty database."""
    from wefirst.services import Services, attach
    from wefirst.settings import Settings
    from wefirst.store import migrate

    settings = Settings(
        secret_key=secret,
        database_url=f"sqlite:///{data_dir / 'pages.db'}",
        data_dir=data_dir,
        tlog_sequencer=False,
        webhooks_worker=False,
        connectors_worker_interval_seconds=0,
    )
    log = SimpleNamespace(
        signer=SimpleNamespace(verifier=SimpleNamespace(key_string=key)),
        receipt=receipt,
        published_policy=lambda: None,
        ensure_initialised=lambda: None,
        close=lambda: None,
    )
    app = FastAPI()
    services = Services.build(settings).replace(log=log)
    migrate.upgrade(services.db)  # receipt pages read the pledge behind a receipt
    attach(app, services)
    app.include_router(pages.router)
    return app


def with_pages(app: FastAPI) -> FastAPI:
    """The app from create_app, plus the pages router when wefirst/app.py does not list it yet."""
    if not any(getattr(r, "path", None) == "/verify" for r in app.routes):
        app.include_router(pages.router)
    return app


@dataclass
class Story:
    brand: Tenant
    beneficiary: Tenant
    campaign_id: str
    receipt_secret: str
    settlement_ids: list[str]


def seed_story(client: TestClient, db: Database, admin_key: str) -> Story:
    brand = make_brand(client, db, admin_key, name="Pampy")
    ben = make_beneficiary(client, db, admin_key, name="Vaccines for All")
    cid = make_campaign(client, brand, ben.id)
    secret = buy_three_orders(client, brand)[0]
    sids = report_two_payments(client, brand, cid)
    r = client.post(f"/v1/settlements/{sids[0]}/confirm", json={"note": "received"}, headers=auth(ben.key))
    assert r.status_code == 200, r.text
    march = delivery(6, "https://example.org/report-march.pdf")
    r = client.post(f"/v1/campaigns/{cid}/deliveries", json=march, headers=auth(ben.key))
    assert r.status_code == 201, r.text
    return Story(brand, ben, cid, secret, sids)


def buy_three_orders(client: TestClient, brand: Tenant) -> list[str]:
    """Orders O-0, O-1, O-2 of 2, 5 and 3 packs (one vaccine a pack) on 1, 3 and 9 March 2026:
    their receipts' secrets."""
    secrets = []
    for i, (when, qty) in enumerate(
        [("2026-03-01T10:00:00Z", 2), ("2026-03-03T10:00:00Z", 5), ("2026-03-09T10:00:00Z", 3)]
    ):
        r = client.post(
            "/v1/purchases",
            json=purchase(f"O-{i}", ("PAMPERS-S3", qty, 2499), when=when),
            headers=auth(brand.key),
        )
        assert r.status_code == 200, r.text
        secrets.append(r.json()["results"][0]["receipt"]["secret"])
    return secrets


def report_two_payments(
    client: TestClient, brand: Tenant, campaign_id: str, paid_at: str = "2026-03-10T09:00:00Z"
) -> list[str]:
    """The brand reports paying the beneficiary €2.00 (SEPA-1) then €0.90 (SEPA-2): their ids."""
    ids = []
    for amount, ref in ((200, "SEPA-1"), (90, "SEPA-2")):
        body = payment(amount, ref, paid_at)
        r = client.post(f"/v1/campaigns/{campaign_id}/settlements", json=body, headers=auth(brand.key))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def campaign_form(csrf_token: str, beneficiary_id: str, **fields: str) -> dict[str, str]:
    """The brand console's new-campaign form as a browser posts it: one click = one day of
    water, every optional field empty; ``fields`` change or add fields."""
    return {
        "csrf_token": csrf_token,
        "name": "Water for clicks",
        "beneficiary_id": beneficiary_id,
        "currency": "EUR",
        "starts": "2026-01-01",
        "ends": "2026-12-31",
        "unit_en_one": "day of water",
        "unit_en_many": "days of water",
        "unit_fr_one": "jour d'eau",
        "unit_fr_many": "jours d'eau",
        "cost": "0.25",
        "cost_source": "NGO budget 2026",
        "cost_date": "2026-01-10",
        "rule_kind_1": "per_click",
        "rule_value_1": "1",
        "skus_1": "",
        "rule_kind_2": "",
        "rule_kind_3": "",
        "cap_total_units": "",
        "guaranteed_minimum": "",
        "status": "active",
        **fields,
    }


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the form"
    return found.group(1)


def text_of(html: str) -> str:
    """Visible text, roughly: tags dropped, whitespace folded (for asserting on sentences)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\u202f", " ").replace("\xa0", " ")


def any_of(*values: Any) -> Any:
    return values


class WordSentiment:
    """A stand-in sentiment model (the real one is the voice area's business and is tested
    there): negative on complaint words, positive on thanks."""

    def predict(self, texts: Any, languages: Any) -> list[tuple[str, float]]:
        out = []
        for text in texts:
            t = text.lower()
            if any(w in t for w in ("awful", "worst", "scandal")):
                out.append(("negative", -0.8))
            elif "thanks" in t:
                out.append(("positive", 0.7))
            else:
                out.append(("neutral", 0.0))
        return out


def seed_voice(client: TestClient, db: Database, settings: Any, brand: Tenant, tmp_path: Any) -> int:
    """Four days of posts about the brand ending yesterday, with a surge of complaints on the
    third day, imported through the voice service (matching, sentiment, detection)."""
    import csv as csv_module
    from datetime import UTC, datetime, timedelta

    from wefirst.voice import importing as voice_importing

    r = client.put(
        f"/v1/brands/{brand.id}/voice/settings",
        json={"names": ["Pampy"], "handles": ["pampy"], "hashtags": [], "detector": {"alpha": 0.001}},
        headers=auth(brand.key),
    )
    assert r.status_code == 200, r.text
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=4)
    rows, n = [], 0
    for h in range(84):
        at = start + timedelta(hours=h)
        day = 8 <= at.hour <= 20
        texts = (
            ["Pampy nappies are awful lately", "Pampy delivered today", "thanks @pampy"]
            if day
            else ["thanks @pampy for the vaccines"]
        ) * 2
        if h in (60, 61):
            texts += [f"worst service ever, Pampy vaccine scandal #{i}" for i in range(30)]
        for i, text in enumerate(texts):
            n += 1
            rows.append(
                {
                    "id": str(n),
                    "text": text,
                    "created_at": (at + timedelta(minutes=i)).isoformat(),
                    "author": f"user{n % 17}",
                }
            )
    path = tmp_path / "voice.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv_module.DictWriter(fh, fieldnames=["id", "text", "created_at", "author"])
        writer.writeheader()
        writer.writerows(rows)
    options = voice_importing.ImportOptions(
        settings=settings, detect_language=lambda _t: "en", sentiment=WordSentiment(), progress=False
    )
    report = voice_importing.import_file(db, path, options)
    assert report.new == n
    return n


def open_case(client: TestClient, brand_id: str, title: str) -> str:
    r = client.post(
        "/v1/cases",
        json={
            "kind": "complaint",
            "brand_id": brand_id,
            "title": title,
            "what_happened": "Every pack was meant to fund one vaccine; the ledger shows far fewer "
            "vaccines paid for than packs sold since March.",
            "what_is_asked": "Pay for every promised vaccine and publish the transfers.",
            "evidence": ["https://example.org/advert"],
            "category": "campaign_honesty",
            "language": "en",
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def integrate_log(app: FastAPI) -> int:
    """Run the sequencer once, as the background worker would, so entries get their index."""
    from wefirst.services import services_of
    from wefirst.tlog.sequencer import integrate_batch

    result = integrate_batch(services_of(app).log, 10_000)
    return int(getattr(result, "size", 0))


PASSWORD = "correct horse battery staple"


def add_user(db: Database, email: str, role: str, owner: str | None, password: str | None = PASSWORD) -> None:
    with db.write() as conn:
        sessions.create_user(conn, email, role, owner, password)


def signed_in(app: FastAPI, email: str, password: str = PASSWORD) -> TestClient:
    """A browser signed in through /signin (its CSRF token, the session cookie's flags)."""
    web = TestClient(with_pages(app))
    token = csrf_of(web.get("/signin").text)
    r = web.post(
        "/signin", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/console"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    return web


def new_user_signed_in(app: FastAPI, db: Database, email: str, role: str, owner: str | None) -> TestClient:
    """A console user of `owner` (role brand, beneficiary, publisher; admin with no owner),
    created with PASSWORD and signed in."""
    add_user(db, email, role, owner)
    return signed_in(app, email)


def rival_console(app: FastAPI, client: TestClient, db: Database, admin_key: str) -> TestClient:
    """Another brand's team, signed in to its own console: the walls' attacker."""
    rival = make_brand(client, db, admin_key, name="Rival")
    return new_user_signed_in(app, db, "rival@rival.example", "brand", rival.id)
