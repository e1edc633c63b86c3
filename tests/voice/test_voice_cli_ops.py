"""`wefirst voice import / report` through the CLI (the sub-app, as `wefirst voice` runs it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.voice.cli import app, sparkline

from factories import make_brand
from voice.voice_helpers import configure, write_csv

runner = CliRunner()


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEFIRST_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("WEFIRST_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("COLUMNS", "120")


def test_sparkline_scales_and_compresses() -> None:
    assert sparkline([]) == ""
    assert sparkline([0, 1, 2, 4, 8]) == " ▂▃▅█"
    assert len(sparkline(list(range(500)), width=50)) == 50


@pytest.mark.usefixtures("env")
def test_import_then_reimport_then_report(
    client: TestClient, db: Database, admin_key: str, tmp_path: Path
) -> None:
    brand = make_brand(client, db, admin_key, "Acme")
    configure(client, brand.id, brand.key, detector={"alpha": 0.001})
    path = tmp_path / "acme.csv"
    n = write_csv(path)
    first = runner.invoke(app, ["import", str(path), "--no-progress"])
    assert first.exit_code == 0, first.output
    assert f"{n} mention a brand, {n} new" in first.output
    again = runner.invoke(app, ["import", str(path), "--no-progress"])
    assert again.exit_code == 0
    assert f"{n} mention a brand, 0 new" in again.output
    report = runner.invoke(app, ["report", "Acme"])
    assert report.exit_code == 0, report.output
    assert "Acme" in report.output
    assert "negative" in report.output
    assert any(ch in report.output for ch in "▁▂▃▄▅▆▇█")
    assert "backlash" in report.output  # the surge in the file is an episode


@pytest.mark.usefixtures("env")
def test_cli_errors_are_clear(client: TestClient, db: Database, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["import", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2
    assert "does not exist" in missing.output
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    bad_column = runner.invoke(app, ["import", str(path), "--column", "text"])
    assert bad_column.exit_code == 2
    assert "KEY=COLUMN" in bad_column.output
    unknown_key = runner.invoke(app, ["import", str(path), "--column", "colour=a"])
    assert unknown_key.exit_code == 2
    assert "unknown mapping keys" in unknown_key.output
    no_columns = runner.invoke(app, ["import", str(path)])
    assert no_columns.exit_code == 2
    assert "missing column" in no_columns.output
    nobody = runner.invoke(app, ["report", "No Such Brand"])
    assert nobody.exit_code == 2
    assert "no brand" in nobody.output
