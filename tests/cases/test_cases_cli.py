"""`wefirst cases` against the test database: sweep, list, show, moderation, erasure."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from wefirst.cli import app
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_cases import case_moderation_log, case_supporters, cases

from cases.cases_kit import case_log, cosign_and_confirm, open_case
from factories import make_brand
from smtp_server import SmtpSink

runner = CliRunner()


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEFIRST_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("WEFIRST_SECRET_KEY", settings.secret_key)


def test_cli_story(env: None, client: TestClient, db: Database, admin_key: str, smtp_sink: SmtpSink) -> None:
    brand = make_brand(client, db, admin_key)
    case_id = open_case(client, brand.id)["id"]
    cosign_and_confirm(client, smtp_sink, case_id, "cli.person@example.org")

    r = runner.invoke(app, ["cases", "sweep"])
    assert r.exit_code == 0, r.output
    assert "0 case(s) marked" in r.output
    with db.write() as conn:  # pretend the case was opened eight days ago
        conn.execute(update(cases).values(opened_at=datetime.now(UTC) - timedelta(days=8)))
    r = runner.invoke(app, ["cases", "sweep"])
    assert "1 case(s) marked" in r.output
    assert case_id in r.output

    r = runner.invoke(app, ["cases", "list", "--json", "--brand", brand.id])
    assert r.exit_code == 0, r.output
    listed = json.loads(r.output)
    assert [c["id"] for c in listed] == [case_id]
    assert listed[0]["unanswered"] is True
    r = runner.invoke(app, ["cases", "list"])
    assert case_id in r.output

    r = runner.invoke(app, ["cases", "show", case_id])
    assert json.loads(r.output)["cosigns"] == 1
    r = runner.invoke(app, ["cases", "show", "cas_missing"])
    assert r.exit_code == 2
    assert "does not exist" in r.output

    r = runner.invoke(app, ["cases", "hide", case_id, "--reason", "<b>x</b>"])
    assert r.exit_code == 2
    assert "HTML markup" in r.output
    r = runner.invoke(app, ["cases", "hide", case_id, "--reason", "Under legal review."])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["cases", "restore", case_id, "--reason", "Review finished."])
    assert r.exit_code == 0, r.output
    with db.read() as conn:
        acts = conn.execute(
            select(case_moderation_log.c.action, case_moderation_log.c.moderator_key_id)
        ).all()
    assert [tuple(a) for a in acts] == [("hide", "cli"), ("restore", "cli")]
    assert [e["hidden"] for e in case_log(db) if e["kind"] == "case_hidden"] == [True, False]

    r = runner.invoke(app, ["cases", "erase-address", "Cli.Person+x@example.org"])
    assert r.exit_code == 0, r.output
    assert "1 signature(s)" in r.output
    with db.read() as conn:
        assert conn.execute(select(case_supporters.c.email)).scalar_one() is None
    r = runner.invoke(app, ["cases", "erase-address", "not an address"])
    assert r.exit_code == 2

    r = runner.invoke(app, ["cases", "summary", brand.id])
    assert json.loads(r.output)["complaints"]["unanswered"] == 1
    r = runner.invoke(app, ["cases", "reports"])
    assert json.loads(r.output) == []
