"""Issue 13, finding 8: sign-in limits were per e-mail and per process only (now per network
too, in the shared database limiter: tests/web/test_web_signin_limits.py); what this file adds:
a site-wide budget against a distributed spray, throttled magic-link mails (they were
unlimited: an inbox flood), and a password lockout that never locks the owner out of the
e-mailed link."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.mail import MemoryMailer
from wefirst.services import replace
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.web import sessions

from factories import make_brand
from web.web_helpers import csrf_of, with_pages

PASSWORD = "correct horse battery staple"
EMAIL = "team@pampy.example"


def _post(app: FastAPI, path: str, data: dict[str, str], ip: str) -> tuple[int, str]:
    web = TestClient(with_pages(app), client=(ip, 40000))
    try:
        token = csrf_of(web.get("/signin").text)
        r = web.post(path, data={**data, "csrf_token": token}, follow_redirects=False)
        return r.status_code, r.text
    finally:
        web.close()


def test_a_spray_from_many_networks_meets_a_site_wide_budget(app: FastAPI, settings: Settings) -> None:
    settings.web_signin_attempts_overall_per_hour = 3
    codes = [
        _post(app, "/signin", {"email": f"u{i}@x.example", "password": "Summer2026!!"}, f"203.0.{i}.9")[0]
        for i in range(4)
    ]
    assert codes == [401, 401, 401, 429]


def test_magic_link_mails_are_throttled_per_address_and_network(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, settings: Settings
) -> None:
    brand = make_brand(client, db, admin_key)
    with db.write() as conn:
        sessions.create_user(conn, EMAIL, "brand", brand.id, PASSWORD)
    mailer = MemoryMailer()
    replace(app, mailer=mailer)
    answers = {_post(app, "/signin/link", {"email": EMAIL}, f"192.0.2.{i}")[0] for i in range(8)}
    assert answers == {200}  # the same answer whatever happened
    assert len(mailer.sent) == settings.web_magic_links_per_address_per_hour
    # one network asking for links to many addresses is throttled too (no mail beyond it)
    settings.web_magic_links_per_network_per_hour = 2
    mailer.sent.clear()
    for i in range(4):
        _post(app, "/signin/link", {"email": f"other{i}@x.example"}, "198.51.100.5")
    assert mailer.sent == []  # unknown addresses get no mail, and the budget is spent all the same


def test_a_password_lockout_does_not_lock_the_owner_out_of_the_link(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, settings: Settings
) -> None:
    settings.web_signin_attempts_per_hour = 3
    brand = make_brand(client, db, admin_key)
    with db.write() as conn:
        sessions.create_user(conn, EMAIL, "brand", brand.id, PASSWORD)
    mailer = MemoryMailer()
    replace(app, mailer=mailer)
    for i in range(3):
        _post(app, "/signin", {"email": EMAIL, "password": "wrong guess " * 2}, f"203.0.113.{i}")
    assert _post(app, "/signin", {"email": EMAIL, "password": PASSWORD}, "192.0.2.50")[0] == 429
    assert _post(app, "/signin/link", {"email": EMAIL}, "192.0.2.50")[0] == 200
    found = re.search(r"http://testserver(/signin/link/\S+)", mailer.sent[-1].get_content())
    assert found
    web = TestClient(with_pages(app))
    landing = web.get(found.group(1))
    r = web.post(found.group(1), data={"csrf_token": csrf_of(landing.text)}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/console")
