"""Issue 13, finding 12: a fuzzer's NUL bytes answered 500 on PostgreSQL (SQLite stored them),
and quantities sent as "1" or true counted as 1. Every text that comes in refuses control
characters with a 422 naming the field, on both databases, and writes nothing; numbers and
booleans are JSON numbers and booleans."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.ingest.connectors import _payload
from wefirst.ingest.connectors.errors import MalformedPayload
from wefirst.ingest.connectors.sales_report import validate as validate_sales_report
from wefirst.store.db import Database

from factories import (
    Tenant,
    auth,
    campaign_body,
    make_beneficiary,
    make_brand,
    make_campaign,
    purchase,
    row_counts,
)

# Written by background threads too, not by the refused request (beside the sequencer's tables).
BACKGROUND = frozenset({"api_keys"})


def _counts(db: Database) -> dict[str, int]:
    return row_counts(db, BACKGROUND)


@pytest.fixture
def loud(app: FastAPI) -> Iterator[TestClient]:
    """A client that sees a 500 as an answer (as a fuzzer does), not as a raised error."""
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


class World:
    def __init__(self, client: TestClient, db: Database, admin_key: str) -> None:
        self.admin = admin_key
        self.brand: Tenant = make_brand(client, db, admin_key)
        self.ben: Tenant = make_beneficiary(client, db, admin_key)
        self.campaign = make_campaign(client, self.brand, self.ben.id)


@pytest.fixture
def world(loud: TestClient, db: Database, admin_key: str) -> World:
    return World(loud, db, admin_key)


def _refused(r: Any, field: str, why: str = "control characters") -> None:
    assert r.status_code == 422, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    fields = [e["field"] for e in r.json()["errors"]]
    assert field in fields, r.json()
    assert why in r.text


BAD = ["\x00", "\x07", "\x1b[31m", "\x7f", "\x9b", "\ud800"]


def _bodies(w: World) -> list[tuple[str, str, str, dict[str, Any], str]]:
    """(method, url, key, body, field) for text fields across the API, nested ones too."""
    ben = w.ben.id
    x = "{X}"
    unit = campaign_body(ben)["impact_unit"]
    return [
        ("post", "/v1/brands", w.admin, {"name": f"Brand{x}"}, "name"),
        ("post", "/v1/campaigns", w.brand.key, campaign_body(ben, name=f"A{x}"), "name"),
        (
            "post",
            "/v1/campaigns",
            w.brand.key,
            campaign_body(
                ben,
                impact_unit={**unit, "labels": {"en": {"singular": f"dose{x}", "plural": "doses"}}},
            ),
            "impact_unit.labels.en.singular",
        ),
        (
            "post",
            "/v1/purchases",
            w.brand.key,
            purchase("o-1", (f"PAMPERS-1{x}", 1, 100), campaign_id=w.campaign),
            "lines[0].sku",
        ),
        ("post", "/v1/purchases", w.brand.key, purchase(f"o{x}", ("PAMPERS-1", 1, 100)), "order_id"),
        (
            "post",
            f"/v1/campaigns/{w.campaign}/settlements",
            w.brand.key,
            {
                "amount": {"amount": 100, "currency": "EUR"},
                "external_reference": f"wire{x}",
                "paid_at": "2026-03-01T00:00:00Z",
            },
            "external_reference",
        ),
        ("post", "/v1/keys", w.admin, {"role": "brand", "owner_id": w.brand.id, "label": f"k{x}"}, "label"),
        ("post", "/v1/publishers", w.admin, {"name": f"Blog{x}", "domains": ["blog.example"]}, "name"),
        (
            "post",
            "/v1/publishers",
            w.admin,
            {"name": "Blog", "domains": ["blog.example", f"b{x}.example"]},
            "domains[1]",
        ),
        (
            "put",
            f"/v1/brands/{w.brand.id}/voice/settings",
            w.brand.key,
            {"names": ["Pampy", f"P{x}"]},
            "names[1]",
        ),
        (
            "post",
            "/v1/connectors",
            w.brand.key,
            {"platform": "shopify", "account": "shop.myshopify.com", "secret": f"s{x}"},
            "secret",
        ),
        (
            "post",
            "/v1/connectors",
            w.brand.key,
            {"platform": "stripe", "account": "acct_1", "credentials": {"api_key": f"k{x}"}},
            "credentials.api_key",
        ),
    ]


@pytest.mark.parametrize("bad", BAD, ids=[f"U+{ord(c[0]):04X}" for c in BAD])
def test_control_characters_in_bodies_are_422_naming_the_field(
    loud: TestClient, db: Database, world: World, bad: str
) -> None:
    for method, url, key, body, field in _bodies(world):
        filled = _fill(body, bad)
        before = _counts(db)
        # sent as ASCII JSON: a lone surrogate travels as its `\ud800` escape, as a fuzzer sends it
        r = loud.request(
            method, url, content=json.dumps(filled), headers={**auth(key), "Content-Type": "application/json"}
        )
        # pydantic itself refuses lone surrogates ("unable to parse raw data as a unicode string")
        _refused(r, field, "string" if bad == "\ud800" else "control characters")
        assert _counts(db) == before, (url, field)


def _fill(value: Any, bad: str) -> Any:
    if isinstance(value, str):
        return value.replace("{X}", bad)
    if isinstance(value, list):
        return [_fill(v, bad) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, bad) for k, v in value.items()}
    return value


def test_tab_and_newlines_stay_allowed_in_text(loud: TestClient, world: World) -> None:
    r = loud.post(
        f"/v1/campaigns/{world.campaign}/settlements",
        json={
            "amount": {"amount": 100, "currency": "EUR"},
            "external_reference": "wire\t2026\r\nline two",
            "paid_at": "2026-03-01T00:00:00Z",
            "beyond_owed_reason": "an advance\non next quarter",
        },
        headers=auth(world.brand.key),
    )
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/v1/brands/brd_x%00y", "brand_id"),
        ("/v1/campaigns/cmp_%1b", "campaign_id"),
        ("/v1/brands/brd_x%00y/voice/settings", "brand_id"),
        ("/v1/campaigns?cursor=a%00b", "cursor"),
        ("/v1/cases?brand_id=%00", "brand_id"),
    ],
)
def test_control_characters_in_path_and_query_are_422_naming_the_parameter(
    loud: TestClient, world: World, url: str, field: str
) -> None:
    _refused(loud.get(url, headers=auth(world.admin)), field)


def test_control_characters_in_a_connector_id_are_422(loud: TestClient, db: Database) -> None:
    before = _counts(db)
    r = loud.post(
        "/v1/connectors/con_%00/shopify", content=b"{}", headers={"X-Shopify-Topic": "orders/create"}
    )
    _refused(r, "connection_id")
    assert _counts(db) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": "1"}, "lines[0].quantity"),
        ({"quantity": True}, "lines[0].quantity"),
        ({"quantity": 1.0}, "lines[0].quantity"),
        ({"unit_price": {"amount": "100", "currency": "EUR"}}, "lines[0].unit_price.amount"),
    ],
)
def test_quantities_are_json_numbers(
    loud: TestClient, db: Database, world: World, change: dict[str, Any], field: str
) -> None:
    body = purchase("o-1", ("PAMPERS-1", 1, 100), campaign_id=world.campaign)
    body["lines"][0].update(change)
    before = _counts(db)
    r = loud.post("/v1/purchases", json=body, headers=auth(world.brand.key))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert _counts(db) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"rules": [{"kind": "per_unit", "sku_patterns": ["P-*"], "units_per_item": "2"}]},
            "rules[0].units_per_item",
        ),
        ({"match_bps": True}, "match_bps"),
        ({"caps": {"total_units": "10"}}, "caps.total_units"),
    ],
)
def test_campaign_numbers_are_json_numbers(
    loud: TestClient, world: World, body: dict[str, Any], field: str
) -> None:
    r = loud.patch(f"/v1/campaigns/{world.campaign}", json=body, headers=auth(world.brand.key))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]], r.json()


def test_booleans_are_json_booleans(loud: TestClient, world: World) -> None:
    body = purchase("o-1", ("PAMPERS-1", 1, 100), campaign_id=world.campaign, test="true")
    r = loud.post("/v1/purchases", json=body, headers=auth(world.brand.key))
    assert r.status_code == 422, r.text
    assert "test" in [e["field"] for e in r.json()["errors"]]
    r = loud.put(
        f"/v1/brands/{world.brand.id}/voice/settings",
        json={"sources": {"bluesky": 1}},
        headers=auth(world.brand.key),
    )
    assert r.status_code == 422, r.text
    assert "sources.bluesky" in [e["field"] for e in r.json()["errors"]]


def test_dates_still_read_from_iso_text(loud: TestClient, world: World) -> None:
    """Strict models keep reading instants and days from JSON strings."""
    r = loud.post(
        f"/v1/campaigns/{world.campaign}/deliveries",
        json={
            "units": 2,
            "period_start": "2026-02-01",
            "period_end": "2026-02-28",
            "evidence_url": "https://ngo.example/report",
            "beyond_funded_reason": "funded by another donor",
        },
        headers=auth(world.ben.key),
    )
    assert r.status_code in (201, 409), r.text  # accepted, or refused by a domain rule: not 422


def test_platform_payload_text_refuses_control_characters() -> None:
    """Signed platform deliveries are parsed by the worker after the ack: a NUL in a SKU is a
    malformed payload (the delivery is marked failed), not a failed insert on PostgreSQL."""
    with pytest.raises(MalformedPayload) as caught:
        _payload.string({"sku": "PAMPERS\x00"}, "sku", "$.line_items[0]")
    assert caught.value.field == "$.line_items[0].sku"
    with pytest.raises(MalformedPayload):
        _payload.opt_string({"sku": "\x1b"}, "sku", "$")
    with pytest.raises(MalformedPayload):
        _payload.ident({"id": "ord\x00"}, "id", "$")
    with pytest.raises(MalformedPayload):
        _payload.string_map({"metadata": {"campaign": "c\x00"}}, "metadata", "$")


class _NoCatalog:
    def sku_known(self, sku: str) -> bool:
        return True

    def sku_for_gtin(self, gtin14: str) -> str | None:
        return None


def test_sales_report_with_a_control_character_is_refused_naming_the_line() -> None:
    raw = (
        b"report_id,retailer,store,sku,quantity,period_start,period_end\n"
        + b"r1,ret,s1,P\x00,1,2026-01-01,2026-01-31\n"
    )
    report = validate_sales_report(raw, _NoCatalog())
    assert not report.rows
    assert report.errors[0].reason.startswith("line 2: must not contain control characters")
