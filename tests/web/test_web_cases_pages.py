"""Cases on the web (issue 15, story 5): list and search, the case page (story, ask, evidence,
signatures against the next goal, answers with commitments and due dates, the response
clock), opening a case with a plain form, co-signing by e-mail, and the scorecard keeping
answered, resolved and praise cases with their outcome and a quotable summary."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.mail import MemoryMailer
from wefirst.services import replace
from wefirst.store.db import Database

from factories import auth, make_brand
from web.web_helpers import Story, csrf_of, open_case, seed_story, text_of, with_pages

COMPLAINT = "Vaccines promised but not paid for"


def answered_case(client: TestClient, db: Database, admin_key: str) -> tuple[Story, str]:
    story = seed_story(client, db, admin_key)
    case_id = open_case(client, story.brand.id, COMPLAINT)
    r = client.post(
        f"/v1/cases/{case_id}/answers",
        json={
            "body": "We will pay every promised vaccine and publish the transfers.",
            "language": "en",
            "commitments": [{"text": "Pay the balance of the promised vaccines", "due_on": "2027-01-21"}],
        },
        headers=auth(story.brand.key),
    )
    assert r.status_code == 201, r.text
    return story, case_id


def test_a_case_page_tells_the_story_the_answer_and_the_clock(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    _story, case_id = answered_case(client, db, admin_key)
    web = TestClient(with_pages(app))
    page = web.get(f"/cases/{case_id}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert COMPLAINT in text
    assert "Every pack was meant to fund one vaccine" in text
    assert "Pay for every promised vaccine and publish the transfers." in text
    assert 'href="https://example.org/advert" rel="nofollow noopener noreferrer ugc"' in page.text
    assert "Answered by the brand" in text
    assert "0 signatures · next goal: 10" in text
    assert "Pay the balance of the promised vaccines — due on Jan 21, 2027" in text
    assert "Complaint · Honesty of a campaign · Pampy" in text
    assert (
        "answered"
        not in re.sub(r"<[^>]+>", " ", page.text).split("Answered by the brand")[0].lower().split("<main")[-1]
    )
    fr = text_of(web.get(f"/cases/{case_id}?lang=fr").text)
    assert "La marque a répondu" in fr
    assert web.get("/cases/cas_nobody").status_code == 404


def test_the_list_searches_by_brand_state_kind_and_words(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    _story, case_id = answered_case(client, db, admin_key)
    other = make_brand(client, db, admin_key, name="Clairo")
    praise = open_case(client, other.id, "Thank you for the clean water")
    web = TestClient(with_pages(app))
    everything = text_of(web.get("/cases").text)
    assert COMPLAINT in everything
    assert "Thank you for the clean water" in everything
    only = text_of(web.get(f"/cases?brand={other.id}").text)
    assert "Thank you for the clean water" in only
    assert COMPLAINT not in only
    answered = web.get("/cases?state=answered").text
    assert case_id in answered
    assert praise not in answered
    assert praise in web.get("/cases?q=clean water").text
    assert case_id not in web.get("/cases?q=clean water").text
    assert praise not in web.get("/cases?kind=praise").text  # opened as a complaint by the helper


def test_opening_a_case_with_the_plain_form(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key, name="Clairo")
    web = TestClient(with_pages(app))
    form = web.get(f"/cases/new?brand={brand.id}")
    assert form.status_code == 200
    token = csrf_of(form.text)
    data = {
        "csrf_token": token,
        "kind": "praise",
        "brand_id": brand.id,
        "category": "environment",
        "title": "Thanks for refilling stations",
        "what_happened": "Clairo put refilling stations in every shop of our town this spring.",
        "what_is_asked": "",
        "evidence": "https://example.org/refill\n",
        "language": "en",
    }
    r = web.post("/cases/new", data=data)
    assert r.status_code == 200, r.text
    opener = re.search(r'<code id="opener-token">([^<]+)</code>', r.text)
    assert opener is not None
    case_id = re.search(r'href="/cases/(cas_[0-9a-z]+)"', r.text)
    assert case_id is not None
    api = client.get(f"/v1/cases/{case_id.group(1)}").json()
    assert (api["kind"], api["title"], api["evidence"]) == (
        "praise",
        data["title"],
        ["https://example.org/refill"],
    )
    # the same case again is a duplicate: co-sign the first instead
    again = web.post("/cases/new", data={**data, "csrf_token": token})
    assert again.status_code == 409
    assert f'href="/cases/{case_id.group(1)}#cosign"' in again.text
    # errors speak the page's language and name the field
    bad = web.post("/cases/new?lang=fr", data={**data, "title": "x", "what_happened": "court"})
    assert bad.status_code == 422
    assert "Trop court" in text_of(bad.text)
    assert 'aria-invalid="true"' in bad.text
    # no token, nothing opened
    assert (
        web.post("/cases/new", data={k: v for k, v in data.items() if k != "csrf_token"}).status_code == 403
    )


def test_co_signing_by_email_counts_once_the_link_is_opened(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    mailer = MemoryMailer()
    replace(app, mailer=mailer)
    story = seed_story(client, db, admin_key)
    case_id = open_case(client, story.brand.id, COMPLAINT)
    web = TestClient(with_pages(app))
    token = csrf_of(web.get(f"/cases/{case_id}").text)
    r = web.post(
        f"/cases/{case_id}/cosign",
        data={"csrf_token": token, "email": "ana@example.org"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"/cases/{case_id}?cosign=sent#cosign"
    assert "Check your mail" in text_of(web.get(r.headers["location"]).text)
    assert "0 signatures" in text_of(web.get(f"/cases/{case_id}").text)
    [mail] = mailer.sent
    link = re.search(r"http://testserver(/v1/cosign-confirmations/\S+)", mail.get_content())
    assert link is not None
    assert client.post(link.group(1)).status_code == 200
    assert "1 signature · next goal: 10" in text_of(web.get(f"/cases/{case_id}").text)
    bad = web.post(f"/cases/{case_id}/cosign?lang=fr", data={"csrf_token": token, "email": "not an address"})
    assert bad.status_code == 422
    assert "Tapez une adresse électronique" in text_of(bad.text)


def test_the_scorecard_keeps_answered_and_praise_cases_and_says_it_in_one_paragraph(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    story, case_id = answered_case(client, db, admin_key)
    web = TestClient(with_pages(app))
    card = web.get(f"/brands/{story.brand.id}")
    text = text_of(card.text)
    assert COMPLAINT in text  # answered: it used to vanish ("No open case")
    assert "Answered by the brand" in text
    assert f'href="/cases/{case_id}"' in card.text
    assert "Pampy owes €3.00 across its campaigns; €2.00 (66.7%) is paid and confirmed." in text
    assert "Complaints: 1; answered: 1; left unanswered past the deadline: 0." in text
    body = web.get(f"/brands/{story.brand.id}/scorecard.json").json()
    assert [c["state"] for c in body["cases"]] == ["answered"]
    assert body["open_cases"] == []
