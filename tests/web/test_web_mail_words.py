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
