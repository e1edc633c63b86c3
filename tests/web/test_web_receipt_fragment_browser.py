"""Issue 13 #6: a receipt's secret never reaches the server. The link we hand out is
`/receipts#<secret>`; the browser derives the commitment (SHA-256 of the secret, as the log
holds it), opens the page found by that commitment, and checks the secret against the entry
itself. Every request the server receives is recorded here: none carries the secret, in its
path, query or headers (Referer included)."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.store.db import Database
from wefirst.web.receipt_story import parse_input

from browser import new_context
from live_server import LiveServer
from web.web_helpers import integrate_log, seed_story

pytestmark = pytest.mark.browser

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class Recorder:
    """What the server saw of each request: path, query string and every header."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = b" ".join(k + b": " + v for k, v in scope["headers"]).decode("latin-1")
            self.seen.append(f"{scope['path']}?{scope['query_string'].decode()} {headers}")
        await self.app(scope, receive, send)


def test_the_receipt_secret_stays_in_the_browser(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, browser: Any
) -> None:
    story = seed_story(client, db, admin_key)
    integrate_log(app)
    secret = story.receipt_secret
    commitment = hashlib.sha256(secret.encode()).hexdigest()
    recorder = Recorder(app)
    with LiveServer(recorder) as server:
        context = new_context(browser, base_url=server.url)
        try:
            page = context.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(f"/receipts#{secret}")
            page.wait_for_url(f"**/receipts/c/{commitment}#secret={secret}")
            verdict = page.locator("#verify-verdict[data-code=ok]")
            verdict.wait_for()
            result = page.locator("#verify-result").inner_text()
            assert "The entry carries this receipt's commitment" in result
            assert "1 pack = 1 vaccine" in page.content()
            assert problems == []
        finally:
            context.close()
    assert any(f"/receipts/c/{commitment}" in line for line in recorder.seen)
    assert [line for line in recorder.seen if secret in line] == []


def test_old_receipt_links_keep_working(
    client: TestClient, db: Database, admin_key: str, app: FastAPI
) -> None:
    story = seed_story(client, db, admin_key)
    integrate_log(app)
    old = client.get(f"/receipts/{story.receipt_secret}")
    assert old.status_code == 200
    commitment = hashlib.sha256(story.receipt_secret.encode()).hexdigest()
    new = client.get(f"/receipts/c/{commitment}")
    assert new.status_code == 200
    assert "1 pack = 1 vaccine" in new.text
    assert story.receipt_secret not in new.text
    assert client.get("/receipts/c/" + "0" * 64).status_code == 404
    assert client.get("/receipts/c/not-hex").status_code == 404
    # a new link pasted into the verify form still finds its receipt
    for link in (
        f"https://x.example/receipts#{story.receipt_secret}",
        f"/receipts/c/{commitment}#secret={story.receipt_secret}",
    ):
        found = parse_input(link)
        assert found is not None
        assert found.secret == story.receipt_secret
    opener = client.get("/receipts")
    assert opener.status_code == 200
    assert "data-receipt-opener" in opener.text
    assert opener.headers["cache-control"] == "no-store"
