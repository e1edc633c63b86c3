"""Console users in the tests: one team member, signing in by password (shared by the CLI and
admin-API tests of tests/security)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from web.web_helpers import csrf_of, with_pages

PASSWORD = "correct horse battery staple"
EMAIL = "team@pampy.example"


def sign_in(app: FastAPI, password: str = PASSWORD) -> tuple[TestClient, int]:
    web = TestClient(with_pages(app))
    token = csrf_of(web.get("/signin").text)
    form = {"email": EMAIL, "password": password, "csrf_token": token}
    r = web.post("/signin", data=form, follow_redirects=False)
    return web, r.status_code


def in_console(web: TestClient) -> bool:
    return bool(web.get("/console/brand", follow_redirects=False).status_code == 200)
