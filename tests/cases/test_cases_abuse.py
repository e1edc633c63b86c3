"""Abuse paths: each gets a clear RFC 9457 refusal and changes nothing (row counts and case
state compared before and after)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from wefirst.cases.identity import _SALTS, sign_verification
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_cases import case_supporters

from cases.cases_kit import (
    case_body,
    case_log,
    client_from,
    cosign_and_confirm,
    open_case,
    snapshot,
    token_from,
)
from factories import auth, make_beneficiary, make_brand, make_campaign
from smtp_server import SmtpSink


def problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    assert body["detail"]
    return body


@pytest.fixture
def brand_id(client: TestClient, db: Database, admin_key: str) -> str:
    return make_brand(client, db, admin_key).id


BAD_TEXT = [
    ("title", "<script>alert(1)</script> bad brand", "markup_refused"),
    ("title", "Nice title <img src=x onerror=alert(1)>", "markup_refused"),
    ("what_happened", "It started with <a href='javascript:alert(1)'>this</a> ad.", "markup_refused"),
    ("what_is_asked", "&lt;script&gt; encoded markup to sneak past", "entity_refused"),
    ("title", "Hidden \u202etxt.exe direction trick", "control_refused"),
    ("title", "short", "too_short"),
    ("category", "politics", "bad_choice"),
    ("language", "de", "bad_choice"),
]


def test_bad_text_is_refused_and_nothing_is_written(client: TestClient, db: Database, brand_id: str) -> None:
    # one test over all inputs: each database reset costs more than the requests themselves
    before = snapshot(db)
    for field, value, code in BAD_TEXT:
        body = problem(client.post("/v1/cases", json=case_body(brand_id, **{field: value})), 422)
        assert {"field": field, "code": code} in body["codes"], (field, value)
        assert any(e["field"] == field for e in body["errors"]), (field, value)
    assert snapshot(db) == before


def test_oversized_and_bad_evidence_lists(client: TestClient, db: Database, brand_id: str) -> None:
    before = snapshot(db)
    eleven = [f"https://example.org/proof/{i}" for i in range(11)]
    body = problem(client.post("/v1/cases", json=case_body(brand_id, evidence=eleven)), 422)
    assert body["errors"] == [{"field": "evidence", "reason": "At most 10 evidence links per case (got 11)."}]
    huge = [f"https://example.org/{i}" for i in range(500)]
    problem(client.post("/v1/cases", json=case_body(brand_id, evidence=huge)), 422)
    bad = [
        "https://ok.example.org/a",
        "javascript:alert(1)",
        "https://user:pw@bank.example/",
        "http://127.0.0.1/",
    ]
    body = problem(client.post("/v1/cases", json=case_body(brand_id, evidence=bad)), 422)
    assert [e["field"] for e in body["errors"]] == ["evidence[1]", "evidence[2]", "evidence[3]"]
    assert snapshot(db) == before


def test_references_to_other_brands_or_nothing(
    client: TestClient, db: Database, admin_key: str, brand_id: str
) -> None:
    other = make_brand(client, db, admin_key, "Other")
    ben = make_beneficiary(client, db, admin_key)
    their_campaign = make_campaign(client, other, ben.id)
    before = snapshot(db)
    body = problem(client.post("/v1/cases", json=case_body(brand_id, campaign_id=their_campaign)), 422)
    assert body["errors"][0]["field"] == "campaign_id"
    problem(client.post("/v1/cases", json=case_body("brd_doesnotexist")), 422)
    problem(client.post("/v1/cases", json=case_body(brand_id, campaign_id="cmp_nope")), 422)
    problem(client.post("/v1/cases", json=case_body(brand_id) | {"opener_token": "cot_mine"}), 422)
    assert snapshot(db) == before


def test_duplicate_case_offers_to_cosign_the_existing_one(
    client: TestClient, db: Database, brand_id: str
) -> None:
    first = open_case(client, brand_id)
    before = snapshot(db)
    copy = case_body(
        brand_id,
        title="VACCINES PROMISED BUT NOT PAID FOR!",
        what_happened="Every pack of nappies was meant to fund one tetanus vaccine. The ledger "
        "shows far fewer vaccines paid for than packs sold since March!!",
    )
    body = problem(client.post("/v1/cases", json=copy), 409)
    assert body["duplicate_of"] == first["id"]
    assert body["cosign"] == f"/v1/cases/{first['id']}/cosign"
    assert body["duplicates"][0]["body_similarity"] > 0.6
    assert "cosignez-le" in body["message_fr"]
    assert snapshot(db) == before
    # a praise case about the same brand is a different voice, not a duplicate
    r = client.post("/v1/cases", json=copy | {"kind": "praise"})
    assert r.status_code == 201


def test_unverified_signatures_do_not_count(
    client: TestClient, db: Database, brand_id: str, smtp_sink: SmtpSink
) -> None:
    case_id = open_case(client, brand_id)["id"]
    for i in range(12):
        r = client.post(f"/v1/cases/{case_id}/cosign", json={"email": f"p{i}@example.org"})
        assert r.status_code == 202
    smtp_sink.wait_for(10)
    body = client.get(f"/v1/cases/{case_id}").json()
    assert body["cosigns"] == 0
    assert body["cosign_velocity"] == {"last_hour": 0, "last_24_hours": 0}
    series = client.get(f"/v1/brands/{brand_id}/cosign-series", params={"since": "2020-01-01T00:00:00Z"})
    assert series.status_code == 422  # more than a year back
    since = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    series = client.get(f"/v1/brands/{brand_id}/cosign-series", params={"since": since})
    assert series.json()["data"] == []
    assert [e["kind"] for e in case_log(db)] == ["case_opened"]


def test_forged_expired_or_cross_purpose_links(
    client: TestClient, db: Database, brand_id: str, smtp_sink: SmtpSink, settings: Settings
) -> None:
    case_id = open_case(client, brand_id)["id"]
    client.post(f"/v1/cases/{case_id}/cosign", json={"email": "a@example.org"})
    token = token_from(smtp_sink.wait_for(1)[-1].links()[0])
    before = snapshot(db)
    i = len(token) - 10  # inside the signature, away from the padding bits of the last character
    tampered = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
    for bad in (tampered, "garbage", token + "x", token[:-12]):
        body = problem(client.post(f"/v1/cosign-confirmations/{bad}"), 422)
        assert body["errors"][0]["field"] == "token"
    # a co-sign link is not an erasure link
    problem(client.post(f"/v1/supporter-erasures/{token}"), 422)
    # a link signed by another server's secret
    with db.read() as conn:
        sup_id: str = conn.execute(select(case_supporters.c.id)).scalar_one()
    forged = sign_verification("another-secret", sup_id)
    problem(client.post(f"/v1/cosign-confirmations/{forged}"), 422)
    assert snapshot(db) == before
    # a genuine link, signed 49 hours ago, has expired (links last 48 hours)
    old = URLSafeTimedSerializer(settings.secret_key, salt=_SALTS["cosign"], signer=_SignedLongAgo).dumps(
        {"s": sup_id}
    )
    body = problem(client.post(f"/v1/cosign-confirmations/{old}"), 422)
    assert "expired" in body["errors"][0]["reason"]
    assert snapshot(db) == before
    assert client.post(f"/v1/cosign-confirmations/{token}").status_code == 200


class _SignedLongAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 49 * 3600


def test_mass_cosigning_from_one_address(
    app: FastAPI, db: Database, brand_id: str, smtp_sink: SmtpSink, settings: Settings
) -> None:
    limit = settings.cases_cosign_limit_per_address
    ids = []
    for i in range(limit + 1):
        with client_from(app, f"198.51.{i}.7") as c:
            ids.append(
                open_case(
                    c,
                    brand_id,
                    title=f"Case number {i} about the brand",
                    what_happened=f"Story {i}: " + " ".join(f"w{i}x{j}" for j in range(12)),
                )["id"]
            )
    # from many networks, one address: the address limit holds
    for i, case_id in enumerate(ids[:limit]):
        with client_from(app, f"203.0.{i}.9") as c:
            r = c.post(f"/v1/cases/{case_id}/cosign", json={"email": f"bot+{i}@example.org"})
            assert r.status_code == 202, r.text
    before = snapshot(db)
    sent = len(smtp_sink.wait_for(limit))
    with client_from(app, "192.0.2.200") as c:
        r = c.post(f"/v1/cases/{ids[limit]}/cosign", json={"email": "BOT@example.org"})
    body = problem(r, 429)
    assert "this e-mail address" in body["detail"]
    assert int(r.headers["Retry-After"]) > 0
    assert snapshot(db) == before
    assert len(smtp_sink.messages) == sent


def test_mass_cosigning_from_one_network(
    app: FastAPI, db: Database, brand_id: str, smtp_sink: SmtpSink, settings: Settings
) -> None:
    limit = settings.cases_cosign_limit_per_network
    with client_from(app, "192.0.2.1") as c:
        case_id = open_case(c, brand_id)["id"]
    # rotating addresses inside one /24 buys nothing
    for i in range(limit):
        with client_from(app, f"198.51.100.{i + 1}") as c:
            r = c.post(f"/v1/cases/{case_id}/cosign", json={"email": f"u{i}@example.org"})
            assert r.status_code == 202, r.text
    smtp_sink.wait_for(limit)
    before = snapshot(db)
    with client_from(app, "198.51.100.250") as c:
        body = problem(c.post(f"/v1/cases/{case_id}/cosign", json={"email": "fresh@example.org"}), 429)
    assert "your network" in body["detail"]
    assert snapshot(db) == before
    # another network is not affected
    with client_from(app, "198.51.101.1") as c:
        assert c.post(f"/v1/cases/{case_id}/cosign", json={"email": "fresh@example.org"}).status_code == 202


def test_case_flood_from_one_network(app: FastAPI, db: Database, brand_id: str, settings: Settings) -> None:
    with client_from(app, "2001:db8:42:1::5") as c:
        for i in range(settings.cases_open_limit_per_network):
            open_case(
                c,
                brand_id,
                title=f"Distinct case {i} title",
                what_happened=f"Distinct story {i}: " + " ".join(f"t{i}y{j}" for j in range(12)),
            )
    before = snapshot(db)
    with client_from(app, "2001:db8:42:ffff::9") as c:  # same /48
        body = problem(c.post("/v1/cases", json=case_body(brand_id, title="One more case please")), 429)
    assert "your network" in body["detail"]
    assert snapshot(db) == before


UNUSABLE_ADDRESSES = [
    "not-an-address",
    "a@b@example.org",
    "x@localhost",
    "victim@example.org\r\nBcc: all@example.org",
    "<b>@x.org",
]


def test_unusable_addresses(client: TestClient, db: Database, brand_id: str, smtp_sink: SmtpSink) -> None:
    case_id = open_case(client, brand_id)["id"]
    before = snapshot(db)
    for email in UNUSABLE_ADDRESSES:
        body = problem(client.post(f"/v1/cases/{case_id}/cosign", json={"email": email}), 422)
        assert body["errors"][0]["field"] == "email", email
    assert snapshot(db) == before
    assert smtp_sink.messages == []


def test_no_signatures_on_hidden_or_resolved_cases(
    client: TestClient, db: Database, admin_key: str, smtp_sink: SmtpSink
) -> None:
    brand = make_brand(client, db, admin_key)
    hidden = open_case(client, brand.id)["id"]
    client.post(f"/v1/cases/{hidden}/cosign", json={"email": "early@example.org"})
    pending_token = token_from(smtp_sink.wait_for(1)[-1].links()[0])
    r = client.post(
        f"/v1/cases/{hidden}/hide", json={"public_reason": "Names a private person."}, headers=auth(admin_key)
    )
    assert r.status_code == 200
    resolved = open_case(
        client,
        brand.id,
        title="Labour conditions at the depot",
        what_happened="Drivers at the depot work twelve hour shifts without breaks since June.",
        category="labour",
    )
    client.post(
        f"/v1/cases/{resolved['id']}/answers",
        json={"body": "Breaks are now scheduled every four hours.", "language": "en"},
        headers=auth(brand.key),
    )
    client.post(f"/v1/cases/{resolved['id']}/accept", json={"opener_token": resolved["opener_token"]})
    before = snapshot(db)
    problem(client.post(f"/v1/cases/{hidden}/cosign", json={"email": "x@example.org"}), 409)
    problem(client.post(f"/v1/cases/{resolved['id']}/cosign", json={"email": "x@example.org"}), 409)
    # a link mailed before the case was hidden no longer counts
    problem(client.post(f"/v1/cosign-confirmations/{pending_token}"), 409)
    problem(client.post("/v1/cases/cas_nothere/cosign", json={"email": "x@example.org"}), 404)
    assert snapshot(db) == before


def test_markup_in_answers_reports_and_moderation(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    case = open_case(client, brand.id)
    before = snapshot(db)
    r = client.post(
        f"/v1/cases/{case['id']}/answers",
        json={
            "body": "<b>We</b> did nothing wrong at all.",
            "language": "en",
            "commitments": [{"text": "<script>x</script>"}],
        },
        headers=auth(brand.key),
    )
    body = problem(r, 422)
    assert [e["field"] for e in body["errors"]] == ["body", "commitments[0].text"]
    r = client.post(
        f"/v1/cases/{case['id']}/answers",
        json={
            "body": "Eleven promises in one answer.",
            "language": "en",
            "commitments": [{"text": f"Promise number {i}"} for i in range(11)],
        },
        headers=auth(brand.key),
    )
    assert problem(r, 422)["errors"][0]["field"] == "commitments"
    r = client.post(
        f"/v1/cases/{case['id']}/answers",
        json={
            "body": "We promise to fix it all.",
            "language": "en",
            "commitments": [{"text": "Fix it", "due_on": "2001-01-01"}],
        },
        headers=auth(brand.key),
    )
    assert problem(r, 422)["errors"][0]["field"] == "commitments[0].due_on"
    problem(
        client.post(f"/v1/cases/{case['id']}/reports", json={"reason": "spam", "note": "<iframe src=x>"}), 422
    )
    problem(client.post(f"/v1/cases/{case['id']}/reports", json={"reason": "boring"}), 422)
    problem(
        client.post(
            f"/v1/cases/{case['id']}/hide", json={"public_reason": "<b>gone</b>"}, headers=auth(admin_key)
        ),
        422,
    )
    assert snapshot(db) == before


def test_opener_note_with_markup(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    case = open_case(client, brand.id)
    client.post(
        f"/v1/cases/{case['id']}/answers",
        json={"body": "We paid everything, see the ledger.", "language": "en"},
        headers=auth(brand.key),
    )
    before = snapshot(db)
    r = client.post(
        f"/v1/cases/{case['id']}/reject", json={"opener_token": case["opener_token"], "note": "<i>no</i>"}
    )
    assert problem(r, 422)["errors"][0]["field"] == "note"
    assert snapshot(db) == before


def test_cosigning_twice_through_one_link_counts_once(
    client: TestClient, db: Database, brand_id: str, smtp_sink: SmtpSink
) -> None:
    case_id = open_case(client, brand_id)["id"]
    cosign_and_confirm(client, smtp_sink, case_id, "once@example.org")
    link = smtp_sink.messages[-1].links()[0].replace("http://testserver", "")
    before = snapshot(db)
    for _ in range(3):
        assert client.post(link).json()["newly_counted"] is False
    assert snapshot(db) == before
