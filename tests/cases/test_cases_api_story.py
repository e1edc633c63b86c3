"""The stories of the cases issue, end to end through the HTTP API, with a real SMTP server
on loopback carrying the confirmation links."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from wefirst.mail import SmtpMailer
from wefirst.services import replace, services_of
from wefirst.store.db import Database

from cases.cases_kit import (
    brand_with_gap,
    case_log,
    cosign_and_confirm,
    counts,
    open_case,
    token_from,
)
from factories import auth, make_brand
from live_server import free_port
from smtp_server import SmtpSink


def test_complaint_against_a_campaign_full_story(
    client: TestClient, db: Database, admin_key: str, smtp_sink: SmtpSink
) -> None:
    brand, cid = brand_with_gap(client, db, admin_key)
    r = client.put(
        f"/v1/brands/{brand.id}/case-contact",
        json={"alert_email": "alerts@pampy.example"},
        headers=auth(brand.key),
    )
    assert r.status_code == 200, r.text

    case = open_case(client, brand.id, campaign_id=cid)
    case_id, opener = case["id"], case["opener_token"]
    assert case_id.startswith("cas_")
    assert opener.startswith("cot_")
    assert case["state"] == "open"
    assert case["cosigns"] == 0
    gap = case["promise_gap"]
    assert gap["pledged"]["units"] == 40
    assert gap["paid_confirmed_units"] == 10
    assert gap["summary"]["en"] == ("pledged 40 tetanus vaccines, confirmed paid for 10 (€3.00)")
    assert gap["summary"]["fr"].startswith("promis : 40 vaccins contre le tétanos")

    # the brand is alerted by e-mail, in both languages, with a link to the case
    (alert,) = smtp_sink.wait_for(1)
    assert alert.rcpt_tos == ["alerts@pampy.example"]
    assert case_id in alert.body
    assert "Nouveau" not in alert.message["Subject"]
    assert "Un dossier (plainte)" in alert.body

    # a supporter co-signs through the e-mailed link
    r = client.post(f"/v1/cases/{case_id}/cosign", json={"email": "Zoe@Example.org", "language": "fr"})
    assert r.status_code == 202
    assert client.get(f"/v1/cases/{case_id}").json()["cosigns"] == 0  # not before confirming
    mail = smtp_sink.wait_for(2)[-1]
    assert mail.message["Subject"].startswith("Confirmez votre signature")
    (link,) = mail.links()
    path = link.replace("http://testserver", "")
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert '<form method="post"' in page.text
    assert "Confirmer ma signature" in page.text
    assert client.get(f"/v1/cases/{case_id}").json()["cosigns"] == 0  # opening the link is not consent
    done = client.post(path).json()
    assert done == {
        "case_id": case_id,
        "counted": True,
        "newly_counted": True,
        "cosigns": 1,
        "milestones": [],
    }
    again = client.post(path).json()
    assert again["newly_counted"] is False
    assert again["cosigns"] == 1
    html = client.post(path, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert "déjà comptée" in html.text

    # the brand answers with a commitment; the opener does not accept; the brand tries again
    r = client.post(
        f"/v1/cases/{case_id}/answers",
        json={
            "body": "We are checking the counts with our partner and will pay the difference.",
            "language": "en",
            "commitments": [{"text": "Pay the missing vaccines", "due_on": "2099-01-31"}],
        },
        headers=auth(brand.key),
    )
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "answered"
    assert r.json()["answers"][0]["commitments"] == [
        {"text": "Pay the missing vaccines", "due_on": "2099-01-31"}
    ]
    r = client.post(f"/v1/cases/{case_id}/reject", json={"opener_token": opener, "note": "No date."})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "not_accepted"
    r = client.post(
        f"/v1/cases/{case_id}/answers",
        json={"body": "The transfer for the missing doses is done: SEPA-2.", "language": "en"},
        headers=auth(brand.key),
    )
    assert r.json()["state"] == "answered"
    r = client.post(f"/v1/cases/{case_id}/accept", json={"opener_token": opener})
    assert r.status_code == 200, r.text
    final = r.json()
    assert final["state"] == "resolved"
    assert [v["verdict"] for v in final["verdicts"]] == ["not_accepted", "accepted"]
    assert final["verdicts"][1]["answer_id"] == final["answers"][1]["id"]
    assert final["closed_at"] is not None

    # a resolved case is final
    r = client.post(f"/v1/cases/{case_id}/reject", json={"opener_token": opener})
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")

    # the log tells the story, without personal data or free text
    kinds = [e["kind"] for e in case_log(db)]
    assert kinds == ["case_opened", "case_answered", "case_resolved", "case_answered", "case_resolved"]
    opened = case_log(db)[0]
    assert opened["campaign_id"] == cid
    assert opened["v"] == 1
    assert [e.get("outcome") for e in case_log(db) if e["kind"] == "case_resolved"] == [
        "not_accepted",
        "accepted",
    ]
    dumped = json.dumps(case_log(db))
    for private in ("zoe", "Zoe", "alerts@", "Vaccines promised", opener):
        assert private not in dumped

    # the address is never shown
    full = client.get(f"/v1/cases/{case_id}", headers=auth(admin_key)).text
    assert "zoe" not in full.lower()
    assert "opener_token" not in full


def test_praise_case_with_answer_and_supporters(
    client: TestClient, db: Database, admin_key: str, smtp_sink: SmtpSink
) -> None:
    brand = make_brand(client, db, admin_key, "Fair Coffee")
    case = open_case(
        client,
        brand.id,
        kind="praise",
        title="Merci pour la transparence sur le café",
        what_happened="La marque publie chaque mois les virements aux coopératives, avec les reçus.",
        what_is_asked=None,
        category="labour",
        language="fr",
        evidence=[],
    )
    assert case["what_is_asked"] == ""
    assert case["promise_gap"] is None
    assert smtp_sink.messages == []  # no alert contact set: nothing sent
    for who in ("a@example.org", "b@example.org"):
        cosign_and_confirm(client, smtp_sink, case["id"], who, "fr")
    r = client.post(
        f"/v1/cases/{case['id']}/answers",
        json={"body": "Merci ! Nous continuerons à publier les reçus.", "language": "fr"},
        headers=auth(brand.key),
    )
    assert r.status_code == 201
    body = client.get(f"/v1/cases/{case['id']}").json()
    assert body["cosigns"] == 2
    assert body["cosign_velocity"] == {"last_hour": 2, "last_24_hours": 2}
    summary = client.get(f"/v1/brands/{brand.id}/case-summary").json()
    assert summary["praise"]["answered"] == 1
    assert summary["cosigns"] == 2


def test_same_person_counts_once_and_can_erase_the_address(
    client: TestClient, db: Database, admin_key: str, smtp_sink: SmtpSink
) -> None:
    brand = make_brand(client, db, admin_key)
    case_id = open_case(client, brand.id)["id"]
    cosign_and_confirm(client, smtp_sink, case_id, "j.doe@gmail.com")
    # the same person under other spellings: no new mail, same count
    sent = len(smtp_sink.messages)
    for variant in ("J.Doe+cases@gmail.com", "jdoe@googlemail.com", " JDOE@GMAIL.COM "):
        r = client.post(f"/v1/cases/{case_id}/cosign", json={"email": variant})
        assert r.status_code == 202
        assert r.json()["status"] == "check_your_mail"  # same answer as a new signature
    assert len(smtp_sink.messages) == sent
    assert client.get(f"/v1/cases/{case_id}").json()["cosigns"] == 1

    # erasure: a link by e-mail, then the address is gone, the signature stays counted
    r = client.post("/v1/supporter-erasures", json={"email": "j.doe@gmail.com"})
    assert r.status_code == 202
    mail = smtp_sink.wait_for(sent + 1)[-1]
    (link,) = mail.links()
    token = token_from(link)
    page = client.get(f"/v1/supporter-erasures/{token}", headers={"Accept": "text/html"})
    assert "Erase my address" in page.text
    r = client.post(f"/v1/supporter-erasures/{token}")
    assert r.json() == {"erased": 1}
    with db.read() as conn:
        from sqlalchemy import select

        from wefirst.store.tables_cases import case_supporters

        row = conn.execute(select(case_supporters)).one()
    assert row.email is None
    assert row.erased_at is not None
    assert row.status == "verified"
    assert client.get(f"/v1/cases/{case_id}").json()["cosigns"] == 1
    # an erased supporter still cannot sign twice
    before = counts(db)["case_supporters"]
    r = client.post(f"/v1/cases/{case_id}/cosign", json={"email": "j.doe@gmail.com"})
    assert r.status_code == 202
    assert counts(db)["case_supporters"] == before
    assert client.get(f"/v1/cases/{case_id}").json()["cosigns"] == 1
    # asking to erase an unknown address answers the same and sends nothing
    sent = len(smtp_sink.messages)
    r = client.post("/v1/supporter-erasures", json={"email": "nobody@example.org"})
    assert r.status_code == 202
    assert len(smtp_sink.messages) == sent


def test_mail_server_down_then_back(
    client: TestClient, db: Database, admin_key: str, smtp_sink: SmtpSink
) -> None:
    """If the confirmation cannot be sent, the person is told (503) and nothing counts; asking
    again once the server is back sends a working link for the same pending signature."""
    brand = make_brand(client, db, admin_key)
    case_id = open_case(client, brand.id)["id"]
    app = client.app
    settings = services_of(app).settings
    replace(app, mailer=SmtpMailer(settings.model_copy(update={"smtp_port": free_port()})))
    r = client.post(f"/v1/cases/{case_id}/cosign", json={"email": "late@example.org"})
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "try again" in r.json()["detail"]
    assert client.get(f"/v1/cases/{case_id}").json()["cosigns"] == 0

    replace(app, mailer=SmtpMailer(settings))
    done = cosign_and_confirm(client, smtp_sink, case_id, "late@example.org")
    assert done["cosigns"] == 1
    assert counts(db)["case_supporters"] == 1
