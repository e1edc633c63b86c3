"""The page framework without a browser: locale choice and formatting, the catalog against the
templates, signed sessions and CSRF tokens, security headers, static files, SVG charts."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from wefirst.web import charts
from wefirst.web.i18n import Translator, negotiate
from wefirst.web.security import CSRF_COOKIE, SessionCodec, WebSession

from web.web_helpers import pages_app


def parse_svg(svg: object) -> ET.Element:
    return ET.fromstring(str(svg))  # noqa: S314 - our own output, parsed to check it


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(pages_app(tmp_path))


@pytest.mark.parametrize(
    ("param", "cookie", "header", "expected"),
    [
        (None, None, None, "en"),
        (None, None, "fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        (None, None, "de-DE,en;q=0.5,fr;q=0.7", "fr"),
        (None, None, "de-DE", "en"),
        (None, None, "fr;q=0,en", "en"),
        (None, None, "fr;q=abc,en;q=0.1", "en"),
        (None, "fr", "en", "fr"),
        ("en", "fr", "fr", "en"),
        ("xx", None, "fr", "fr"),
    ],
)
def test_locale_negotiation(param: str | None, cookie: str | None, header: str | None, expected: str) -> None:
    assert negotiate(param, cookie, header) == expected


def test_numbers_money_and_dates_follow_the_locale() -> None:
    en, fr = Translator("en"), Translator("fr")
    assert en.money(123456, "EUR") == "€1,234.56"
    assert fr.money(123456, "EUR").replace("\u202f", " ").replace("\xa0", " ") == "1 234,56 €"
    assert en.money(1500, "JPY") == "¥1,500"
    assert fr.number(1234567).replace("\u202f", " ") == "1 234 567"
    assert en.percent(1, 3) == "33.3%"
    assert en.percent(1, 0) == "—"
    assert fr.date(date(2026, 11, 26)) == "26 novembre 2026"
    assert fr.date(date(2026, 12, 1)) == "1er décembre 2026"  # French ordinal
    assert fr.date(date(2026, 12, 11)) == "11 décembre 2026"
    assert en.date(date(2026, 11, 26)) == "Nov 26, 2026"


def test_sessions_are_signed_and_expire() -> None:
    codec = SessionCodec("secret-a")
    token = codec.dump_session(WebSession("usr_1", 3))
    assert codec.load_session(token) == WebSession("usr_1", 3)
    assert SessionCodec("secret-b").load_session(token) is None
    assert codec.load_session(token[:-2] + "xx") is None
    assert codec.load_session("") is None
    assert codec.load_session("garbage") is None


def test_magic_tokens_are_bound_to_their_purpose() -> None:
    codec = SessionCodec("secret-a")
    magic = codec.dump_magic("usr_1", "n1")
    assert codec.load_magic(magic, 600) == ("usr_1", "n1")
    # a magic-link token is not a session, and a session is not a magic link
    assert codec.load_session(magic) is None
    assert codec.load_magic(codec.dump_session(WebSession("usr_1", 0)), 600) is None


def test_pages_carry_security_headers_and_a_strict_csp(client: TestClient) -> None:
    response = client.get("/verify")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-language"] == "en"
    # no inline script or style anywhere in the page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.text)
    assert "style=" not in response.text
    assert "<style" not in response.text
    # the CSRF cookie is HttpOnly and SameSite=Lax; not Secure on plain http
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(CSRF_COOKIE + "=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie


def test_cookies_are_secure_over_https(tmp_path: Path) -> None:
    app = pages_app(tmp_path)
    response = TestClient(app, base_url="https://testserver").get("/verify")
    assert "Secure" in response.headers["set-cookie"]
    assert "max-age" in response.headers["strict-transport-security"]


def test_language_switch_sticks(client: TestClient) -> None:
    page = client.get("/verify?lang=fr")
    assert '<html lang="fr">' in page.text
    assert "Vérifier un reçu" in page.text
    assert page.cookies.get("wf_lang") == "fr"
    again = client.get("/verify")
    assert '<html lang="fr">' in again.text
    assert (
        client.get("/verify", headers={"Accept-Language": "en"}).headers["content-language"] == "fr"
    )  # the explicit choice wins over the browser's


def test_static_files_and_traversal(client: TestClient) -> None:
    js = client.get("/static/verifier.js")
    assert js.status_code == 200
    assert js.headers["content-type"].startswith("text/javascript")
    for bad in (
        "/static/../i18n.py",
        "/static/%2e%2e/i18n.py",
        "/static/nope.js",
        "/static/",
        "/static/../templates/base.html",
    ):
        assert client.get(bad).status_code == 404, bad


def test_receipt_page_for_unknown_secret(client: TestClient) -> None:
    response = client.get("/receipts/not-a-real-secret")
    assert response.status_code == 404
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "Unknown receipt" in response.text


def test_line_chart_is_valid_accessible_svg() -> None:
    svg = charts.line_chart(
        [
            charts.Series("Pledged <all>", [(date(2026, 1, 1), 100), (date(2026, 1, 5), 900)]),
            charts.Series("Paid", [(date(2026, 1, 3), 400)]),
        ],
        title="Pledged & paid",
        desc="Totals",
        fmt=lambda v: f"€{v}",
        fmt_day=str,
    )
    # the chart, then its key as HTML (which wraps and keeps the page's text size on phones)
    both = parse_svg(f"<div>{svg}</div>")
    ns = "{http://www.w3.org/2000/svg}"
    root = both.find(f"{ns}svg")
    assert root is not None
    assert root.get("role") == "img"
    assert root.find(f"{ns}title").text == "Pledged & paid"  # type: ignore[union-attr]
    legend = both.find("ul")
    assert legend is not None
    assert legend.get("class") == "legend"
    assert ["".join(li.itertext()).strip() for li in legend] == ["Pledged <all>", "Paid"]
    lines = root.findall(f"{ns}polyline")
    assert len(lines) == 2
    assert lines[0].get("stroke-dasharray") is None
    assert lines[1].get("stroke-dasharray")
    labels = [t.text for t in root.iter(f"{ns}text")]
    assert "€1000" in labels  # nice top of 900
    # cumulative steps: y never goes up (SVG y grows downwards) for a growing total
    ys = [float(p.split(",")[1]) for p in lines[0].get("points", "").split()]
    assert ys == sorted(ys, reverse=True)


def test_voice_chart_marks_episodes_and_negative_days() -> None:
    bars = [charts.DayBar(date(2026, 1, d), d * 10, 0.3 if d < 4 else -0.6) for d in range(1, 8)]
    svg = charts.voice_chart(
        bars,
        [charts.Episode(date(2026, 1, 4), date(2026, 1, 6), "Backlash", "backlash")],
        title="Voice",
        desc="Posts per day",
        fmt_day=str,
    )
    root = parse_svg(svg)
    ns = "{http://www.w3.org/2000/svg}"
    rects = root.findall(f"{ns}rect")
    episode = [r for r in rects if "episode" in (r.get("class") or "")]
    bar_rects = [r for r in rects if r.get("class") == "bar"]
    assert len(episode) == 1
    assert len(bar_rects) == 7
    assert sum(1 for r in bar_rects if "hatch" in (r.get("fill") or "")) == 4


def test_empty_charts_are_still_valid_svg() -> None:
    for svg in (
        charts.line_chart([], title="t", desc="d", fmt=str, fmt_day=str),
        charts.voice_chart([], [], title="t", desc="d", fmt_day=str),
    ):
        assert parse_svg(svg).tag.endswith("svg")


@pytest.mark.parametrize(
    ("value", "top"), [(0, 1), (1, 1), (7, 10), (11, 20), (21, 25), (26, 50), (51, 100), (120000, 200000)]
)
def test_nice_top(value: int, top: int) -> None:
    assert charts.nice_top(value) == top


def test_receipt_page_while_the_entry_awaits_the_log(tmp_path: Path) -> None:
    app = pages_app(tmp_path, receipt=lambda commitment: {"status": "pending", "commitment": commitment})
    page = TestClient(app).get("/receipts/some-secret")
    assert page.status_code == 202
    assert "not yet in the log" in page.text
    assert "data-secret" not in page.text  # nothing to verify yet


def test_chart_tables_fold_long_series_into_month_ends() -> None:
    from datetime import timedelta

    from wefirst.web.queries import SeriesPoint, month_ends

    short = [SeriesPoint(date(2026, 3, 1) + timedelta(days=i), i, 0, 0, 0) for i in range(20)]
    assert month_ends(short) == short
    long = [SeriesPoint(date(2026, 3, 1) + timedelta(days=i), i, 0, 0, 0) for i in range(70)]
    rows = month_ends(long)
    assert [p.day for p in rows] == [date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 9)]
    assert rows[-1].pledged == 69  # the latest total is always there
