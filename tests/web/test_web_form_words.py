"""Form errors speak the page's language and say what to type (issue 15): the brand console's
campaign and shop forms answered French pages with pydantic's English ("String should have at
least 1 character", "Value error, ends_at: must be after starts_at") and raw field names; a
French amount ("2,50", "1 000,50") was refused; a form with control characters got a JSON
problem instead of a page."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_core import api_keys
from wefirst.store.tables_widget import publisher_campaigns
from wefirst.voice import alert_rules
from wefirst.web.i18n import Translator

from factories import auth, make_beneficiary, make_brand, signup_publisher
from web.web_helpers import (
    campaign_form,
    csrf_of,
    new_user_signed_in,
    rival_console,
    seed_story,
    seed_voice,
    text_of,
    with_pages,
)

ENGLISH_LEAKS = re.compile(
    r"String should|Input should|Value error|should be|must be|not a whole number|decimals than|"
    r"\b(?:starts_at|ends_at|cap_total_units|cap_units_per_day|impact_unit|guaranteed_minimum)\b"
)


class InFrench(NamedTuple):
    """A browser on French pages, holding its session's CSRF token: every form of this file is
    sent through `post`."""

    web: TestClient
    token: str

    def post(self, action: str, data: dict[str, str], follow_redirects: bool = True) -> httpx.Response:
        form = {"csrf_token": self.token, **data}
        sent: httpx.Response = self.web.post(
            f"{action}?lang=fr", data=form, follow_redirects=follow_redirects
        )
        return sent


def in_french(web: TestClient, page: str) -> InFrench:
    """Open `page` in French and keep the CSRF token its forms carry."""
    return InFrench(web, csrf_of(web.get(f"{page}{'&' if '?' in page else '?'}lang=fr").text))


def signed_in_french(app: FastAPI, db: Database, role: str, owner: str, page: str) -> InFrench:
    """A user of `owner`'s team (role brand, beneficiary or publisher) signed in, on `page`."""
    return in_french(new_user_signed_in(app, db, f"{role}@team.example", role, owner), page)


class Console(NamedTuple):
    fr: InFrench  # signed in as the brand's team, on its French console
    form: dict[str, str]  # a campaign form that saves
    key: str  # the brand's API key, to read back what was saved


def words(page: str) -> str:
    return html.unescape(text_of(page))


@pytest.fixture
def console(app: FastAPI, client: TestClient, db: Database, admin_key: str) -> Console:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    fr = signed_in_french(app, db, "brand", brand.id, "/console/brand")
    form = campaign_form(
        fr.token, ben.id, name="De l'eau pour des clics", cost_source="Budget 2026 de l'association"
    )
    return Console(fr, form, brand.key)


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"name": ""}, "name", "Tapez le nom de la campagne, de 1 à 200 caractères."),
        (
            {"cost": "0,251"},
            "cost",
            "Tapez le coût d'une unité d'impact dans la devise de la campagne, p. ex. 2,50",
        ),
        ({"starts": ""}, "starts", "Tapez la date de début au format AAAA-MM-JJ"),
        ({"ends": "2025-01-01"}, "ends", "Tapez une date de fin après le début"),
        ({"cap_total_units": "beaucoup"}, "cap_total_units", "Tapez un nombre entier d'unités d'impact"),
        ({"rule_value_1": "x"}, "rule_kind_1", "Chaque règle a un type et une valeur"),
        (
            {"guaranteed_minimum": "-3"},
            "guaranteed_minimum",
            "Tapez un montant dans la devise de la campagne",
        ),
        ({"cost_date": "hier"}, "cost_date", "Tapez la date de ce coût au format AAAA-MM-JJ"),
    ],
)
def test_campaign_form_errors_are_french_on_a_french_page(
    console: Console, change: dict[str, str], field: str, expected: str
) -> None:
    fr, form, _ = console
    r = fr.post("/console/brand/campaigns", {**form, **change})
    assert r.status_code == 422
    shown = words(r.text)
    assert expected in shown
    assert "Rien n'a été modifié." in shown
    assert not ENGLISH_LEAKS.search(shown), ENGLISH_LEAKS.search(shown)
    assert re.search(
        rf'name="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*name="{field}"', r.text
    ) or (field.startswith("rule"))


def test_french_amounts_are_read_as_typed(console: Console, client: TestClient) -> None:
    fr, form, key = console
    change = {"cost": "2,50", "guaranteed_minimum": "1\u202f000,50"}
    r = fr.post("/console/brand/campaigns", {**form, **change}, follow_redirects=False)
    assert r.status_code == 303, words(r.text)[-600:]
    [made] = client.get("/v1/campaigns", headers=auth(key)).json()["data"]
    assert made["impact_unit"]["cost_per_unit"]["amount"] == 250
    assert made["guaranteed_minimum"]["amount"] == 100050


def test_shop_form_errors_are_french(console: Console) -> None:
    r = console.fr.post(
        "/console/brand/connectors", {"platform": "shopify", "account": "pampy.myshopify.com", "secret": ""}
    )
    assert r.status_code == 422
    assert "Collez le secret de signature des webhooks" in words(r.text)
    assert "needs its webhook signing secret" not in words(r.text)


