"""Issue 13, finding 2: `wefirst serve` started silently with the public default secret key
(`dev-insecure-change-me`), with which anyone forges console sessions, magic links, co-sign
tokens and widget challenges, and derives the connectors' AES key. Now serve, its worker
processes, `voice listen` and `webhooks work` refuse to start while an item of the production
checklist is unsafe, naming the setting; docs/deploy.md lists the same items."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wefirst.app import create_app_from_env
from wefirst.checklist import DEFAULT_SECRET_KEY, UnsafeSettings, problems
from wefirst.cli import app
from wefirst.settings import Settings

REPO = Path(__file__).resolve().parents[2]

SAFE = {
    "WEFIRST_DEVELOPMENT": "false",
    "WEFIRST_SECRET_KEY": "s" * 64,
    "WEFIRST_CONNECTORS_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    "WEFIRST_TLOG_KEY_AUTOCREATE": "false",
    "WEFIRST_BASE_URL": "https://promises.example.org",
}


def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **over: str) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("WEFIRST_DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    monkeypatch.setenv("WEFIRST_DATA_DIR", str(tmp_path))
    for k, v in {**SAFE, **over}.items():
        monkeypatch.setenv(k, v)


def test_the_defaults_are_unsafe_and_each_item_names_its_setting() -> None:
    found = {p.setting for p in problems(Settings(_env_file=None))}
    assert {
        "WEFIRST_SECRET_KEY",
        "WEFIRST_CONNECTORS_ENCRYPTION_KEY",
        "WEFIRST_TLOG_KEY_AUTOCREATE",
        "WEFIRST_BASE_URL",
    } <= found


@pytest.mark.parametrize(
    ("over", "setting"),
    [
        ({"WEFIRST_SECRET_KEY": DEFAULT_SECRET_KEY}, "WEFIRST_SECRET_KEY"),
        ({"WEFIRST_SECRET_KEY": "short-secret"}, "WEFIRST_SECRET_KEY"),
        ({"WEFIRST_CONNECTORS_ENCRYPTION_KEY": ""}, "WEFIRST_CONNECTORS_ENCRYPTION_KEY"),
        ({"WEFIRST_TLOG_KEY_AUTOCREATE": "true"}, "WEFIRST_TLOG_KEY_AUTOCREATE"),
        ({"WEFIRST_BASE_URL": "http://promises.example.org"}, "WEFIRST_BASE_URL"),
        ({"WEFIRST_SMTP_USER": "mailer", "WEFIRST_SMTP_PASSWORD": "pw"}, "WEFIRST_SMTP_STARTTLS"),
        ({"WEFIRST_OUTBOUND_HTTPS_ONLY": "false"}, "WEFIRST_OUTBOUND_HTTPS_ONLY"),
    ],
)
def test_serve_refuses_to_start_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, over: dict[str, str], setting: str
) -> None:
    _env(monkeypatch, tmp_path, **over)
    r = CliRunner().invoke(app, ["serve", "--port", "1"])
    assert r.exit_code == 2, r.output
    assert setting in r.output
    assert "fix:" in r.output
    assert not (tmp_path / "w.db").exists()  # refused before touching anything
    # the uvicorn worker entry point refuses too (uvicorn can be started without `serve`)
    with pytest.raises(UnsafeSettings, match=setting):
        create_app_from_env()


@pytest.mark.parametrize("command", [["voice", "listen", "--once"], ["webhooks", "work"]])
def test_workers_refuse_the_default_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: list[str]
) -> None:
    _env(monkeypatch, tmp_path, WEFIRST_SECRET_KEY=DEFAULT_SECRET_KEY)
    r = CliRunner().invoke(app, command)
    assert r.exit_code == 2, r.output
    assert "WEFIRST_SECRET_KEY" in r.output


def test_development_mode_starts_with_warnings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Explicit development mode starts (here up to the SQLite multi-worker refusal, which
    comes after the checklist) and says what would be refused in production."""
    _env(monkeypatch, tmp_path, WEFIRST_DEVELOPMENT="true", WEFIRST_SECRET_KEY=DEFAULT_SECRET_KEY)
    r = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert "warning (development mode)" in r.output
    assert "WEFIRST_SECRET_KEY" in r.output
    assert "several workers need a database server" in r.output


def test_a_safe_configuration_passes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _env(monkeypatch, tmp_path)
    assert problems(Settings()) == []


def test_a_real_serve_process_with_the_default_secret_exits(tmp_path: Path) -> None:
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("WEFIRST_")}
    env.update({"WEFIRST_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", "WEFIRST_DATA_DIR": str(tmp_path)})
    done = subprocess.run(
        [sys.executable, "-m", "wefirst.cli", "serve", "--port", "0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "WEFIRST_SECRET_KEY" in done.stderr


def test_deploy_doc_lists_every_checklist_item() -> None:
    """docs/deploy.md's production checklist and the enforced one cannot drift."""
    doc = (REPO / "docs" / "deploy.md").read_text()
    section = doc.split("## Production checklist", 1)[1].split("\n## ", 1)[0]
    unsafe = Settings(
        _env_file=None,
        smtp_user="u",
        outbound_https_only=False,
        connectors_fake_remote=True,
    )
    for item in problems(unsafe):
        for name in re.findall(r"WEFIRST_[A-Z_]+", item.setting):
            assert name in section, name
