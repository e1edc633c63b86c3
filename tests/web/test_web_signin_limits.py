"""Sign-in limits live in the shared database limiter: every API process counts against the
same budget (the old throttle was a dict in each process), one network spraying many
addresses is limited too, and the owner's right password gives its attempt back."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.app import create_app
from wefirst.settings import Settings
from wefirst.store.db import Database

from factories import make_brand
from web.web_helpers import PASSWORD, add_user, csrf_of, with_pages


def attempt(app: FastAPI, email: str, password: str, ip: str = "198.51.100.7") -> int:
    web = TestClient(with_pages(app), client=(ip, 40000))
    try:
        token = csrf_of(web.get("/signin").text)
        r = web.post(
            "/signin",
            data={"email": email, "password": password, "csrf_token": token},
            follow_redirects=False,
        )
        return int(r.status_code)
    finally:
        web.close()


def test_two_processes_share_one_budget(
    app: FastAPI, client: TestClient, settings: Settings, db: Database, admin_key: str
) -> None:
    """Before: each process kept its own count, so N processes gave an attacker N budgets."""
    settings.web_signin_attempts_per_hour = 3
    brand = make_brand(client, db, admin_key)
    add_user(db, "team@pampy.example", "brand", brand.id)
    other = create_app(settings, db=db)  # a second API process on the same database
    codes = [attempt(a, "team@pampy.example", "wrong" * 3) for a in (app, other, app, other)]
    assert codes == [401, 401, 401, 429]
    assert attempt(other, "team@pampy.example", PASSWORD) == 429


def test_one_network_spraying_many_addresses_is_limited(
    app: FastAPI, client: TestClient, settings: Settings, db: Database, admin_key: str
) -> None:
    """Before: limits were per address only, so trying one common password on every address
    from one network was unlimited."""
    settings.web_signin_attempts_per_network_per_hour = 4
    codes = [attempt(app, f"user{i}@pampy.example", "Summer2026!!") for i in range(5)]
    assert codes == [401, 401, 401, 401, 429]
    # another address of the same /24 is the same network; another /24 is not
    assert attempt(app, "user9@pampy.example", "Summer2026!!", ip="198.51.100.200") == 429
    assert attempt(app, "user9@pampy.example", "Summer2026!!", ip="198.51.101.1") == 401


def test_the_right_password_gives_its_attempt_back(
    app: FastAPI, client: TestClient, settings: Settings, db: Database, admin_key: str
) -> None:
    settings.web_signin_attempts_per_hour = 3
    brand = make_brand(client, db, admin_key)
    add_user(db, "team@pampy.example", "brand", brand.id)
    assert attempt(app, "team@pampy.example", "wrong" * 3) == 401
    assert attempt(app, "team@pampy.example", "wrong" * 3) == 401
    assert attempt(app, "team@pampy.example", PASSWORD) == 303
    assert attempt(app, "team@pampy.example", PASSWORD) == 303  # signing in never uses it up
    assert attempt(app, "team@pampy.example", "wrong" * 3) == 401
    assert attempt(app, "team@pampy.example", "wrong" * 3) == 429
