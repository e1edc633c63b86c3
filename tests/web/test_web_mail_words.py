"""The mails people get speak the page's language from the gettext catalogue (issues 11 and
15): the sign-in link was a bare "Sign in: <link> (15 min, 1×)" with an English subject, and
the brand alert's kind word came from a table of its own instead of the catalogue."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.cases.model import Kind
from wefirst.cases.notify import brand_alert
from wefirst.mail import MemoryMailer
from wefirst.services import replace, services_of
from wefirst.settings import Settings
from wefirst.store.db import Database

from factories import make_brand
from web.web_helpers import add_user, csrf_of, with_pages


def test_the_sign_in_mail_is_a_sentence_in_the_pages_language(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    add_user(db, "team@pampy.example", "brand", brand.id, password=None)
    mailer = MemoryMailer()
    replace(app, mailer=mailer)
    minutes = int(services_of(app).settings.web_magic_link_minutes)
    for lang, subject, words in (
        ("en", "Your sign-in link for wefirst", f"It works once, within {minutes} minutes"),
        ("fr", "Votre lien de connexion à wefirst", f"Il fonctionne une fois, dans les {minutes} minutes"),
    ):
        web = TestClient(with_pages(app))
        token = csrf_of(web.get(f"/signin?lang={lang}").text)
        r = web.post(f"/signin/link?lang={lang}", data={"email": "team@pampy.example", "csrf_token": token})
        assert r.status_code == 200
        mail = mailer.sent[-1]
        assert mail["Subject"] == subject
        body = mail.get_content()
        assert words in body
        assert "1×" not in body
        assert re.search(r"http://testserver/signin/link/\S+\n", body)


def test_the_brand_alert_names_the_kind_in_both_languages_from_the_catalogue() -> None:
    settings = Settings(secret_key="s" * 40, base_url="http://testserver")
    english, french = brand_alert(
        settings, "team@pampy.example", "cas_x", "Refill stations", Kind.praise
    ).body.split("\n---\n")
    assert "A praise case was opened" in english
    assert "Un dossier (éloge) a été ouvert" in french


def test_the_publisher_sign_up_mail_speaks_the_publishers_language(app: FastAPI, client: TestClient) -> None:
    """Language chosen in the body, else the request's Accept-Language; the link opens the
    verification page in that language; a new link (resend) follows the asker's language."""
    mailer = MemoryMailer()
    replace(app, mailer=mailer)

    def sign_up(email: str, headers: dict[str, str], **extra: str) -> tuple[str, str, str]:
        body = {"name": "Le blog de Léa", "domains": ["lea.example"], "email": email, **extra}
        r = client.post("/v1/publishers", json=body, headers=headers)
        assert r.status_code == 201, r.text
        mail = mailer.sent[-1]
        link = re.search(r"http://\S+/publishers/verify\?\S+", mail.get_content())
        assert link, mail.get_content()
        return str(mail["Subject"]), mail.get_content(), link.group(0)

    subject, body, link = sign_up("lea@example.fr", {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert subject == "wefirst\u00a0: confirmez votre inscription d'éditeur"
    assert "a inscrit l'éditeur «\u00a0Le blog de Léa\u00a0»" in body
    hours = services_of(app).settings.widget_publisher_verify_link_hours
    assert f"Ouvrez ce lien dans les {hours} heures" in body
    assert "Someone" not in body
    assert link.endswith("&lang=fr")
    page = TestClient(with_pages(app)).get(link.removeprefix("http://testserver"))
    assert page.status_code == 200
    assert '<html lang="fr"' in page.text

    subject, body, link = sign_up("lea2@example.fr", {"Accept-Language": "fr"}, language="en")
    assert subject == "wefirst: confirm your publisher sign-up"
    assert "Someone (we hope you) registered the publisher" in body
    assert "lang=" not in link

    subject, _, _ = sign_up("lea3@example.fr", {})
    assert subject == "wefirst: confirm your publisher sign-up"  # no preference: English

    token = link.split("token=", 1)[1]
    r = client.post(
        "/v1/publishers/verify/resend",
        json={"token": token, "email": "lea2@example.fr"},
        headers={"Accept-Language": "fr"},
    )
    assert r.status_code == 202, r.text
    assert mailer.sent[-1]["Subject"] == "wefirst\u00a0: confirmez votre inscription d'éditeur"


def test_the_sign_up_mail_language_must_be_one_we_speak(app: FastAPI, client: TestClient) -> None:
    mailer = MemoryMailer()
    replace(app, mailer=mailer)
    body = {"name": "Blog", "domains": ["blog.example"], "email": "a@example.org", "language": "de"}
    r = client.post("/v1/publishers", json=body)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert mailer.sent == []
