"""Walls between brands, the opener, supporters and moderators: each side can do its own
part only, and a refused request changes nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from wefirst.auth.keys import create_key
from wefirst.ingest.idempotency import NOT_REPLAYED
from wefirst.store.db import Database

from cases.cases_kit import case_body, client_from, open_case, snapshot
from factories import auth, make_beneficiary, make_brand
from smtp_server import SmtpSink

ANSWER = {"body": "We hear you and are looking into the figures.", "language": "en"}


def test_only_the_brand_concerned_answers(client: TestClient, db: Database, admin_key: str) -> None:
    pampy = make_brand(client, db, admin_key, "Pampy")
    rival = make_brand(client, db, admin_key, "Rival")
    ben = make_beneficiary(client, db, admin_key)
    case_id = open_case(client, pampy.id)["id"]
    before = snapshot(db)
    for headers, status in [
        ({}, 401),
        (auth(rival.key), 403),
        (auth(admin_key), 403),  # an admin cannot speak for a brand
        (auth(ben.key), 403),
        ({"Authorization": "Bearer sk_live_brand_forged"}, 401),
    ]:
        r = client.post(f"/v1/cases/{case_id}/answers", json=ANSWER, headers=headers)
        assert r.status_code == status, (headers, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert snapshot(db) == before
    r = client.post(f"/v1/cases/{case_id}/answers", json=ANSWER, headers=auth(pampy.key))
    assert r.status_code == 201


def test_only_the_opener_accepts_or_rejects(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    first = open_case(client, brand.id)
    second = open_case(
        client,
        brand.id,
        title="Factory waste in the river",
        what_happened="Since May the factory pours grey water into the river behind the site.",
        what_is_asked="Stop it and publish the water tests.",
        category="environment",
    )
    for c in (first, second):
        r = client.post(f"/v1/cases/{c['id']}/answers", json=ANSWER, headers=auth(brand.key))
        assert r.status_code == 201
    before = snapshot(db)
    for body in (
        {"opener_token": second["opener_token"]},  # another case's opener
        {"opener_token": first["opener_token"] + "x"},
        {"opener_token": "cot_guess"},
    ):
        r = client.post(f"/v1/cases/{first['id']}/accept", json=body)
        assert r.status_code == 403, r.text
    # a brand key is no opener token
    r = client.post(
        f"/v1/cases/{first['id']}/accept", json={"opener_token": brand.key}, headers=auth(brand.key)
    )
    assert r.status_code == 403
    r = client.post(f"/v1/cases/{first['id']}/accept", json={})
    assert r.status_code == 422
    assert snapshot(db) == before
    r = client.post(f"/v1/cases/{first['id']}/accept", json={"opener_token": first["opener_token"]})
    assert r.status_code == 200
    assert r.json()["state"] == "resolved"


def test_moderation_is_for_moderators(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    case_id = open_case(client, brand.id)["id"]
    r = client.post(f"/v1/cases/{case_id}/reports", json={"reason": "defamation", "note": "Untrue."})
    assert r.status_code == 201
    report_id = r.json()["id"]
    before = snapshot(db)
    hide = {"public_reason": "Unproven accusation against a named person."}
    for headers, status in [({}, 401), (auth(brand.key), 403)]:
        assert client.post(f"/v1/cases/{case_id}/hide", json=hide, headers=headers).status_code == status
        assert client.get("/v1/moderation/reports", headers=headers).status_code == status
        r = client.post(f"/v1/moderation/reports/{report_id}/dismiss", json=hide, headers=headers)
        assert r.status_code == status
    assert snapshot(db) == before
    r = client.post(f"/v1/cases/{case_id}/hide", json=hide, headers=auth(admin_key))
    assert r.status_code == 200, r.text


def test_supporters_and_brands_never_see_addresses(
    client: TestClient, db: Database, admin_key: str, smtp_sink: SmtpSink
) -> None:
    brand = make_brand(client, db, admin_key)
    case_id = open_case(client, brand.id)["id"]
    r = client.post(f"/v1/cases/{case_id}/cosign", json={"email": "secret.person@example.org"})
    assert r.status_code == 202
    for headers in ({}, auth(brand.key), auth(admin_key)):
        for path in (f"/v1/cases/{case_id}", "/v1/cases", f"/v1/brands/{brand.id}/case-summary"):
            text = client.get(path, headers=headers).text
            assert "secret.person" not in text
            assert "opener_token" not in text
            assert "email" not in text


def test_brand_contact_is_private_to_the_brand(client: TestClient, db: Database, admin_key: str) -> None:
    pampy = make_brand(client, db, admin_key, "Pampy")
    rival = make_brand(client, db, admin_key, "Rival")
    body = {"alert_email": "alerts@pampy.example"}
    assert (
        client.put(f"/v1/brands/{pampy.id}/case-contact", json=body, headers=auth(rival.key)).status_code
        == 403
    )
    assert client.put(f"/v1/brands/{pampy.id}/case-contact", json=body).status_code == 401
    assert (
        client.put(f"/v1/brands/{pampy.id}/case-contact", json=body, headers=auth(pampy.key)).status_code
        == 200
    )
    assert client.get(f"/v1/brands/{pampy.id}/case-contact", headers=auth(rival.key)).status_code == 403
    r = client.get(f"/v1/brands/{pampy.id}/case-contact", headers=auth(pampy.key))
    assert r.json()["alert_email"] == "alerts@pampy.example"
    bad = {"alert_email": "alerts@pampy.example\r\nBcc: x@evil.example"}
    r = client.put(f"/v1/brands/{pampy.id}/case-contact", json=bad, headers=auth(pampy.key))
    assert r.status_code == 422


def test_moderator_keys_moderate_and_nothing_else(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    case_id = open_case(client, brand.id)["id"]
    with db.write() as conn:
        moderator, _ = create_key(conn, "moderator")
    before = snapshot(db)
    assert (
        client.post(f"/v1/cases/{case_id}/answers", json=ANSWER, headers=auth(moderator)).status_code == 403
    )
    assert client.post("/v1/cases/sweep", headers=auth(moderator)).status_code == 403
    assert client.get(f"/v1/brands/{brand.id}/case-contact", headers=auth(moderator)).status_code == 403
    assert snapshot(db) == before
    assert client.get("/v1/moderation/reports", headers=auth(moderator)).status_code == 200
    r = client.post(
        f"/v1/cases/{case_id}/hide", json={"public_reason": "Spam links only."}, headers=auth(moderator)
    )
    assert r.status_code == 200
    assert r.json()["title"]  # moderators still read hidden cases
    assert "title" not in client.get(f"/v1/cases/{case_id}").json()


def test_anonymous_idempotency_keys_are_never_shared(
    client: TestClient, db: Database, admin_key: str
) -> None:
    """The same Idempotency-Key from another network opens its own case and never replays the
    first caller's answer; the caller's own replay does not repeat the opener token, which is
    shown once and never stored in clear."""
    brand = make_brand(client, db, admin_key)
    body = case_body(brand.id)
    key = {"Idempotency-Key": "same-key"}
    with client_from(client.app, "198.51.100.1") as a:
        first = a.post("/v1/cases", json=body, headers=key)
        replay = a.post("/v1/cases", json=body, headers=key)
    assert first.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["opener_token"] == NOT_REPLAYED
    assert replay.json()["id"] == first.json()["id"]
    with client_from(client.app, "203.0.113.1") as b:
        other = b.post("/v1/cases", json=body, headers=key)
    assert "Idempotent-Replayed" not in other.headers
    assert other.status_code == 409  # a fresh request: the duplicate check answers
    assert first.json()["opener_token"] not in other.text

    # the opener's verdict replays per opener token
    case_id, token = first.json()["id"], first.json()["opener_token"]
    client.post(f"/v1/cases/{case_id}/answers", json=ANSWER, headers=auth(brand.key))
    r1 = client.post(f"/v1/cases/{case_id}/accept", json={"opener_token": token}, headers=key)
    r2 = client.post(f"/v1/cases/{case_id}/accept", json={"opener_token": token}, headers=key)
    assert r1.status_code == r2.status_code == 200
    assert r2.headers["Idempotent-Replayed"] == "true"
    r3 = client.post(f"/v1/cases/{case_id}/accept", json={"opener_token": token})
    assert r3.status_code == 409  # without the key it is a second verdict on a resolved case
