"""Static properties of widget.js that a publisher relies on before any browser runs it."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import wefirst

WIDGET_JS = Path(wefirst.__file__).parent / "web" / "static" / "widget.js"


def _source() -> str:
    return WIDGET_JS.read_text(encoding="utf-8")


def test_under_ten_kilobytes_gzipped() -> None:
    size = len(gzip.compress(WIDGET_JS.read_bytes(), compresslevel=9))
    assert size < 10 * 1024, f"widget.js is {size} bytes gzipped"


def test_loads_nothing_from_third_parties() -> None:
    src = _source()
    # No absolute URLs in code (the header comment shows the embed with a placeholder host).
    code = re.sub(r"/\*.*?\*/", "", src, flags=re.S)
    assert not re.search(r"https?://", code)
    assert "import(" not in code
    assert 'createElement("script")' not in code


def test_no_cookies_no_html_injection_no_eval() -> None:
    src = _source()
    for forbidden in (
        "document.cookie",
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "eval(",
        "new Function",
        "document.write",
    ):
        assert forbidden not in src, forbidden
    assert 'credentials: "omit"' in src


def test_renders_in_a_shadow_root_with_accessible_parts() -> None:
    src = _source()
    assert "attachShadow" in src
    for part in (
        '"aria-live": "polite"',
        'role: "status"',
        'role: "region"',
        'type: "button"',
        "prefers-reduced-motion",
        "focus-visible",
    ):
        assert part in src, part


def test_speaks_french_and_english_for_every_state() -> None:
    src = _source()
    fr = src[src.index("fr: {") : src.index("en: {")]
    en = src[src.index("en: {") : src.index("var CSS")]
    keys = set(re.findall(r"^\s+(\w+):", fr, flags=re.M))
    assert keys == set(re.findall(r"^\s+(\w+):", en, flags=re.M))
    for state in (
        "paused",
        "ended",
        "cap_reached",
        "bad_origin",
        "rate_limited",
        "thanks",
        "already",
        "receipt",
    ):
        assert state in keys
    assert "Objectif atteint" in fr
