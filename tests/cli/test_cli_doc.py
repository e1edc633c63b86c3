"""docs/cli.md is generated from the Typer apps; it must say what the code does."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from wefirst.cli import app
from wefirst.cli_doc import render
from wefirst.witness.cli import app as witness_app

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
APPS = [("wefirst", app), ("wefirst-witness", witness_app)]


def test_the_cli_reference_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(APPS), (
        "docs/cli.md is stale: run `wefirst cli-doc > docs/cli.md`"
    )


def test_the_command_prints_the_page_and_every_command_has_a_section() -> None:
    result = CliRunner().invoke(app, ["cli-doc"])
    assert result.exit_code == 0, result.output
    assert result.output == render(APPS)
    page = result.output
    for section in (
        "`wefirst serve`",
        "`wefirst log rotate`",
        "`wefirst webhooks replay`",
        "`wefirst-witness serve`",
    ):
        assert f"`{section[1:-1]}`" in page, section
    assert "| `--port <int>` | TCP port. [default: 8000] |" in page
