"""Shared Playwright helper: Debian's Chromium, never a downloaded browser.

Browser tests are marked `@pytest.mark.browser` and skip cleanly when `/usr/bin/chromium` is
missing (install it with `apt-get install -y chromium`, never `playwright install`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from waiting import PATIENCE

CHROMIUM = Path(os.environ.get("WEFIRST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: What a desktop Chromium sends when it is not headless; pages under test that refuse headless
#: user agents (the widget does) see a normal reader with this.
DESKTOP_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)")


def launch_browser(playwright: Any, **options: Any) -> Any:
    """Launches Debian's Chromium from an already started `sync_playwright()`."""
    require_chromium()
    options.setdefault("headless", True)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, **options)


def new_context(browser: Any, **options: Any) -> Any:
    """A browser context whose waits (selectors, navigation, ``wait_for_function``) last
    ``PATIENCE``, not Playwright's 30 s: they return as soon as the page is ready, and only a
    hang should fail them, not a busy machine."""
    context = browser.new_context(**options)
    context.set_default_timeout(PATIENCE * 1000)
    context.set_default_navigation_timeout(PATIENCE * 1000)
    return context


_playwright: Any = None


def shared_playwright() -> Any:
    """One Playwright per test process: the sync API runs an event loop in the calling thread,
    so a second `sync_playwright()` started while the first is alive fails. Every browser test
    (widget, pages) launches its browsers from this one; the session fixture in
    tests/conftest.py stops it at the end."""
    global _playwright
    if _playwright is None:
        from playwright.sync_api import sync_playwright

        _playwright = sync_playwright().start()
    return _playwright


def stop_shared_playwright() -> None:
    global _playwright
    if _playwright is not None:
        _playwright.stop()
        _playwright = None


@contextmanager
def chromium() -> Iterator[Any]:
    """Yields a Playwright `Browser` from the shared Playwright; the import is deferred so
    collecting tests needs no Playwright when browser tests are deselected."""
    require_chromium()
    browser = launch_browser(shared_playwright())
    try:
        yield browser
    finally:
        browser.close()
