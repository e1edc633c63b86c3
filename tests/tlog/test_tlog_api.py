"""The log over HTTP with the real app and the lead's ledger: endpoints, headers, receipts, the
background sequencer, and `wefirst verify` against a live loopback server."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import text
from typer.testing import CliRunner

from wefirst.app import create_app
from wefirst.auth.keys import create_key
from wefirst.services import services_of
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.tlog import verify_cli
from wefirst.tlog.checkpoint import open_checkpoint
from wefirst.tlog.hashing import leaf_hash
from wefirst.tlog.note import parse_verifier_key
from wefirst.tlog.proofs import verify_inclusion
from wefirst.tlog.queue import enqueue
from wefirst.tlog.receipts import parse_receipt
from wefirst.tlog.sequencer import integrate_batch
from wefirst.web import queries

from factories import (
    Tenant,
    approve_publisher,
    auth,
    delivery,
    make_beneficiary,
    make_brand,
    make_campaign,
    payment,
    purchase,
)
from waiting import wait_until


@pytest.fixture
def quiet_app(settings: Settings, db: Database) -> FastAPI:
    """The app without the background thread: tests integrate when they choose."""
    return create_app(settings.model_copy(update={"tlog_sequencer": False}), db=db)


@pytest.fixture
def qclient(quiet_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(quiet_app) as c:
        yield c


def integrate_all(app: FastAPI) -> int:
    service = services_of(app).log
    while integrate_batch(service, 1000).integrated:
        pass
    return service.checkpoint().size


def story(client: TestClient, db: Database, admin_key: str) -> tuple[str, str, Tenant]:
    """A pledge with a receipt, a refund, a confirmed settlement and a delivery."""
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id)
    r = client.post("/v1/purchases", json=purchase("A-1", ("PAMPERS-S3", 3, 2499)), headers=auth(brand.key))
    assert r.status_code == 200, r.text
    secret = r.json()["results"][0]["receipt"]["secret"]
    r = client.post(
        "/v1/refunds",
        json={"order_id": "A-1", "refund_id": "R1", "lines": [{"line_id": "1", "quantity": 1}]},
        headers=auth(brand.key),
    )
    assert r.status_code == 200, r.text
    r = client.post(f"/v1/campaigns/{cid}/settlements", json=payment(50), headers=auth(brand.key))
    assert r.status_code == 201, r.text
    r = client.post(f"/v1/settlements/{r.json()['id']}/confirm", json={}, headers=auth(ben.key))
    assert r.status_code == 200, r.text
    march = delivery(1, "https://ngo.example/r")
    r = client.post(f"/v1/campaigns/{cid}/deliveries", json=march, headers=auth(ben.key))
    assert r.status_code == 201, r.text
    return cid, secret, ben


def test_checkpoint_key_tiles_and_headers(qclient: TestClient, db: Database, quiet_app: FastAPI) -> None:
    r = qclient.get("/log/checkpoint")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["cache-control"] == "public, max-age=5"
    key = qclient.get("/log/key").text
    verifier = parse_verifier_key(key)
    assert verifier.name == "testserver/log"
    assert open_checkpoint(r.text, verifier).checkpoint.size == 0

    with db.write() as conn:
        for i in range(300):
            enqueue(conn, {"v": 1, "kind": "test", "n": i})
    assert integrate_all(quiet_app) == 300
    full = qclient.get("/log/tile/0/000")
    assert full.status_code == 200
    assert len(full.content) == 8192
    assert full.headers["content-type"] == "application/octet-stream"
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert full.headers["access-control-allow-origin"] == "*"
    part = qclient.get("/log/tile/0/001.p/44")
    assert len(part.content) == 44 * 32
    assert part.headers["cache-control"] == "public, max-age=5"
    bundle = qclient.get("/log/tile/entries/001.p/44")
    assert bundle.content.startswith(b'\x00\x1d{"kind":"test","n":256,"v":1}\x00')
    assert qclient.get("/log/tile/1/000.p/1").status_code == 200
    for missing in [
        "/log/tile/0/002",
        "/log/tile/0/001.p/45",
        "/log/tile/0/0000",
        "/log/tile/entries/x000/001",
        "/log/tile/0/..%2f..%2fcheckpoint",
    ]:
        assert qclient.get(missing).status_code == 404, missing
    assert qclient.get("/log/tile/0/002").headers["content-type"].startswith("application/problem+json")


def test_receipt_pending_then_proven(
    qclient: TestClient, db: Database, admin_key: str, quiet_app: FastAPI
) -> None:
    _, secret, _ = story(qclient, db, admin_key)
    r = qclient.get(f"/v1/receipts/{secret}")
    assert r.status_code == 202
    assert r.json()["status"] == "pending"
    integrate_all(quiet_app)
    r = qclient.get(f"/v1/receipts/{secret}")
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["entry_json"]["kind"] == "pledge"
    assert body["entry_json"]["units"] == 3
    verifier = parse_verifier_key(qclient.get("/log/key").text)
    receipt = parse_receipt(body)
    cp = open_checkpoint(receipt.checkpoint, verifier).checkpoint
    verify_inclusion(leaf_hash(receipt.entry), receipt.index, cp.size, receipt.proof, cp.root)
    assert qclient.get("/v1/receipts/not-a-secret").status_code == 404
    assert qclient.get("/v1/receipts/" + "x" * 300).status_code == 404
    # The web page finds the same bundle through the same log service.
    found = services_of(quiet_app).log.receipt(body["commitment"])
    assert found is not None
    assert found["index"] == receipt.index


def test_background_sequencer_integrates_within_the_wait(
    client: TestClient, db: Database, admin_key: str
) -> None:
    _, secret, _ = story(client, db, admin_key)

    def answered() -> Response | None:
        r = client.get(f"/v1/receipts/{secret}")
        return None if r.status_code == 202 else r  # 202: accepted, not yet in the log

    r = wait_until(answered, what="the sequencer to integrate the entry")
    assert r.status_code == 200


@pytest.fixture
def live(quiet_app: FastAPI) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(quiet_app, host="127.0.0.1", port=port, log_level="error", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, what="uvicorn to start")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def verify(*args: str) -> Any:
    return CliRunner().invoke(verify_cli.app, list(args))


def test_verify_commands_against_the_live_server(
    live: str, qclient: TestClient, db: Database, admin_key: str, quiet_app: FastAPI, tmp_path: Any
) -> None:
    cid, secret, _ = story(qclient, db, admin_key)
    pending = verify("receipt", secret, "--log", f"{live}/log")
    assert pending.exit_code == 5, pending.output
    (tmp_path / "old.checkpoint").write_text(qclient.get("/log/checkpoint").text)
    integrate_all(quiet_app)
    key = qclient.get("/log/key").text.strip()
    log = f"{live}/log"

    r = verify("checkpoint", "--log", log, "--key", key)
    assert r.exit_code == 0, r.output
    r = verify("receipt", secret, "--log", log, "--key", key)
    assert r.exit_code == 0, r.output
    assert "carries this receipt secret's commitment" in r.output
    r = verify("consistency", str(tmp_path / "old.checkpoint"), "--log", log, "--key", key)
    assert r.exit_code == 0, r.output
    r = verify("audit", "--log", log, "--key", key)
    assert r.exit_code == 0, r.output
    assert "balances of 1 campaigns match the log" in r.output

    # The brand quietly doubles every posting of its campaign in the database: the API now
    # publishes figures the log does not back, and the audit names them.
    with db.write() as conn:
        conn.execute(
            text("UPDATE ledger_postings SET amount = amount * 2 WHERE campaign_id = :c"), {"c": cid}
        )
    r = verify("audit", "--log", log, "--key", key)
    assert r.exit_code == 1
    assert f"MISMATCH {cid}: pledged.units: log 2, API 4" in r.output


def _entries_for(db: Database, campaign_id: str) -> list[dict[str, Any]]:
    with db.read() as conn:
        rows: list[bytes] = list(conn.execute(text("SELECT data FROM tlog_entries ORDER BY id")).scalars())
    found = [json.loads(bytes(r)) for r in rows]
    return [e for e in found if e.get("campaign") == campaign_id]


def _test_mode(db: Database, qclient: TestClient) -> tuple[Tenant, str]:
    """A test-mode brand (with its key) and a test-mode beneficiary, made by a test admin key."""
    with db.write() as conn:
        test_admin, _ = create_key(conn, "admin", livemode=False)
    brand = qclient.post("/v1/brands", json={"name": "Sandbox brand"}, headers=auth(test_admin)).json()
    ben = qclient.post("/v1/beneficiaries", json={"name": "Sandbox NGO"}, headers=auth(test_admin)).json()
    assert (brand["livemode"], ben["livemode"]) == (False, False)
    with db.write() as conn:
        key, _ = create_key(conn, "brand", brand["id"])
    return Tenant(brand["id"], key), ben["id"]


def test_drafts_and_test_mode_stay_out_of_the_log_and_public_figures(
    qclient: TestClient, db: Database, admin_key: str
) -> None:
    """Issue 12: the public brand balance listed draft and test-mode campaigns, and the public
    log carried a draft's full definition."""
    brand = make_brand(qclient, db, admin_key)
    ben = make_beneficiary(qclient, db, admin_key)
    live = make_campaign(qclient, brand, ben.id)
    draft = make_campaign(qclient, brand, ben.id, status="draft", name="Secret spring launch")
    test_brand, test_ben = _test_mode(db, qclient)
    sandbox = make_campaign(qclient, test_brand, test_ben)
    r = qclient.post(
        "/v1/purchases", json=purchase("T-1", ("PAMPERS-S3", 2, 2499)), headers=auth(test_brand.key)
    )
    assert r.json()["results"][0]["outcome"] == "pledged", r.text
    assert qclient.get(f"/v1/brands/{test_brand.id}/balance").json()["campaigns"] == []

    listed = {c["campaign_id"] for c in qclient.get(f"/v1/brands/{brand.id}/balance").json()["campaigns"]}
    assert listed == {live}
    assert _entries_for(db, draft) == []
    assert _entries_for(db, sandbox) == []
    with db.read() as conn:
        stored: list[bytes] = list(conn.execute(text("SELECT data FROM tlog_entries")).scalars())
    everything = b"".join(bytes(r) for r in stored)
    assert b"Secret spring launch" not in everything

    # first activation puts the definition in the log, once
    r = qclient.post(f"/v1/campaigns/{draft}/status", json={"status": "active"}, headers=auth(brand.key))
    assert r.status_code == 200, r.text
    [defined] = _entries_for(db, draft)
    assert defined["kind"] == "campaign_defined"
    assert defined["status"] == "active"
    assert defined["definition"]["name"] == "Secret spring launch"
    assert draft in {
        c["campaign_id"] for c in qclient.get(f"/v1/brands/{brand.id}/balance").json()["campaigns"]
    }


