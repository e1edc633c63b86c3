"""The demo as a new user meets it: every sign-in it prints works."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from web.demo_site import DemoSite, demo_site
from web.web_helpers import csrf_of


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    with demo_site(tmp_path_factory.mktemp("demo")) as found:
        yield found


def signed_in(site: DemoSite, email: str) -> httpx.Client:
    web = httpx.Client(base_url=site.url, timeout=30)
    token = csrf_of(web.get("/signin").text)
    r = web.post("/signin", data={"email": email, "password": site.password(), "csrf_token": token})
    assert r.status_code == 303, r.text
    return web


@pytest.mark.parametrize(
    ("email", "console"),
    [
        ("brand@doudou.example", "/console/brand"),
        ("team@vwb.example", "/console/beneficiary"),
        ("blog@carnet.example", "/console/publisher"),
    ],
)
def test_every_sign_in_the_demo_prints_opens_its_console(site: DemoSite, email: str, console: str) -> None:
    web = signed_in(site, email)
    page = web.get("/console", follow_redirects=True)
    assert page.status_code == 200, page.text[-2000:]
    assert page.url.path == console
    web.close()


IDS = re.compile(r"\b(?:cmp|brd|ben|cas|pub|con|plg|stl|dlv|txn|ans|sup|rcpt)_[0-9A-Za-z_-]{6,}")
# snake_case codes are never words; in French pages, neither are these English code words
CODES = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
ENGLISH_CODES = re.compile(
    r"\b(?:paused|ended|draft|pledge|reported|confirmed|disputed|refund|cancel|complaint|praise|backlash"
    r"|answered|resolved|open|per_click|status)\b"
)


def visible_text(html: str) -> str:
    """What a person reads: no tags, attributes, scripts, code blocks or form values."""
    # what people wrote (a case's story, an answer) is theirs, in their language
    html = re.sub(r'<p class="story-text".*?</p>', " ", html, flags=re.S)
    for hidden in (
        r"<script.*?</script>",
        r"<style.*?</style>",
        r"<code.*?</code>",
        r"<textarea.*?</textarea>",
        r"<head>.*?</head>",
    ):
        html = re.sub(hidden, " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def demo_pages(site: DemoSite) -> list[str]:
    ids = site.ctx.ids
    pages = [
        "/",
        "/campaigns",
        "/brands",
        "/beneficiaries",
        "/cases",
        "/log",
        "/verify",
        "/data",
        "/cases/new",
    ]
    pages += [f"/campaigns/{ids[k]}" for k in ("vaccine", "water")]
    pages += [f"/brands/{ids[k]}" for k in ("brand1", "brand2")]
    pages += [f"/beneficiaries/{ids[k]}" for k in ("ngo1", "ngo2")]
    pages += [f"/cases/{ids[k]}" for k in ("case_gap", "case_praise", "case_unanswered")]
    return pages


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_people_never_see_ids_or_raw_codes(site: DemoSite, lang: str) -> None:
    """Every public page of the demo, in both languages: ids live only in addresses, and every
    state, kind and reason is said in words (the French pages in French)."""
    found: dict[str, list[str]] = {}
    with httpx.Client(base_url=site.url, timeout=30) as web:
        for path in demo_pages(site):
            r = web.get(path, params={"lang": lang})
            assert r.status_code == 200, (path, r.status_code)
            text = visible_text(r.text)
            hits = IDS.findall(text) + CODES.findall(text)
            if lang == "fr":
                hits += ENGLISH_CODES.findall(text)
            if hits:
                found[path] = sorted(set(hits))
    assert found == {}, found


CONSOLES = {
    "brand@doudou.example": ["/console/brand", "/console/brand/campaigns/{vaccine}"],
    "team@vwb.example": ["/console/beneficiary"],
    "blog@carnet.example": ["/console/publisher"],
}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_console_users_never_see_ids_or_raw_codes(site: DemoSite, lang: str) -> None:
    """The same scan as the public pages', on every console page of the demo's sign-ins: a
    brand team, a charity and a blogger read words, not codes (snippets and keys sit in
    <code>/<textarea>, which they copy, not read)."""
    found: dict[str, list[str]] = {}
    for email, paths in CONSOLES.items():
        web = signed_in(site, email)
        for path in paths:
            path = path.format(**site.ctx.ids)
            r = web.get(path, params={"lang": lang})
            assert r.status_code == 200, (path, r.status_code)
            text = visible_text(r.text)
            hits = IDS.findall(text) + CODES.findall(text)
            if lang == "fr":
                hits += ENGLISH_CODES.findall(text)
            if hits:
                found[path] = sorted(set(hits))
        web.close()
    assert found == {}, found


def test_the_demo_outbox_lets_a_co_sign_finish(site: DemoSite) -> None:
    """The demo's mails cannot reach anyone: its outbox page shows them, so the co-sign link
    can be followed and the signature counts."""
    case = site.ctx.ids["case_unanswered"]
    with httpx.Client(base_url=site.url, timeout=30) as web:
        before = web.get(f"/v1/cases/{case}").json()["cosigns"]
        token = csrf_of(web.get(f"/cases/{case}").text)
        r = web.post(f"/cases/{case}/cosign", data={"csrf_token": token, "email": "visitor@example.org"})
        assert r.status_code == 303, r.text
        outbox = web.get("/demo/outbox")
        assert outbox.status_code == 200
        link = re.search(r'href="' + re.escape(site.url) + r'(/v1/cosign-confirmations/[^"]+)"', outbox.text)
        assert link is not None, outbox.text[-2000:]
        assert web.post(link.group(1)).status_code == 200
        assert web.get(f"/v1/cases/{case}").json()["cosigns"] == before + 1


def test_the_outbox_is_off_unless_the_demo_turns_it_on(client: Any, app: Any) -> None:
    from fastapi.testclient import TestClient

    from web.web_helpers import with_pages

    assert TestClient(with_pages(app)).get("/demo/outbox").status_code == 404


def test_the_demo_prints_a_receipt_and_its_api_keys(site: DemoSite) -> None:
    """The demo printed no receipt and no brand key, so neither /verify nor the API could be
    tried by hand."""
    urls = site.ctx.urls
    assert urls["API key, Doudou Diapers"].startswith("sk_live_brand_")
    receipt = urls["A receipt"]
    assert receipt.startswith(f"{site.url}/receipts#rcpt_")  # the secret stays in the fragment
    commitment = hashlib.sha256(receipt.split("#", 1)[1].encode()).hexdigest()  # as the browser does
    with httpx.Client(timeout=30) as web:
        page = web.get(f"{site.url}/receipts/c/{commitment}")
        assert page.status_code in (200, 202)
        assert "Your purchase" in page.text  # funded … or refunded on …
        me = web.get(
            f"{site.url}/v1/brands/{site.ctx.ids['brand1']}/balance",
            headers={"Authorization": f"Bearer {urls['API key, Doudou Diapers']}"},
        )
        assert me.status_code == 200
