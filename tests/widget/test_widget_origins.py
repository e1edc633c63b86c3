"""Registered domains and Origin/Referer matching."""

from __future__ import annotations

import pytest

from wefirst.widget.origins import DomainError, normalize_domain, origin_allowed


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Blog.Example.org", "blog.example.org"),
        ("https://blog.example.org/", "blog.example.org"),
        ("http://127.0.0.2:8123", "127.0.0.2:8123"),
        ("*.example.org", "*.example.org"),
        ("carnet-de-camille.fr", "carnet-de-camille.fr"),
        ("café.example", "xn--caf-dma.example"),
        ("localhost", "localhost"),
    ],
)
def test_normalize(raw: str, stored: str) -> None:
    assert normalize_domain(raw) == stored


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "ftp://example.org",
        "https://user:pw@example.org",
        "example.org/path",
        "-bad.example",
        "exa mple.org",
        "*.org",
        "999.1.1.1",
        "a@b.c",
        "javascript:alert(1)",
    ],
)
def test_normalize_refuses(raw: str) -> None:
    with pytest.raises(DomainError):
        normalize_domain(raw)


DOMAINS = ["blog.example.org", "*.camille.fr", "127.0.0.2:8123"]


@pytest.mark.parametrize(
    ("origin", "referer", "ok"),
    [
        ("https://blog.example.org", None, True),
        ("http://blog.example.org:8080", None, True),
        ("https://evil.example.org", None, False),
        ("https://blog.example.org.evil.com", None, False),
        ("https://notblog.example.org", None, False),
        ("https://camille.fr", None, True),
        ("https://www.camille.fr", None, True),
        ("https://xcamille.fr", None, False),
        ("http://127.0.0.2:8123", None, True),
        ("http://127.0.0.2:9999", None, False),
        ("http://127.0.0.2", None, False),
        (None, "https://blog.example.org/2026/11/article", True),
        (None, "https://evil.example/?https://blog.example.org", False),
        ("null", "https://blog.example.org/", False),
        (None, None, False),
        ("file://blog.example.org", None, False),
        ("https://[::1", None, False),
        ("https://evil.example", "https://blog.example.org/", False),
    ],
)
def test_origin_allowed(origin: str | None, referer: str | None, ok: bool) -> None:
    assert origin_allowed(origin, referer, DOMAINS) is ok


def test_no_domains_allows_nothing() -> None:
    assert origin_allowed("https://blog.example.org", None, []) is False
