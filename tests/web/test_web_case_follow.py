"""Following a case (issue 15): a plain form on the case page, a confirmation link, then a
mail from the background follow mailer when the brand answers, when a commitment falls due
and on resolution, each with a signed one-click unsubscribe link (RFC 8058) — and the attacks:
somebody else's address, forged and expired unsubscribe links, a flood of requests."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.cases import follow_events
from wefirst.cases.identity import sign_token
from wefirst.mail import MemoryMailer
from wefirst.services import replace, services_of
from wefirst.store.db import Database
from wefirst.store.tables_cases import case_followers

from factories import auth
from waiting import wait_until
from web.web_helpers import csrf_of, seed_story, text_of, with_pages

TITLE = "Vaccines promised but not paid for"


def open_case(client: TestClient, brand_id: str) -> tuple[str, str]:
    """(case id, opener token)."""
    r = client.post(
        "/v1/cases",
        json={
            "kind": "complaint",
            "brand_id": brand_id,
            "title": TITLE,
            "what_happened": "Every pack was meant to fund one vaccine; the ledger shows far fewer "
            "vaccines paid for than packs sold since March.",
            "what_is_asked": "Pay for every promised vaccine and publish the transfers.",
            "evidence": [],
            "category": "campaign_honesty",
            "language": "en",
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"]), str(r.json()["opener_token"])


def answer(client: TestClient, case_id: str, key: str, due: date | None = None) -> None:
    commitments = (
        [{"text": "Pay the balance of the promised vaccines", "due_on": due.isoformat()}] if due else []
    )
    r = client.post(
        f"/v1/cases/{case_id}/answers",
        json={
            "body": "We will pay every promised vaccine and publish the transfers.",
            "language": "en",
            "commitments": commitments,
        },
        headers=auth(key),
    )
    assert r.status_code == 201, r.text


def ask_to_follow(web: TestClient, case_id: str, email: str, lang: str = "en") -> Any:
    token = csrf_of(web.get(f"/cases/{case_id}?lang={lang}").text)
    return web.post(
        f"/cases/{case_id}/follow?lang={lang}",
        data={"csrf_token": token, "email": email},
        follow_redirects=False,
    )


def link_in(mail: EmailMessage, path: str) -> str:
    found = re.search(rf"http://testserver({path}/[^\s?]+)", mail.get_content())
    assert found, mail.get_content()
    return found.group(1)


def confirm(web: TestClient, mail: EmailMessage) -> None:
    link = link_in(mail, "/cases/follow")
    page = web.get(link)
    assert page.status_code == 200
    assert 'id="follow-link-form"' in page.text  # opening the link alone confirms nothing: a button
    done = web.post(link, data={"csrf_token": csrf_of(page.text)})
    assert done.status_code == 200
    assert any(words in text_of(done.text) for words in ("You follow this case", "Vous suivez ce dossier"))


def sent_to(mailer: MemoryMailer, address: str) -> list[EmailMessage]:
    return [m for m in mailer.sent if m["To"] == address]


def flush(app: FastAPI) -> None:
    """What the background follow mailer does on its own within seconds, done now."""
    services_of(app).follow_sender.run_once()


def expect(app: FastAPI, mailer: MemoryMailer, count: int) -> None:
    """`count` mails in all, whichever sender (this test's flush or the app's own thread)
    claimed the queued facts."""
    flush(app)
    wait_until(lambda: len(mailer.sent) >= count, what=lambda: f"{count} mails, got {len(mailer.sent)}")
    assert len(mailer.sent) == count


def pending(db: Database) -> bool:
    with db.read() as conn:
        return follow_events.has_pending(conn)


@pytest.fixture
def mailer(app: FastAPI) -> MemoryMailer:
    found = MemoryMailer()
    replace(app, mailer=found)
    return found


def test_follow_confirm_answer_mail_unsubscribe_then_nothing(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, mailer: MemoryMailer
) -> None:
    story = seed_story(client, db, admin_key)
    case_id, opener = open_case(client, story.brand.id)
    services = services_of(app)
    replace(app, settings=services.settings.model_copy(update={"demo_outbox": True}))
    web = TestClient(with_pages(app))

    r = ask_to_follow(web, case_id, "Lea@Example.org")
    assert r.status_code == 303
    assert r.headers["location"] == f"/cases/{case_id}?follow=sent#follow"
    assert "you follow the case once you open the link" in text_of(web.get(r.headers["location"]).text)
    [confirmation] = mailer.sent
    assert confirmation["To"] == "lea@example.org"
    assert "List-Unsubscribe" not in confirmation
    confirm(web, confirmation)

    answer(client, case_id, story.brand.key)  # the API answer: the request sends nothing itself
    wait_until(lambda: len(sent_to(mailer, "lea@example.org")) == 2, what="the answer's mail to the follower")
    update = sent_to(mailer, "lea@example.org")[-1]
    assert update["Subject"] == f"Pampy answered: {TITLE}"
    assert "We will pay every promised vaccine" in update.get_content()
    assert f"http://testserver/cases/{case_id}" in update.get_content()
    unsubscribe = update["List-Unsubscribe"]
    assert re.fullmatch(r"<http://testserver/cases/unfollow/\S+>", unsubscribe)
    assert update["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe.strip("<>") in update.get_content()  # the same link for people, in the body

    outbox = text_of(web.get("/demo/outbox").text)
    assert f"Pampy answered: {TITLE}" in outbox
    assert "/cases/unfollow/" in outbox

    # The mail program's one-click POST (RFC 8058): no cookie, no form token, just the link.
    one_click = TestClient(with_pages(app)).post(
        unsubscribe.strip("<>").removeprefix("http://testserver"),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    assert "You no longer follow this case" in text_of(one_click.text)
    with db.read() as conn:
        assert conn.execute(case_followers.select()).all() == []  # the address is gone

    before = len(mailer.sent)
    r = client.post(f"/v1/cases/{case_id}/accept", json={"opener_token": opener, "note": ""})
    assert r.status_code == 200, r.text
    flush(app)
    wait_until(lambda: not pending(db), what="the resolution handled")  # handled ...
    assert len(mailer.sent) == before  # ... and told nobody


def test_commitment_due_and_resolution_reach_followers_in_their_language(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, mailer: MemoryMailer
) -> None:
    story = seed_story(client, db, admin_key)
    case_id, opener = open_case(client, story.brand.id)
    web = TestClient(with_pages(app))
    assert ask_to_follow(web, case_id, "jean@example.fr", lang="fr").status_code == 303
    [confirmation] = mailer.sent
    assert confirmation["Subject"].startswith("Confirmez")
    confirm(web, confirmation)
    due = datetime.now(UTC).date() + timedelta(days=3)
    answer(client, case_id, story.brand.key, due=due)
    expect(app, mailer, 2)
    assert mailer.sent[-1]["Subject"] == f"Pampy a répondu\u00a0: {TITLE}"

    # The sweep on the due date queues the commitment once; later sweeps add nothing.
    on_the_day = datetime.combine(due, datetime.min.time(), UTC) + timedelta(hours=9)
    with db.write() as conn:
        assert follow_events.queue_due_commitments(conn, on_the_day) == 1
        assert follow_events.queue_due_commitments(conn, on_the_day + timedelta(days=1)) == 0
    expect(app, mailer, 3)
    due_mail = mailer.sent[-1]
    assert due_mail["Subject"] == f"Un engagement arrive à échéance\u00a0: {TITLE}"
    assert "Pay the balance of the promised vaccines" in due_mail.get_content()
    assert due.strftime("%Y") in due_mail.get_content()
    assert "/cases/unfollow/" in due_mail.get_content()

    assert client.post(f"/v1/cases/{case_id}/accept", json={"opener_token": opener}).status_code == 200
    expect(app, mailer, 4)
    assert mailer.sent[-1]["Subject"] == f"Dossier résolu\u00a0: {TITLE}"
    with db.read() as conn:  # the last mail a case sends: the address is no longer kept
        assert conn.execute(case_followers.select()).all() == []


def test_following_someone_elses_address_sends_only_the_confirmation(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, mailer: MemoryMailer
) -> None:
    story = seed_story(client, db, admin_key)
    case_id, _opener = open_case(client, story.brand.id)
    web = TestClient(with_pages(app))
    assert ask_to_follow(web, case_id, "victim@example.org").status_code == 303
    answer(client, case_id, story.brand.key)
    flush(app)
    wait_until(lambda: not pending(db), what="the answer handled")
    [only] = sent_to(mailer, "victim@example.org")
    assert only["Subject"].startswith("Confirm you want to follow")
    # Asking again answers exactly the same, whether or not the address follows already.
    confirm(web, only)
    again = ask_to_follow(web, case_id, "VICTIM@example.org")
    assert again.status_code == 303
    assert again.headers["location"] == f"/cases/{case_id}?follow=sent#follow"
    assert len(sent_to(mailer, "victim@example.org")) == 1  # a follower gets no new confirmation


def test_forged_expired_and_misused_unsubscribe_links_are_refused(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, mailer: MemoryMailer, monkeypatch: Any
) -> None:
    story = seed_story(client, db, admin_key)
    case_id, _opener = open_case(client, story.brand.id)
    web = TestClient(with_pages(app))
    ask_to_follow(web, case_id, "ana@example.org")
    confirm(web, mailer.sent[0])
    with db.read() as conn:
        follower_id = conn.execute(case_followers.select()).one().id
    secret = services_of(app).settings.secret_key

    forged = sign_token("another-server-secret-" + "y" * 20, "unfollow", follower_id)
    confirmation_token = link_in(mailer.sent[0], "/cases/follow").rsplit("/", 1)[1]
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: time.mktime((2020, 1, 1, 0, 0, 0, 0, 0, 0)))
    expired = sign_token(secret, "unfollow", follower_id)
    monkeypatch.undo()
    for token, words in (
        (forged, "The link is not valid"),
        (confirmation_token, "The link is not valid"),  # a follow link is not an unsubscribe link
        (expired, "The link has expired"),
        (forged[:-3], "The link is not valid"),
    ):
        r = web.post(f"/cases/unfollow/{token}", content=b"List-Unsubscribe=One-Click")
        assert r.status_code == 400, token
        assert words in text_of(r.text)
    with db.read() as conn:
        assert conn.execute(case_followers.select()).one().status == "active"  # still following
    answer(client, case_id, story.brand.key)
    expect(app, mailer, 2)
    good = sent_to(mailer, "ana@example.org")[-1]["List-Unsubscribe"].strip("<>")
    path = good.removeprefix("http://testserver")
    page = web.get(path)  # opening the link shows a button and changes nothing
    assert page.status_code == 200
    assert "Stop following" in page.text
    with db.read() as conn:
        assert conn.execute(case_followers.select()).one().status == "active"
    assert web.post(path).status_code == 200
    assert web.post(path).status_code == 200  # a second click is not an error


def test_follow_requests_are_rate_limited_per_address(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, mailer: MemoryMailer
) -> None:
    story = seed_story(client, db, admin_key)
    case_id, _opener = open_case(client, story.brand.id)
    web = TestClient(with_pages(app))
    limit = services_of(app).settings.cases_cosign_limit_per_address
    for _ in range(limit):
        assert ask_to_follow(web, case_id, "flood@example.org").status_code == 303
    refused = ask_to_follow(web, case_id, "flood+x@example.org", lang="fr")  # the same person
    assert refused.status_code == 429
    assert "Trop de demandes de suivi" in text_of(refused.text)
    assert len(mailer.sent) == limit
    bad = ask_to_follow(web, case_id, "not an address", lang="fr")
    assert bad.status_code == 422
    assert "Tapez une adresse électronique" in text_of(bad.text)
    with db.read() as conn:
        assert len(conn.execute(case_followers.select()).all()) == 1
