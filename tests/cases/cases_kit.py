"""Helpers shared by the cases API tests: case bodies, row counts, log entries, links."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.types import ASGIApp

from wefirst.store.db import Database
from wefirst.store.tables_cases import (
    case_answers,
    case_brand_contacts,
    case_commitments,
    case_moderation_log,
    case_reports,
    case_supporters,
    case_verdicts,
    cases,
)
from wefirst.store.tables_core import idempotency_records
from wefirst.store.tables_shared import rate_limit_hits
from wefirst.store.tables_tlog import tlog_entries

from factories import Tenant, auth, make_beneficiary, make_brand, make_campaign, payment, purchase
from smtp_server import SmtpSink

TABLES = [
    cases,
    case_supporters,
    case_answers,
    case_commitments,
    case_verdicts,
    case_reports,
    case_moderation_log,
    rate_limit_hits,
    case_brand_contacts,
    tlog_entries,
    idempotency_records,
]


def counts(db: Database) -> dict[str, int]:
    with db.read() as conn:
        return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in TABLES}


def snapshot(db: Database) -> dict[str, Any]:
    """Counts plus the mutable case columns, to prove a refusal changed nothing at all."""
    with db.read() as conn:
        rows = conn.execute(
            select(cases.c.id, cases.c.state, cases.c.cosign_count, cases.c.hidden).order_by(cases.c.id)
        ).all()
        sups = conn.execute(
            select(case_supporters.c.id, case_supporters.c.status, case_supporters.c.email).order_by(
                case_supporters.c.id
            )
        ).all()
    return {"counts": counts(db), "cases": [tuple(r) for r in rows], "supporters": [tuple(s) for s in sups]}


def case_body(brand_id: str, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "complaint",
        "brand_id": brand_id,
        "title": "Vaccines promised but not paid for",
        "what_happened": "Every pack of nappies was meant to fund one tetanus vaccine. The ledger "
        "shows far fewer vaccines paid for than packs sold since March.",
        "what_is_asked": "Pay for every promised vaccine and publish the bank transfers.",
        "evidence": ["https://example.org/advert", "https://news.example.com/story"],
        "category": "campaign_honesty",
        "language": "en",
    }
    body.update(over)
    return body


def open_case(client: TestClient, brand_id: str, **over: Any) -> dict[str, Any]:
    r = client.post("/v1/cases", json=case_body(brand_id, **over))
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def log_entries(db: Database) -> list[dict[str, Any]]:
    with db.read() as conn:
        rows = conn.execute(select(tlog_entries.c.data).order_by(tlog_entries.c.id)).all()
    return [json.loads(bytes(r.data)) for r in rows]


def case_log(db: Database) -> list[dict[str, Any]]:
    return [e for e in log_entries(db) if str(e["kind"]).startswith("case_")]


def token_from(link: str) -> str:
    m = re.search(r"/v1/(?:cosign-confirmations|supporter-erasures)/([^/\s?#]+)", link)
    assert m, link
    return m.group(1)


def cosign_and_confirm(
    client: TestClient, sink: SmtpSink, case_id: str, email: str, language: str = "en"
) -> dict[str, Any]:
    before = len(sink.messages)
    r = client.post(f"/v1/cases/{case_id}/cosign", json={"email": email, "language": language})
    assert r.status_code == 202, r.text
    got = sink.wait_for(before + 1)[-1]
    assert got.rcpt_tos == [email.strip()]
    (link,) = got.links()
    r = client.post(link.replace("http://testserver", ""))
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def brand_with_gap(client: TestClient, db: Database, admin_key: str) -> tuple[Tenant, str]:
    """A brand whose campaign pledged 40 vaccines and had 10 confirmed paid for."""
    brand = make_brand(client, db, admin_key, "Pampy")
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id)
    r = client.post("/v1/purchases", json=purchase("O-1", ("PAMPERS-S3", 40, 2499)), headers=auth(brand.key))
    assert r.status_code == 200, r.text
    r = client.post(f"/v1/campaigns/{cid}/settlements", json=payment(300), headers=auth(brand.key))
    assert r.status_code == 201, r.text
    r = client.post(f"/v1/settlements/{r.json()['id']}/confirm", json={}, headers=auth(ben.key))
    assert r.status_code == 200, r.text
    return brand, cid


@contextmanager
def client_from(app: ASGIApp, ip: str) -> Iterator[TestClient]:
    """A client the app sees at address `ip`. Deliberately not entered with `with TestClient`:
    that would run the app's lifespan (its background workers) once per client."""
    c = TestClient(app, client=(ip, 40000))
    try:
        yield c
    finally:
        c.close()
