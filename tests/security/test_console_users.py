"""Issue 13, finding 9: console users could not be disabled, have a password reset or their
sessions ended by an admin, and a magic link stayed valid after a newer one. Now
`wefirst web disable-user|enable-user|reset-password|end-sessions`, a newer link voids older
ones, and `web add-user` checks that the owner exists and matches the role."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from wefirst.cli import app as cli
from wefirst.mail import MemoryMailer
from wefirst.services import replace
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.web import sessions

from factories import make_brand
from security.console_users_helpers import EMAIL, PASSWORD, in_console, sign_in
from web.web_helpers import csrf_of, with_pages

ADD = ["web", "add-user", "--password-env", "PW", "--email"]


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings, tmp_path: Path) -> CliRunner:
    """The CLI on the test database."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WEFIRST_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("WEFIRST_SECRET_KEY", settings.secret_key)
    return CliRunner()


def _user(client: TestClient, db: Database, admin_key: str) -> str:
    brand = make_brand(client, db, admin_key)
    with db.write() as conn:
        sessions.create_user(conn, EMAIL, "brand", brand.id, PASSWORD)
    return brand.id


def _link(app: FastAPI, mailer: MemoryMailer) -> str:
    web = TestClient(with_pages(app))
    before = len(mailer.sent)
    web.post("/signin/link", data={"email": EMAIL, "csrf_token": csrf_of(web.get("/signin").text)})
    assert len(mailer.sent) == before + 1
    found = re.search(r"http://testserver(/signin/link/\S+)", mailer.sent[-1].get_content())
    assert found
    return found.group(1)


def _redeem(app: FastAPI, link: str) -> int:
    web = TestClient(with_pages(app))
    landing = web.get(link)
    return int(web.post(link, data={"csrf_token": csrf_of(landing.text)}, follow_redirects=False).status_code)


def test_disable_user_ends_sessions_and_every_way_in(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, cli_env: CliRunner
) -> None:
    _user(client, db, admin_key)
    mailer = MemoryMailer()
    replace(app, mailer=mailer)
    web, status = sign_in(app)
    assert status == 303
    assert in_console(web)
    pending = _link(app, mailer)
    r = cli_env.invoke(cli, ["web", "disable-user", "--email", EMAIL])
    assert r.exit_code == 0, r.output
    assert not in_console(web)  # the open session ended
    assert sign_in(app)[1] == 401  # the right password no longer works
    assert _redeem(app, pending) == 400  # a link sent before is void
    sent = len(mailer.sent)
    TestClient(with_pages(app)).post("/signin/link", data={"email": EMAIL})  # no CSRF: refused anyway
    assert len(mailer.sent) == sent
    r = cli_env.invoke(cli, ["web", "enable-user", "--email", EMAIL])
    assert r.exit_code == 0, r.output
    assert sign_in(app)[1] == 303


def test_reset_password_and_end_sessions(
    app: FastAPI,
    client: TestClient,
    db: Database,
    admin_key: str,
    cli_env: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _user(client, db, admin_key)
    web, _ = sign_in(app)
    assert in_console(web)
    assert cli_env.invoke(cli, ["web", "end-sessions", "--email", EMAIL]).exit_code == 0
    assert not in_console(web)
    web, _ = sign_in(app)
    monkeypatch.setenv("NEW_PW", "a brand new passphrase")
    r = cli_env.invoke(cli, ["web", "reset-password", "--email", EMAIL, "--password-env", "NEW_PW"])
    assert r.exit_code == 0, r.output
    assert not in_console(web)
    assert sign_in(app)[1] == 401
    assert sign_in(app, "a brand new passphrase")[1] == 303
    r = cli_env.invoke(cli, ["web", "end-sessions", "--email", "nobody@else.example"])
    assert r.exit_code == 2
    assert "no console user" in r.output


def test_a_newer_magic_link_voids_the_older(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    _user(client, db, admin_key)
    mailer = MemoryMailer()
    replace(app, mailer=mailer)
    older = _link(app, mailer)
    newer = _link(app, mailer)
    assert _redeem(app, older) == 400
    assert _redeem(app, newer) == 303


def test_add_user_checks_the_owner_exists_and_matches_the_role(
    client: TestClient, db: Database, admin_key: str, cli_env: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    brand_id = _user(client, db, admin_key)
    monkeypatch.setenv("PW", PASSWORD)
    for role, owner in (("brand", "brd_doesnotexist"), ("publisher", brand_id), ("beneficiary", brand_id)):
        r = cli_env.invoke(cli, [*ADD, f"x-{role}@e.example", "--role", role, "--owner", owner])
        assert r.exit_code == 2, r.output
        assert "owner_id" in r.output
    r = cli_env.invoke(cli, [*ADD, "y@e.example", "--role", "brand", "--owner", brand_id])
    assert r.exit_code == 0, r.output