def test_verify_audit_passes_on_an_honest_instance_with_drafts_test_mode_paused_and_ended(
    live: str, qclient: TestClient, db: Database, admin_key: str, quiet_app: FastAPI
) -> None:
    brand = make_brand(qclient, db, admin_key)
    ben = make_beneficiary(qclient, db, admin_key)
    active = make_campaign(qclient, brand, ben.id, name="Active")
    paused = make_campaign(
        qclient,
        brand,
        ben.id,
        name="Paused",
        rules=[{"kind": "per_unit", "sku_patterns": ["PAUSE-*"], "units_per_item": 1}],
    )
    ended = make_campaign(
        qclient,
        brand,
        ben.id,
        name="Ended",
        rules=[{"kind": "per_unit", "sku_patterns": ["END-*"], "units_per_item": 1}],
    )
    make_campaign(qclient, brand, ben.id, status="draft", name="Draft")
    draft_then_patched = make_campaign(qclient, brand, ben.id, status="draft", name="Draft 2")
    r = qclient.patch(
        f"/v1/campaigns/{draft_then_patched}", json={"name": "Draft 2b"}, headers=auth(brand.key)
    )
    assert r.status_code == 200, r.text
    test_brand, test_ben = _test_mode(db, qclient)
    make_campaign(qclient, test_brand, test_ben)
    for order, sku in (("A-1", "PAMPERS-S3"), ("P-1", "PAUSE-1"), ("E-1", "END-1")):
        r = qclient.post("/v1/purchases", json=purchase(order, (sku, 2, 2499)), headers=auth(brand.key))
        assert r.status_code == 200, r.text
    r = qclient.post(
        "/v1/purchases", json=purchase("T-1", ("PAMPERS-S3", 2, 2499)), headers=auth(test_brand.key)
    )
    assert r.json()["results"][0]["outcome"] == "pledged", r.text
    for cid, status in ((paused, "paused"), (ended, "ended")):
        r = qclient.post(f"/v1/campaigns/{cid}/status", json={"status": status}, headers=auth(brand.key))
        assert r.status_code == 200, r.text
    assert active
    integrate_all(quiet_app)
    key = qclient.get("/log/key").text.strip()
    r = verify("audit", "--log", f"{live}/log", "--key", key)
    assert r.exit_code == 0, r.output
    assert "balances of 3 campaigns match the log" in r.output