def test_control_characters_get_a_page_in_the_pages_language(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    fr = in_french(TestClient(with_pages(app)), f"/cases/new?brand={brand.id}")
    data = {
        "kind": "complaint",
        "brand_id": brand.id,
        "category": "environment",
        "title": "Des recharges\x01 promises",
        "what_happened": "Les stations de recharge promises ne sont jamais arrivées dans notre ville.",
        "language": "fr",
    }
    r = fr.post("/cases/new", data)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    assert "caractères de contrôle invisibles" in words(r.text)
    assert client.get("/v1/cases").json()["data"] == []


def test_french_scorecard_writes_sentiment_and_tooltips_in_french_typography(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, settings: Settings, tmp_path: Path
) -> None:
    """The voice table's daily sentiment was '%+.2f' ("+0.25") and the chart tooltips glued
    their colon ("3 mars 2026: 12") on French pages."""
    story = seed_story(client, db, admin_key)
    seed_voice(client, db, settings, story.brand, tmp_path)
    web = TestClient(with_pages(app))
    fr = web.get(f"/brands/{story.brand.id}?lang=fr").text
    table = fr[fr.index('aria-labelledby="voice-h"') :]
    table = table[: table.index("</table>")]
    cells = re.findall(r'<td class="num">([^<]*)</td></tr>', table)
    assert cells
    assert all(re.fullmatch(r"[+\-−]?\d,\d\d|—", c) for c in cells), cells
    tooltips = re.findall(r"<title>([^<]*\d{4}[^<]*)</title>", fr)
    assert tooltips
    assert all("\u00a0:" in t for t in tooltips), tooltips[:3]
    samples = re.findall(r"</blockquote> <small>([^<]*)</small>", fr)
    assert samples
    assert all(re.fullmatch(r"(1er|\d{1,2}) \w+ \d{4}", d) for d in samples), samples[:3]  # not 2026-12-03
    en = web.get(f"/brands/{story.brand.id}?lang=en").text
    assert re.search(r'<td class="num">[+-]\d\.\d\d</td></tr>', en)


def test_scores_are_signed_in_the_locales_digits() -> None:
    assert [Translator("fr").score(v) for v in (0.25, -0.14, 0.0, 0.004)] == [
        "+0,25",
        "-0,14",
        "0,00",
        "0,00",
    ]
    assert [Translator("en").score(v) for v in (0.25, -0.5)] == ["+0.25", "-0.50"]


def test_a_refused_console_action_says_so_in_french_without_ids(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    """The refusal page showed the domain's English detail, which names ids."""
    story = seed_story(client, db, admin_key)
    fr = in_french(rival_console(app, client, db, admin_key), "/console/brand")
    for r in (
        fr.web.get(f"/console/brand/campaigns/{story.campaign_id}?lang=fr"),
        fr.post(f"/console/brand/campaigns/{story.campaign_id}/status", {"status": "ended"}),
    ):
        assert r.status_code == 403
        shown = words(r.text)
        assert "Ce compte ne peut pas faire cela." in shown
        assert "cmp_" not in shown
        assert "brd_" not in shown


def test_the_delivery_form_asks_for_a_link_in_french_not_with_a_pattern(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    """The beneficiary's delivery form answered a bad evidence link with pydantic's pattern
    message (a regular expression) and a too-large delivery with an API field name."""
    story = seed_story(client, db, admin_key)
    fr = signed_in_french(app, db, "beneficiary", story.beneficiary.id, "/console/beneficiary")
    form = {
        "campaign_id": story.campaign_id,
        "units": "2",
        "period_start": "2026-04-01",
        "period_end": "2026-04-30",
        "evidence_url": "http://insecure.example/report",
    }
    for change, expected in (
        ({}, "Collez un lien vers la preuve, commençant par https://."),
        (
            {"units": "100000", "evidence_url": "https://vfa.example/r.pdf"},
            "dites plus bas qui les a financées",
        ),
    ):
        r = fr.post("/console/beneficiary/deliveries", {**form, **change})
        assert r.status_code == 422
        shown = words(r.text)
        assert expected in shown
        assert "https://\\S" not in shown
        assert "beyond_funded_reason" not in shown
        assert "String should" not in shown
    balance = client.get(f"/v1/campaigns/{story.campaign_id}/balance").json()
    assert balance["delivered"]["units"] == 6  # nothing was recorded


RAW = re.compile(r"\b(?:cmp|brd|pub|key|ben)_\w+|\b(?:publisher_id|campaign_id|endpoint_id|min_posts)\b")


def refused_in_french(r: httpx.Response, expected: str) -> str:
    """The page answers in French with the form's words, naming no field or id."""
    assert r.status_code in (404, 409, 422), r.status_code
    shown = words(r.text)
    assert expected in shown, shown[-800:]
    assert "Cette valeur n'est pas acceptée" not in shown
    assert not ENGLISH_LEAKS.search(shown), ENGLISH_LEAKS.search(shown)
    assert not RAW.search(shown), RAW.search(shown)
    return shown


def test_a_too_long_key_name_is_refused_in_french_and_makes_no_key(console: Console, db: Database) -> None:
    """A 201-character name went to PostgreSQL's String(200) and came back as a 500."""
    keys = count_keys(db)
    r = console.fr.post("/console/brand/keys", {"label": "k" * 201})
    refused_in_french(r, "Tapez un nom pour la clé, 200 caractères au plus")
    assert "sk_" not in r.text
    assert count_keys(db) == keys


def count_keys(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(api_keys)).scalar_one())


def test_an_unknown_campaign_status_is_refused_in_french(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    story = seed_story(client, db, admin_key)
    page = f"/console/brand/campaigns/{story.campaign_id}"
    fr = signed_in_french(app, db, "brand", story.brand.id, page)
    r = fr.post(f"{page}/status", {"status": "archived"})
    refused_in_french(r, "pour lancer, suspendre ou terminer la campagne.")
    got = client.get(f"/v1/campaigns/{story.campaign_id}", headers=auth(story.brand.key)).json()
    assert got["status"] == "active"


def test_approving_a_site_that_never_asked_is_refused_in_french(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    story = seed_story(client, db, admin_key)
    page = f"/console/brand/campaigns/{story.campaign_id}"
    fr = signed_in_french(app, db, "brand", story.brand.id, page)
    with db.read() as conn:
        before = conn.execute(select(publisher_campaigns)).all()
    r = fr.post(f"{page}/publishers", {"publisher_id": "pub_nobody", "approved": "1"})
    refused_in_french(r, "Choisissez un site dans la liste des sites qui ont demandé")
    with db.read() as conn:
        assert conn.execute(select(publisher_campaigns)).all() == before


def test_joining_a_campaign_without_clicks_is_refused_in_french(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    story = seed_story(client, db, admin_key)  # its campaign pays per purchase, not per click
    pub, _ = signup_publisher(client, "Le carnet", ["carnet.example"])
    fr = signed_in_french(app, db, "publisher", pub.id, "/console/publisher")
    r = fr.post("/console/publisher/campaigns", {"campaign_id": story.campaign_id})
    refused_in_french(r, "Impossible dans son état actuel ; rechargez la page")
    assert client.get(f"/v1/publishers/{pub.id}", headers=auth(pub.key)).json()["campaigns"] == []


@pytest.mark.parametrize(
    ("path", "data", "expected"),
    [
        ("endpoints", {"url": "http://alerts.example/hook"}, "ne peut pas recevoir les alertes"),
        ("competitors", {"names": "\n".join(f"Rival {i}" for i in range(11))}, "Au plus 10 concurrents"),
    ],
)
def test_voice_console_forms_are_refused_in_french(
    console: Console, path: str, data: dict[str, str], expected: str
) -> None:
    web = console.fr.web
    before = web.get("/console/brand/voice?lang=fr").text
    r = console.fr.post(f"/console/brand/voice/{path}", data)
    shown = refused_in_french(r, expected)
    assert "Rien n'a été modifié. " in shown  # the summary every console form gives (forms.error_messages)
    after = web.get("/console/brand/voice?lang=fr").text
    assert after.count("<li") == before.count("<li")  # nothing listed was added


def test_an_alert_rule_without_a_whole_number_is_refused_in_french(
    console: Console, client: TestClient, db: Database
) -> None:
    fr, _, key = console
    with db.read() as conn:
        owner: str = conn.execute(select(api_keys.c.owner_id).where(api_keys.c.role == "brand")).scalar_one()
    hook = client.post(
        f"/v1/brands/{owner}/voice/alert-endpoints",
        json={"url": "https://hooks.example/team"},
        headers={**auth(key), "Idempotency-Key": "h"},
    ).json()["id"]
    rule = {"polarity": "negative", "min_posts": "beaucoup", "endpoint_id": hook}
    r = fr.post("/console/brand/voice/alert-rules", rule)
    refused_in_french(r, "nombre entier de publications")
    with db.read() as conn:
        assert alert_rules.rules_of(conn, owner) == []


@pytest.mark.parametrize("note", ["", "n" * 1001])
def test_a_dispute_without_a_reason_is_refused_in_french(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, note: str
) -> None:
    story = seed_story(client, db, admin_key)
    fr = signed_in_french(app, db, "beneficiary", story.beneficiary.id, "/console/beneficiary")
    pending = story.settlement_ids[1]
    r = fr.post(f"/console/beneficiary/settlements/{pending}/dispute", {"note": note})
    refused_in_french(r, "Pour contester un paiement, dites en une phrase ce qui manque")
    assert "stl_" not in words(r.text)
    got = client.get(f"/v1/campaigns/{story.campaign_id}/settlements", headers=auth(story.beneficiary.key))
    assert {s["id"]: s["status"] for s in got.json()["data"]}[pending] == "reported"
