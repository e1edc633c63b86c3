"""Issue 13 #9: the admin API for console users mirrors `wefirst web disable-user|enable-user|
end-sessions|reset-password`; only an admin key reaches it (a brand, a publisher or no key gets
401/403 and nothing changes)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.store.db import Database
from wefirst.web import sessions

from factories import auth, make_brand, signup_publisher
from security.console_users_helpers import EMAIL, PASSWORD, in_console, sign_in

BASE = "/v1/console-users"


def test_admin_disables_resets_and_ends_sessions_over_the_api(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    with db.write() as conn:
        sessions.create_user(conn, EMAIL, "brand", brand.id, PASSWORD)
    publisher, _ = signup_publisher(client, "Camille", ["blog.example"])
    web, status = sign_in(app)
    assert status == 303
    assert in_console(web)

    # no key, a brand key (even the user's own brand), a publisher key: refused, nothing changes
    for headers in ({}, auth(brand.key), auth(publisher.key)):
        for action in ("disable", "end-sessions", "enable"):
            r = client.post(f"{BASE}/{action}", json={"email": EMAIL}, headers=headers)
            assert r.status_code in (401, 403), (action, r.status_code)
        r = client.post(
            f"{BASE}/reset-password", json={"email": EMAIL, "password": "x" * 20}, headers=headers
        )
        assert r.status_code in (401, 403)
    assert in_console(web)

    r = client.post(f"{BASE}/end-sessions", json={"email": EMAIL}, headers=auth(admin_key))
    assert r.status_code == 200, r.text
    assert not in_console(web)

    web, status = sign_in(app)
    assert status == 303
    r = client.post(f"{BASE}/disable", json={"email": EMAIL}, headers=auth(admin_key))
    assert r.status_code == 200, r.text
    assert not in_console(web)
    assert sign_in(app)[1] != 303

    r = client.post(f"{BASE}/enable", json={"email": EMAIL}, headers=auth(admin_key))
    assert r.status_code == 200, r.text
    new = "a brand new passphrase"
    r = client.post(f"{BASE}/reset-password", json={"email": EMAIL, "password": new}, headers=auth(admin_key))
    assert r.status_code == 200, r.text
    assert sign_in(app)[1] != 303
    assert sign_in(app, new)[1] == 303

    r = client.post(f"{BASE}/disable", json={"email": "nobody@pampy.example"}, headers=auth(admin_key))
    assert r.status_code == 404
    r = client.post(
        f"{BASE}/reset-password", json={"email": EMAIL, "password": "short"}, headers=auth(admin_key)
    )
    assert r.status_code == 422
    assert "password" in r.text