def test_a_publishers_counted_clicks_are_re_derived_from_the_log(
    live: str, qclient: TestClient, db: Database, admin_key: str, quiet_app: FastAPI
) -> None:
    """Issue 12: click entries carried no publisher, so a blogger could not prove their readers'
    clicks. Now each click entry names the publisher; `wefirst verify publisher` re-derives the
    counts from the re-hashed log and checks the public publisher page against them."""
    brand = make_brand(qclient, db, admin_key)
    ben = make_beneficiary(qclient, db, admin_key)
    cid = make_campaign(qclient, brand, ben.id, rules=[{"kind": "per_click", "units_per_click": 1}])
    pubs = []
    for name in ("Blog A", "Blog B"):
        r = qclient.post(
            "/v1/publishers", json={"name": name, "domains": ["blog.example"]}, headers=auth(admin_key)
        )
        assert r.status_code == 201, r.text
        pub = Tenant(r.json()["id"], r.json()["api_key"]["secret"])
        r = qclient.post(
            f"/v1/publishers/{pub.id}/campaigns", json={"campaign_id": cid}, headers=auth(pub.key)
        )
        assert r.status_code == 200, r.text
        approve_publisher(qclient, brand.key, cid, pub.id)
        pubs.append(pub)
    a, b = pubs
    for who, visitor in (
        (a, "visitor-one-aaaaaaaa"),
        (a, "visitor-two-aaaaaaaa"),
        (a, "visitor-one-aaaaaaaa"),
        (b, "visitor-three-aaaaaa"),
    ):
        r = qclient.post("/v1/clicks", json={"campaign_id": cid, "visitor": visitor}, headers=auth(who.key))
        assert r.status_code == 200, r.text
    integrate_all(quiet_app)
    clicks = [e for e in _entries_for(db, cid) if e["kind"] == "pledge"]
    assert sorted(e["publisher"] for e in clicks) == sorted([a.id, a.id, b.id])

    page = qclient.get(f"/publishers/{a.id}.json").json()
    assert page["campaigns"] == [{"campaign": cid, "clicks": 2, "units": 2}]
    html = qclient.get(f"/publishers/{a.id}")
    assert html.status_code == 200
    assert f"wefirst verify publisher {a.id}" in html.text
    assert qclient.get("/publishers/pub_unknown").status_code == 404

    # a view reads only what was published since the last one, not the whole log again
    before = queries.scanned_entries
    assert qclient.get(f"/publishers/{a.id}.json").json()["campaigns"][0]["clicks"] == 2
    assert queries.scanned_entries == before
    r = qclient.post(
        "/v1/clicks", json={"campaign_id": cid, "visitor": "visitor-four-aaaaaaa"}, headers=auth(a.key)
    )
    assert r.status_code == 200, r.text
    size = qclient.get(f"/publishers/{a.id}.json").json()["log_size"]
    integrate_all(quiet_app)
    before = queries.scanned_entries
    page = qclient.get(f"/publishers/{a.id}.json").json()
    assert page["campaigns"] == [{"campaign": cid, "clicks": 3, "units": 3}]
    assert 0 < queries.scanned_entries - before < page["log_size"] - size + 1 < page["log_size"]

    key = qclient.get("/log/key").text.strip()
    r = verify("publisher", a.id, "--log", f"{live}/log", "--key", key)
    assert r.exit_code == 0, r.output
    assert f"{cid}: 3 counted clicks, 3 units" in r.output
    assert f"OK: the public page of {a.id} matches the log" in r.output
