"""The moderation queue end to end: reports, hide with a public reason, restore, dismiss;
every act logged, hidden content withheld from the public but not from moderators."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient
from sqlalchemy import select

from wefirst.store.db import Database
from wefirst.store.tables_cases import case_moderation_log

from cases.cases_kit import case_log, open_case
from factories import auth, make_brand


def test_report_hide_restore_dismiss(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    case = open_case(client, brand.id)
    case_id = case["id"]
    reports = []
    for reason in ("defamation", "personal_data"):
        r = client.post(f"/v1/cases/{case_id}/reports", json={"reason": reason, "note": "See paragraph 2."})
        assert r.status_code == 201, r.text
        reports.append(r.json()["id"])
    queue = client.get("/v1/moderation/reports", headers=auth(admin_key)).json()
    assert [q["id"] for q in queue["data"]] == reports  # oldest first
    assert queue["data"][0]["note"] == "See paragraph 2."
    page1 = client.get("/v1/moderation/reports", params={"limit": 1}, headers=auth(admin_key)).json()
    assert page1["has_more"] is True
    page2 = client.get(
        "/v1/moderation/reports",
        params={"limit": 1, "starting_after": page1["next_cursor"]},
        headers=auth(admin_key),
    ).json()
    assert [q["id"] for q in page2["data"]] == reports[1:]

    reason = "Names a private person; the opener may file again without the name."
    r = client.post(
        f"/v1/cases/{case_id}/hide",
        json={"public_reason": reason, "report_id": reports[1]},
        headers=auth(admin_key),
    )
    assert r.status_code == 200, r.text
    assert r.json()["title"] == case["title"]  # the moderator still sees it

    public = client.get(f"/v1/cases/{case_id}").json()
    assert public["hidden"] is True
    assert public["hidden_reason"] == reason
    for withheld in ("title", "what_happened", "what_is_asked", "evidence"):
        assert withheld not in public
    assert public["moderation"][0]["action"] == "hide"
    assert public["moderation"][0]["public_reason"] == reason
    assert "moderator_key_id" not in str(public)
    listed = client.get("/v1/cases", params={"brand_id": brand.id}).json()["data"][0]
    assert "title" not in listed
    assert "title" not in client.get(f"/v1/cases/{case_id}", headers=auth(brand.key)).json()

    # both reports were dealt with by the hide
    assert client.get("/v1/moderation/reports", headers=auth(admin_key)).json()["data"] == []
    actioned = client.get("/v1/moderation/reports", params={"status": "actioned"}, headers=auth(admin_key))
    assert len(actioned.json()["data"]) == 2
    # hiding twice is a conflict, restoring needs a reason too
    assert (
        client.post(
            f"/v1/cases/{case_id}/hide", json={"public_reason": reason}, headers=auth(admin_key)
        ).status_code
        == 409
    )
    assert (
        client.post(
            f"/v1/cases/{case_id}/restore", json={"public_reason": ""}, headers=auth(admin_key)
        ).status_code
        == 422
    )
    r = client.post(
        f"/v1/cases/{case_id}/restore",
        json={"public_reason": "The name was a public figure's; restored after review."},
        headers=auth(admin_key),
    )
    assert r.status_code == 200
    assert client.get(f"/v1/cases/{case_id}").json()["title"] == case["title"]

    # a new report, dismissed
    rep = client.post(f"/v1/cases/{case_id}/reports", json={"reason": "spam"}).json()["id"]
    r = client.post(
        f"/v1/moderation/reports/{rep}/dismiss", json={"public_reason": "Not spam."}, headers=auth(admin_key)
    )
    assert r.status_code == 200
    assert r.json()["status"] == "dismissed"
    assert (
        client.post(
            f"/v1/moderation/reports/{rep}/dismiss",
            json={"public_reason": "Not spam."},
            headers=auth(admin_key),
        ).status_code
        == 409
    )

    # every act is logged, with the moderator's key kept internally
    with db.read() as conn:
        acts = conn.execute(select(case_moderation_log).order_by(case_moderation_log.c.seq)).all()
    assert [a.action for a in acts] == ["hide", "restore", "dismiss_report"]
    assert all(a.moderator_key_id and a.moderator_key_id.startswith("key_") for a in acts)
    assert acts[0].report_id == reports[1]
    # and the transparency log holds hide and restore, with the reason only as a digest
    hidden = [e for e in case_log(db) if e["kind"] == "case_hidden"]
    assert [e["hidden"] for e in hidden] == [True, False]
    assert hidden[0]["report_reason"] == "personal_data"
    assert hidden[0]["public_reason_sha256"] == hashlib.sha256(reason.encode()).hexdigest()
    assert "private person" not in str(case_log(db))


def test_report_on_unknown_case_and_hide_with_foreign_report(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    a = open_case(client, brand.id)["id"]
    b = open_case(
        client,
        brand.id,
        title="Another story entirely here",
        what_happened="The shop refused refunds for faulty prams for three months in a row.",
    )["id"]
    assert client.post("/v1/cases/cas_missing/reports", json={"reason": "spam"}).status_code == 404
    rep = client.post(f"/v1/cases/{a}/reports", json={"reason": "spam"}).json()["id"]
    r = client.post(
        f"/v1/cases/{b}/hide",
        json={"public_reason": "Spam, see report.", "report_id": rep},
        headers=auth(admin_key),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "report_id"
    assert client.get(f"/v1/cases/{b}").json()["hidden"] is False
