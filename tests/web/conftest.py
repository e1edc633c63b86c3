"""Fixtures for the page tests: a real uvicorn server on loopback and one headless Chromium for
the whole session (starting a browser costs about a second; tests open fresh contexts)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import new_context
from live_server import LiveServer

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium)")
    from browser import chromium

    with chromium() as b:
        yield b


@pytest.fixture(scope="session")
def serve() -> Iterator[Callable[[Any], LiveServer]]:
    started: list[LiveServer] = []

    def start(app: Any) -> LiveServer:
        server = LiveServer(app).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__(None, None, None)


def run_axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the current page (empty list = pass).
    The script is injected through the DevTools protocol, not a <script> tag, so the page's
    CSP stays as strict as in production."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci` at the repository root")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }"
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


@pytest.fixture
def live(app: Any, client: Any) -> Iterator[LiveServer]:
    """The test's app (with the pages) under uvicorn. The `client` fixture has already run
    the app's lifespan (log sequencer and other workers), so the server does not run it again."""
    from web.web_helpers import with_pages

    with LiveServer(with_pages(app)) as server:
        yield server


@pytest.fixture
def new_page(browser: Any, live: LiveServer) -> Iterator[Callable[..., Any]]:
    """Pages on the live server; any script error or CSP violation in them fails the test."""
    contexts: list[Any] = []
    problems: list[str] = []

    def make(**options: Any) -> Any:
        options.setdefault("locale", "en-GB")
        context = new_context(browser, base_url=live.url, **options)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert problems == [], problems


@pytest.fixture(scope="session")
def axe() -> Callable[[Any], list[dict[str, Any]]]:
    return run_axe
