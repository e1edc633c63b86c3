"""Test data through the real API, so factories exercise the same paths users take."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select

from wefirst.auth.keys import create_key
from wefirst.outbound import OutboundPolicy
from wefirst.store.db import Database
from wefirst.store.schema import metadata

HISTORY_WINDOW_HOURS = 24 * 365 * 3
"""The claim window (settings.claims_max_age_hours) the shared fixtures run with: they replay a
history dated March 2026 through the API. tests/api/test_api_claims.py tests the default."""


def loopback_policy() -> OutboundPolicy:
    """The outbound guard as tests need it: their receivers listen on loopback over http."""
    return OutboundPolicy(
        allowed_networks=(ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")),
        https_only=False,
    )


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass
class Tenant:
    id: str
    key: str


def make_brand(client: TestClient, db: Database, admin_key: str, name: str = "Pampy") -> Tenant:
    r = client.post("/v1/brands", json={"name": name}, headers=auth(admin_key))
    assert r.status_code == 201, r.text
    brand_id = r.json()["id"]
    with db.write() as conn:
        secret, _ = create_key(conn, "brand", brand_id)
    return Tenant(brand_id, secret)


def make_beneficiary(
    client: TestClient, db: Database, admin_key: str, name: str = "Vaccines for All"
) -> Tenant:
    r = client.post("/v1/beneficiaries", json={"name": name}, headers=auth(admin_key))
    assert r.status_code == 201, r.text
    ben_id = r.json()["id"]
    with db.write() as conn:
        secret, _ = create_key(conn, "beneficiary", ben_id)
    return Tenant(ben_id, secret)


def signup_publisher(
    client: TestClient, name: str, domains: list[str], email: str = "camille@example.org"
) -> tuple[Tenant, dict[str, Any]]:
    """Open sign-up as a blogger does it: register, then follow the link the (memory) mailer
    kept. Returns the publisher and the sign-up answer."""
    from urllib.parse import parse_qs, urlsplit

    from wefirst.mail import MemoryMailer
    from wefirst.services import services_of

    mailer = services_of(client.app).mailer
    assert isinstance(mailer, MemoryMailer)
    r = client.post("/v1/publishers", json={"name": name, "domains": domains, "email": email})
    assert r.status_code == 201, r.text
    pub = r.json()
    body = str(mailer.sent[-1].get_content())
    link = next(w for w in body.split() if "/publishers/verify?token=" in w)
    token = parse_qs(urlsplit(link).query)["token"][0]
    v = client.get("/v1/publishers/verify", params={"token": token})
    assert v.status_code == 200, v.text
    return Tenant(pub["id"], pub["api_key"]["secret"]), pub


def approve_publisher(client: TestClient, brand_key: str, campaign_id: str, publisher_id: str) -> None:
    r = client.put(
        f"/v1/widget/campaigns/{campaign_id}/publishers/{publisher_id}/approval", headers=auth(brand_key)
    )
    assert r.status_code == 200, r.text


def unit(cost: int = 30, currency: str = "EUR") -> dict[str, Any]:
    return {
        "labels": {
            "en": {"singular": "tetanus vaccine", "plural": "tetanus vaccines"},
            "fr": {"singular": "vaccin contre le tétanos", "plural": "vaccins contre le tétanos"},
        },
        "cost_per_unit": {"amount": cost, "currency": currency},
        "cost_source": "UNICEF Supply Division price list",
        "cost_date": "2026-01-15",
        "mode": "funds",
    }


def campaign_body(beneficiary_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "1 pack = 1 vaccine",
        "beneficiary_id": beneficiary_id,
        "currency": "EUR",
        "starts_at": "2026-01-01T00:00:00Z",
        "ends_at": "2027-12-31T00:00:00Z",
        "impact_unit": unit(),
        "rules": [{"kind": "per_unit", "sku_patterns": ["PAMPERS-*"], "units_per_item": 1}],
        "status": "active",
    }
    body.update(overrides)
    return body


def make_campaign(client: TestClient, brand: Tenant, beneficiary_id: str, **overrides: Any) -> str:
    r = client.post("/v1/campaigns", json=campaign_body(beneficiary_id, **overrides), headers=auth(brand.key))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def purchase(
    order_id: str, *lines: tuple[str, int, int], when: str = "2026-03-14T10:00:00Z", **extra: Any
) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "currency": "EUR",
        "occurred_at": when,
        "lines": [
            {"sku": sku, "quantity": q, "unit_price": {"amount": p, "currency": "EUR"}} for sku, q, p in lines
        ],
        **extra,
    }


def payment(
    cents: int, reference: str = "SEPA-1", paid_at: str = "2026-03-20T09:00:00Z", **extra: Any
) -> dict[str, Any]:
    """The body of a brand's settlement report (POST /v1/campaigns/{id}/settlements): `cents`
    euro cents paid to the beneficiary."""
    return {
        "amount": {"amount": cents, "currency": "EUR"},
        "external_reference": reference,
        "paid_at": paid_at,
        **extra,
    }


def delivery(
    units: int, evidence_url: str = "https://example.org/report.pdf", **extra: Any
) -> dict[str, Any]:
    """The body of a beneficiary's delivery report (POST /v1/campaigns/{id}/deliveries) for
    March 2026."""
    return {
        "units": units,
        "period_start": "2026-03-01",
        "period_end": "2026-03-31",
        "evidence_url": evidence_url,
        **extra,
    }


SEQUENCER_TABLES = frozenset({"tlog_checkpoints", "tlog_tiles", "tlog_index", "tlog_pending"})
"""The log's sequencer integrates earlier entries in the background: its outputs (and the queue
ids it moves from tlog_pending to tlog_index) are not writes of the request under test (the
entries themselves, tlog_entries, are counted)."""


def row_counts(db: Database, leave_out: frozenset[str] = frozenset()) -> dict[str, int]:
    """Rows per table of the schema (those the database has), but the sequencer's and
    `leave_out`: what a refused request must leave as it was."""
    skipped = SEQUENCER_TABLES | leave_out
    with db.read() as conn:
        present = set(inspect(conn).get_table_names())
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
            if t.name in present and t.name not in skipped
        }
