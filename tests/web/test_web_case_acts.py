"""The case page's own forms over HTTP: the brand the case is about answers it (with its
commitments and due dates) and nobody else can; anyone reports an abusive case to the
moderation queue. Plain forms, so this is also what a browser without scripts does."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.domain.clock import utcnow
from wefirst.store.db import Database

from factories import auth, make_brand
from web.web_helpers import add_user, csrf_of, open_case, signed_in, text_of, with_pages


def test_the_brand_answers_its_case_from_the_case_page(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key, name="Pampy")
    rival = make_brand(client, db, admin_key, name="Rival")
    case = open_case(client, brand.id, "Vaccines promised, not paid")
    add_user(db, "team@pampy.example", "brand", brand.id)
    add_user(db, "team@rival.example", "brand", rival.id)
    due = (utcnow().date() + timedelta(days=30)).isoformat()
    answer = {
        "body": "We accept: every promised vaccine will be paid and the transfers published.",
        "language": "en",
        "commitment_1": "Pay the missing vaccines",
        "due_1": due,
    }
    # anyone else: no form, and a post changes nothing
    anonymous = TestClient(with_pages(app))
    page = anonymous.get(f"/cases/{case}")
    assert 'id="answer-form"' not in page.text
    r = anonymous.post(
        f"/cases/{case}/answer", data={**answer, "csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert (r.status_code, r.headers["location"]) == (303, "/signin")
    other = signed_in(app, "team@rival.example")
    page = other.get(f"/cases/{case}")
    assert 'id="answer-form"' not in page.text
    r = other.post(f"/cases/{case}/answer", data={**answer, "csrf_token": csrf_of(page.text)})
    assert r.status_code == 403
    assert "Only this brand's team can answer this case." in html.unescape(text_of(r.text))
    assert client.get(f"/v1/cases/{case}").json()["state"] == "open"
    # the brand: a bad answer says which field, a good one is published with its commitment
    web = signed_in(app, "team@pampy.example")
    assert f'href="/cases/{case}#answer-h"' in web.get("/console/brand").text  # waiting for it
    page = web.get(f"/cases/{case}")
    assert 'id="answer-form"' in page.text
    bad = web.post(f"/cases/{case}/answer", data={**answer, "body": "ok", "csrf_token": csrf_of(page.text)})
    assert bad.status_code == 422
    assert 'id="an-body-err"' in bad.text
    assert client.get(f"/v1/cases/{case}").json()["state"] == "open"
    r = web.post(
        f"/cases/{case}/answer", data={**answer, "csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert r.status_code == 303
    assert r.headers["location"].endswith("answered=1#answers-h")
    api = client.get(f"/v1/cases/{case}").json()
    assert api["state"] == "answered"
    shown = text_of(web.get(r.headers["location"]).text)
    assert "Your answer is published." in shown
    assert "Pay the missing vaccines" in shown
    assert f'href="/cases/{case}#answer-h"' not in web.get("/console/brand").text


def test_anyone_reports_an_abusive_case_to_the_moderators(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key, name="Pampy")
    case = open_case(client, brand.id, "Vaccines promised, not paid")
    web = TestClient(with_pages(app))
    page = web.get(f"/cases/{case}?lang=fr")
    assert "Signaler ce dossier" in text_of(page.text)
    token = csrf_of(page.text)
    bad = web.post(f"/cases/{case}/report?lang=fr", data={"csrf_token": token, "reason": "personal_datum"})
    assert bad.status_code == 422
    assert "Choisissez pourquoi ce dossier doit être examiné." in text_of(bad.text)
    assert client.get("/v1/moderation/reports", headers=auth(admin_key)).json()["data"] == []
    r = web.post(
        f"/cases/{case}/report",
        data={"csrf_token": token, "reason": "personal_data", "note": "It names a shop employee."},
        follow_redirects=False,
    )
    assert r.status_code == 303
    queue = client.get("/v1/moderation/reports", headers=auth(admin_key)).json()["data"]
    assert [(q["case_id"], q["reason"]) for q in queue] == [(case, "personal_data")]
    # the language chosen with ?lang= sticks (a cookie)
    assert "les modérateurs examineront ce dossier" in text_of(web.get(r.headers["location"]).text)
    assert re.search(r"personal_data", text_of(web.get(f"/cases/{case}").text)) is None
