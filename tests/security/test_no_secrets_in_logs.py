"""Issue 13, finding 6: uvicorn's access log wrote client addresses and full paths, and paths
carry receipt secrets and magic-link, co-sign and erasure tokens. `wefirst serve` turns it
off; the app's own request line names the route template, never the path."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from wefirst.cli import app


def test_serve_runs_uvicorn_without_its_access_log(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: seen.update(kw))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WEFIRST_DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    monkeypatch.setenv("WEFIRST_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WEFIRST_DEVELOPMENT", "true")
    r = CliRunner().invoke(app, ["serve", "--port", "0"])
    assert r.exit_code == 0, r.output
    assert seen["access_log"] is False


@pytest.mark.parametrize(
    "path",
    [
        "/receipts/rcpt_SECRETVALUE1234567890",
        "/v1/receipts/rcpt_SECRETVALUE1234567890",
        "/v1/cosign-confirmations/SECRETVALUE1234567890",
        "/v1/supporter-erasures/SECRETVALUE1234567890",
        "/signin/link/SECRETVALUE1234567890",
    ],
)
def test_request_log_lines_name_routes_not_paths(
    client: TestClient, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    with caplog.at_level(logging.INFO):
        client.get(path)
    # the server's records (httpx, the test's own client, logs its requests too)
    lines = [
        r.getMessage() + " " + repr(getattr(r, "fields", {}))
        for r in caplog.records
        if not r.name.startswith(("httpx", "httpcore"))
    ]
    assert lines
    assert not any("SECRETVALUE" in line for line in lines), lines
    assert not any("testclient" in line for line in lines)  # no client address either
