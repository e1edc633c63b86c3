"""A visit of the demo's pages in Chromium at one width and language, shared by the people and
console browser tests: console errors (CSP violations show there), axe and sideways scrolling
checked on every page, screenshots when WEFIRST_SCREENSHOTS names a folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from browser import new_context
from web.demo_site import DemoSite

WIDTHS = (390, 1280)  # a phone, a laptop
SHOTS = os.environ.get("WEFIRST_SCREENSHOTS")


class Visit:
    """Opens pages of the demo at one width and language, collecting console errors (CSP
    violations are reported there) and checking axe and sideways scrolling on each."""

    def __init__(self, browser: Any, site: DemoSite, width: int, locale: str, axe: Any) -> None:
        self.context = new_context(
            browser, base_url=site.url, viewport={"width": width, "height": 900}, locale=locale
        )
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))
        self.width, self.axe, self.lang = width, axe, locale[:2]
        self.scripts = True

    def open(self, path: str, shot: str | None = None) -> Any:
        response = self.page.goto(path)
        assert response is not None, path
        assert response.status == 200, (path, response.status)
        return self.check(shot)

    def check(self, shot: str | None = None) -> Any:
        """axe, sideways scrolling and (optionally) a screenshot of the page as it is now."""
        path = self.page.url
        violations = self.axe(self.page)
        assert violations == [], f"{path} at {self.width}px: {violations}"
        if not self.scripts:
            return self.page
        wide = self.page.evaluate("document.documentElement.scrollWidth")
        assert wide <= self.width, f"{path} is {wide}px wide at {self.width}px"
        if SHOTS and shot:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            name = f"{shot}-{self.width}{'' if self.lang == 'en' else '-' + self.lang}.png"
            self.page.screenshot(path=str(Path(SHOTS) / name))  # the first screen: small files
        return self.page

    def close(self) -> None:
        self.context.close()
        assert self.problems == [], self.problems
