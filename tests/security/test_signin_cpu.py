"""Issue 13 #8 (argon2 for anyone): a sign-in with an unknown e-mail costs the server one
argon2 verification (of a dummy hash), the same as a wrong password for a real account, so the
time does not tell whether an account exists; and an anonymous caller cannot make the server
run argon2 beyond the sign-in budgets: a refused attempt never reaches the hasher."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.auth import console_users
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.web import sessions

from factories import make_brand
from security.test_signin_abuse import EMAIL, PASSWORD, _post


class CountingHasher:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.verified: list[str] = []

    def verify(self, stored: str, password: str) -> bool:
        self.verified.append(stored)
        return bool(self.inner.verify(stored, password))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_unknown_addresses_cost_one_verification_and_refusals_cost_none(
    app: FastAPI,
    client: TestClient,
    db: Database,
    admin_key: str,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    brand = make_brand(client, db, admin_key)
    with db.write() as conn:
        sessions.create_user(conn, EMAIL, "brand", brand.id, PASSWORD)
    hasher = CountingHasher(console_users.HASHER)
    monkeypatch.setattr(sessions, "HASHER", hasher)

    assert _post(app, "/signin", {"email": EMAIL, "password": "wrong password!!"}, "203.0.113.1")[0] == 401
    assert (
        _post(app, "/signin", {"email": "nobody@x.example", "password": "wrong password!!"}, "203.0.113.2")[0]
        == 401
    )
    assert len(hasher.verified) == 2
    assert hasher.verified[1] == sessions._dummy_hash()  # the same argon2 work as a real account
    assert hasher.verified[0] != sessions._dummy_hash()

    # one network spraying many unknown addresses: once its budget is spent, no more argon2
    settings.web_signin_attempts_per_network_per_hour = 3
    hasher.verified.clear()
    codes = [
        _post(app, "/signin", {"email": f"u{i}@x.example", "password": "Summer2026!!"}, "198.51.100.7")[0]
        for i in range(8)
    ]
    assert codes == [401] * 3 + [429] * 5
    assert len(hasher.verified) == 3
