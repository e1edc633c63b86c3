"""Issue 13, finding 11 (low): cookie `Secure` depended on proxy trust settings; confirmation
pages had no CSP or frame protection; `/metrics` was public; the signer key file's mode was
not checked on load. (SMTP login without TLS is refused at start: test_production_checklist.)"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from wefirst.app import create_app
from wefirst.cases.identity import sign_token
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.tlog.errors import LogFormatError
from wefirst.tlog.keys import load_key, write_new_key


def _client(settings: Settings, db: Database, **over: object) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update=over), db=db)) as c:
        yield c


@pytest.fixture
def https_deployment(settings: Settings, db: Database) -> Iterator[TestClient]:
    """Behind a proxy whose X-Forwarded-Proto is not trusted: the app sees http."""
    yield from _client(settings, db, base_url="https://promises.example.org")


def test_cookies_are_secure_when_the_deployment_is_https(https_deployment: TestClient) -> None:
    r = https_deployment.get("/signin")
    cookies = r.headers.get_list("set-cookie")
    assert cookies, r.headers
    assert all("secure" in c.lower() for c in cookies), cookies


def test_cookie_secure_setting_overrides(settings: Settings, db: Database) -> None:
    for client in _client(settings, db, base_url="https://promises.example.org", cookie_secure=False):
        cookies = client.get("/signin").headers.get_list("set-cookie")
        assert cookies
        assert not any("secure" in c.lower() for c in cookies)


def test_confirmation_pages_cannot_be_framed_or_leak_their_token(
    client: TestClient, settings: Settings
) -> None:
    token = sign_token(settings.secret_key, "erase", "ehash-for-test")
    r = client.get(f"/v1/supporter-erasures/{token}", headers={"Accept": "text/html"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-store"


def test_metrics_can_require_a_key(settings: Settings, db: Database) -> None:
    for client in _client(settings, db, metrics_key="scrape-" + "k" * 30):
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-" + "k" * 30})
        assert ok.status_code == 200
        assert "wefirst" in ok.text or "http" in ok.text


def test_a_signer_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tlog.key"
    write_new_key(path, "promises.example.org/log")
    assert load_key(path).name == "promises.example.org/log"
    os.chmod(path, 0o644)
    with pytest.raises(LogFormatError, match="chmod 600"):
        load_key(path)
