"""`wefirst web add-user`: console users from the command line, password never on argv."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.web import cli as web_cli
from wefirst.web import sessions

from factories import make_brand


def test_add_user_from_an_environment_password(
    client: TestClient, db: Database, admin_key: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    brand = make_brand(client, db, admin_key)
    monkeypatch.setenv("WEFIRST_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TEAM_PW", "a long enough password")
    runner = CliRunner()
    result = runner.invoke(
        web_cli.app,
        [
            "add-user",
            "--email",
            "team@pampy.example",
            "--role",
            "brand",
            "--owner",
            brand.id,
            "--password-env",
            "TEAM_PW",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "team@pampy.example (brand for" in result.output
    with db.read() as conn:
        assert sessions.check_password(conn, "team@pampy.example", "a long enough password")
    again = runner.invoke(
        web_cli.app,
        [
            "add-user",
            "--email",
            "TEAM@pampy.example",
            "--role",
            "brand",
            "--owner",
            brand.id,
            "--no-password",
        ],
    )
    assert again.exit_code == 2
    assert "already exists" in again.output
    unset = runner.invoke(
        web_cli.app,
        [
            "add-user",
            "--email",
            "x@pampy.example",
            "--role",
            "brand",
            "--owner",
            brand.id,
            "--password-env",
            "NOPE",
        ],
    )
    assert unset.exit_code != 0


def test_passwords_come_from_a_confirmed_prompt_or_the_environment_for_add_and_reset(
    client: TestClient, db: Database, admin_key: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """add-user and reset-password read the password the same way (web.cli._password) and
    report errors the same way (web.cli._write)."""
    brand = make_brand(client, db, admin_key)
    monkeypatch.setenv("WEFIRST_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    first = "first password, long"
    added = runner.invoke(
        web_cli.app,
        ["add-user", "--email", "ops@pampy.example", "--role", "brand", "--owner", brand.id],
        input=f"{first}\n{first}\n",
    )
    assert added.exit_code == 0, added.output
    assert "Password (12+ characters)" in added.output
    monkeypatch.setenv("EMPTY_PW", "")
    empty = runner.invoke(
        web_cli.app, ["reset-password", "--email", "ops@pampy.example", "--password-env", "EMPTY_PW"]
    )
    assert empty.exit_code == 2
    assert "$EMPTY_PW is empty or unset" in empty.output
    with db.read() as conn:
        assert sessions.check_password(conn, "ops@pampy.example", first)  # nothing changed
    second = "second password, long"
    reset = runner.invoke(
        web_cli.app, ["reset-password", "--email", "ops@pampy.example"], input=f"{second}\n{second}\n"
    )
    assert reset.exit_code == 0, reset.output
    assert "New password (12+ characters)" in reset.output
    assert "password reset; sessions ended" in reset.output
    with db.read() as conn:
        assert sessions.check_password(conn, "ops@pampy.example", second)
        assert not sessions.check_password(conn, "ops@pampy.example", first)
    unknown = runner.invoke(web_cli.app, ["reset-password", "--email", "who@x.example", "--no-password"])
    assert unknown.exit_code == 2
    assert unknown.output.startswith("error: ")
