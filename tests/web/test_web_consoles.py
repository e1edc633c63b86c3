"""Sign-in and the consoles over HTTP: sessions, CSRF, tenant walls, and the forms reaching
the ledger and catalog exactly as the API does."""

from __future__ import annotations

import html
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.mail import MemoryMailer
from wefirst.services import replace, services_of
from wefirst.store.db import Database
from wefirst.web import sessions

from factories import auth, make_beneficiary, make_brand
from web.web_helpers import (
    PASSWORD,
    add_user,
    campaign_form,
    csrf_of,
    new_user_signed_in,
    rival_console,
    seed_story,
    signed_in,
    text_of,
    with_pages,
)


def test_password_sign_in_and_wrong_password(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    add_user(db, "Team@Pampy.example", "brand", brand.id)
    web = TestClient(with_pages(app))
    token = csrf_of(web.get("/signin").text)
    bad = web.post(
        "/signin", data={"email": "team@pampy.example", "password": "nope" * 4, "csrf_token": token}
    )
    assert bad.status_code == 401
    assert "Wrong email or password." in bad.text
    unknown = web.post("/signin", data={"email": "who@x.example", "password": PASSWORD, "csrf_token": token})
    assert unknown.status_code == 401
    web = signed_in(app, "team@pampy.example")
    console = web.get("/console/brand")
    assert console.status_code == 200
    assert "Brand console — Pampy" in text_of(console.text)


def test_forms_without_a_valid_csrf_token_are_refused(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    add_user(db, "team@pampy.example", "brand", brand.id)
    web = TestClient(with_pages(app))
    web.get("/signin")
    for token in ("", "forged", csrf_of(TestClient(with_pages(app)).get("/signin").text)):
        r = web.post(
            "/signin",
            data={"email": "team@pampy.example", "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert r.status_code == 403, token  # another browser's token does not fit this cookie
    # a signed-in session does not make a token-less POST acceptable either
    web = TestClient(with_pages(app))
    before = csrf_of(web.get("/signin").text)
    r = web.post(
        "/signin",
        data={"email": "team@pampy.example", "password": PASSWORD, "csrf_token": before},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = web.post("/console/brand/keys", data={"label": "x"})
    assert r.status_code == 403
    # nor one issued before signing in: tokens are bound to the session
    r = web.post("/console/brand/keys", data={"label": "x", "csrf_token": before})
    assert r.status_code == 403
    r = web.post(
        "/console/brand/keys", data={"label": "x", "csrf_token": csrf_of(web.get("/console/brand").text)}
    )
    assert r.status_code == 200


def test_consoles_need_a_session_and_the_right_role(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    anonymous = TestClient(with_pages(app))
    for path in ("/console", "/console/brand", "/console/beneficiary", "/console/publisher"):
        r = anonymous.get(path, follow_redirects=False)
        assert (r.status_code, r.headers.get("location")) == (303, "/signin"), path
    ben = make_beneficiary(client, db, admin_key)
    web = new_user_signed_in(app, db, "ngo@vfa.example", "beneficiary", ben.id)
    assert web.get("/console", follow_redirects=False).headers["location"] == "/console/beneficiary"
    assert web.get("/console/brand").status_code == 403


def test_brand_creates_and_edits_a_campaign(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    web = new_user_signed_in(app, db, "team@pampy.example", "brand", brand.id)
    page = web.get("/console/brand")
    form = campaign_form(
        csrf_of(page.text),
        ben.id,
        rule_kind_2="percent_of_sale",
        rule_value_2="2.5",
        skus_2="",
        cap_total_units="1000",
        guaranteed_minimum="500",
    )
    bad = web.post("/console/brand/campaigns", data={**form, "cost": "0.251"})
    assert bad.status_code == 422
    assert "Type the cost of one impact unit in the campaign's currency, e.g. 2.50" in html.unescape(bad.text)
    assert 'id="c-cost-err"' in bad.text  # the message sits by the cost field
    # the preview, without scripts (a submit button) and for the script (a fragment): the
    # sentences the campaign page will show, and nothing is created
    shown = web.post("/console/brand/campaigns", data={**form, "action": "preview"})
    assert shown.status_code == 200
    fragment = web.post("/console/brand/campaigns/preview", data=form)
    assert fragment.status_code == 200
    for page_html in (shown.text, fragment.text):
        words = text_of(page_html)
        assert "2.5% of the price" in words or "2.5 % of the price" in words, words[-1500:]
        assert "1 jour d'eau" in html.unescape(words)
    half = web.post("/console/brand/campaigns/preview", data={**form, "starts": ""})
    assert half.status_code == 200
    assert "Starts" in text_of(half.text)
    assert "starts_at" not in half.text
    listed = client.get("/v1/campaigns", headers=auth(brand.key)).json()["data"]
    assert listed == []
    created = web.post("/console/brand/campaigns", data=form, follow_redirects=False)
    assert created.status_code == 303, created.text
    cid = re.search(r"/console/brand/campaigns/(cmp_\w+)", created.headers["location"])
    assert cid
    api = client.get(f"/v1/campaigns/{cid.group(1)}", headers=auth(brand.key)).json()
    assert api["name"] == "Water for clicks"
    assert api["impact_unit"]["cost_per_unit"] == {"amount": 25, "currency": "EUR"}
    assert api["caps"]["total_units"] == 1000
    assert api["status"] == "active"
    assert api["rules"] == [
        {"kind": "per_click", "units_per_click": 1},
        # the form offers no price basis: the default, which the disclosure states
        {"kind": "percent_of_sale", "basis_points": 250, "sku_patterns": ["*"], "price_basis": "as_reported"},
    ]
    assert api["guaranteed_minimum"] == {"amount": 50000, "currency": "EUR"}

    edit_page = web.get(created.headers["location"])
    assert "Saved." in edit_page.text
    r = web.post(
        f"/console/brand/campaigns/{cid.group(1)}",
        data={
            "csrf_token": csrf_of(edit_page.text),
            "name": "Water for every click",
            "cap_total_units": "2000",
            "rule_kind_1": "per_click",
            "rule_value_1": "2",
            "rule_kind_2": "",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = web.post(
        f"/console/brand/campaigns/{cid.group(1)}/status",
        data={"csrf_token": csrf_of(edit_page.text), "status": "paused"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    # ending cannot be undone: the first post only asks, and changes nothing
    ask = web.post(
        f"/console/brand/campaigns/{cid.group(1)}/status",
        data={"csrf_token": csrf_of(edit_page.text), "status": "ended"},
        follow_redirects=False,
    )
    assert ask.status_code == 200
    assert "End this campaign?" in ask.text
    assert 'name="confirmed" value="yes"' in ask.text
    api = client.get(f"/v1/campaigns/{cid.group(1)}", headers=auth(brand.key)).json()
    assert (api["name"], api["caps"]["total_units"], api["status"], api["version"]) == (
        "Water for every click",
        2000,
        "paused",
        3,
    )
    assert api["rules"] == [{"kind": "per_click", "units_per_click": 2}]
    assert "2 days of water" in api["disclosure"]["en"]


def test_brand_edits_caps_with_the_same_reading_as_a_new_campaign(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    """The edit form reads caps as the create form does (web.campaign_form.cap_body): blank is
    no change, a number is the cap, anything else is a 422 naming the field and changes nothing."""
    story = seed_story(client, db, admin_key)
    web = new_user_signed_in(app, db, "team@pampy.example", "brand", story.brand.id)
    page = f"/console/brand/campaigns/{story.campaign_id}"
    token = csrf_of(web.get(page).text)
    before = client.get(f"/v1/campaigns/{story.campaign_id}", headers=auth(story.brand.key)).json()
    bad = web.post(page, data={"csrf_token": token, "cap_units_per_day": "lots"})
    assert bad.status_code == 422
    words = html.unescape(text_of(bad.text))
    assert "Type a whole number of impact units, or leave it blank for no cap." in words
    assert "cap_units_per_day" not in words  # the form's words, never its field names
    same = client.get(f"/v1/campaigns/{story.campaign_id}", headers=auth(story.brand.key)).json()
    assert (same["caps"], same["version"]) == (before["caps"], before["version"])
    ok = web.post(
        page,
        data={"csrf_token": token, "cap_units_per_day": "40", "cap_total_units": ""},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    after = client.get(f"/v1/campaigns/{story.campaign_id}", headers=auth(story.brand.key)).json()
    assert after["caps"]["units_per_day"] == 40
    assert after["caps"].get("total_units") == before["caps"].get("total_units")


def test_brand_cannot_touch_another_brands_campaign(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    story = seed_story(client, db, admin_key)
    web = rival_console(app, client, db, admin_key)
    token = csrf_of(web.get("/console/brand").text)
    # the campaign is public, so the wall answers 403 (as the API does), not 404
    assert web.get(f"/console/brand/campaigns/{story.campaign_id}").status_code == 403
    r = web.post(
        f"/console/brand/campaigns/{story.campaign_id}/status", data={"csrf_token": token, "status": "ended"}
    )
    assert r.status_code == 403
    api = client.get(f"/v1/campaigns/{story.campaign_id}", headers=auth(story.brand.key))
    assert api.json()["status"] == "active"


def test_api_keys_are_shown_once_and_revocable(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    web = new_user_signed_in(app, db, "team@pampy.example", "brand", brand.id)
    page = web.post(
        "/console/brand/keys", data={"csrf_token": csrf_of(web.get("/console/brand").text), "label": "shop"}
    )
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    secret = re.search(r'<code id="new-key">(sk_live_brand_[\w-]+)</code>', page.text)
    assert secret
    assert client.get("/v1/brands/" + brand.id, headers=auth(secret.group(1))).status_code == 200
    again = web.get("/console/brand").text
    assert secret.group(1) not in again
    key_id = re.search(r"<td>shop</td>.*?/console/brand/keys/(key_\w+)/revoke", again, re.S)
    assert key_id
    revoke = f"/console/brand/keys/{key_id.group(1)}/revoke"
    ask = web.post(revoke, data={"csrf_token": csrf_of(again)})
    assert ask.status_code == 200
    assert "Revoke this key?" in ask.text
    assert client.get("/v1/brands/" + brand.id, headers=auth(secret.group(1))).status_code == 200
    web.post(revoke, data={"csrf_token": csrf_of(ask.text), "confirmed": "yes"})
    assert client.get("/v1/brands/" + brand.id, headers=auth(secret.group(1))).status_code == 401


def test_beneficiary_confirms_disputes_and_reports(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    story = seed_story(client, db, admin_key)
    web = new_user_signed_in(app, db, "ngo@vfa.example", "beneficiary", story.beneficiary.id)
    page = web.get("/console/beneficiary")
    assert f'id="stl-{story.settlement_ids[1]}"' in page.text  # the one still awaiting
    assert f'id="stl-{story.settlement_ids[0]}"' not in page.text  # already confirmed
    token = csrf_of(page.text)
    r = web.post(
        f"/console/beneficiary/settlements/{story.settlement_ids[1]}/dispute",
        data={"csrf_token": token, "note": "not on our statement"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    api = client.get(f"/v1/settlements/{story.settlement_ids[1]}").json()
    assert (api["status"], api["decision_note"]) == ("disputed", "not on our statement")
    # deciding twice is refused and changes nothing
    again = web.post(
        f"/console/beneficiary/settlements/{story.settlement_ids[1]}/confirm", data={"csrf_token": token}
    )
    assert again.status_code == 409
    bad = web.post(
        "/console/beneficiary/deliveries",
        data={
            "csrf_token": token,
            "campaign_id": story.campaign_id,
            "units": "2",
            "period_start": "2026-04-01",
            "period_end": "2026-04-30",
            "evidence_url": "http://insecure.example/report",
        },
    )
    assert bad.status_code == 422
    ok = web.post(
        "/console/beneficiary/deliveries",
        data={
            "csrf_token": token,
            "campaign_id": story.campaign_id,
            "units": "2",
            "period_start": "2026-04-01",
            "period_end": "2026-04-30",
            "evidence_url": "https://vfa.example/april.pdf",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    balance = client.get(f"/v1/campaigns/{story.campaign_id}/balance").json()
    assert balance["delivered"]["units"] == 8
    assert balance["paid_disputed"]["amount"] == 90


def test_other_beneficiary_cannot_decide(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    story = seed_story(client, db, admin_key)
    other = make_beneficiary(client, db, admin_key, name="Other NGO")
    web = new_user_signed_in(app, db, "other@ngo.example", "beneficiary", other.id)
    token = csrf_of(web.get("/console/beneficiary").text)
    r = web.post(
        f"/console/beneficiary/settlements/{story.settlement_ids[1]}/confirm", data={"csrf_token": token}
    )
    assert r.status_code == 403
    assert client.get(f"/v1/settlements/{story.settlement_ids[1]}").json()["status"] == "reported"


def test_console_posts_check_the_token_before_the_action_and_change_nothing(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    """Every console form goes through one door (web.console.console_post): the CSRF token is
    checked first, an unknown action is a 404 page, and neither touches the settlement."""
    story = seed_story(client, db, admin_key)
    web = new_user_signed_in(app, db, "ngo@vfa.example", "beneficiary", story.beneficiary.id)
    token = csrf_of(web.get("/console/beneficiary").text)
    settlement = story.settlement_ids[1]
    no_token = web.post(f"/console/beneficiary/settlements/{settlement}/confirm", data={})
    assert no_token.status_code == 403
    unknown_without_token = web.post(f"/console/beneficiary/settlements/{settlement}/approve", data={})
    assert unknown_without_token.status_code == 403  # the token is checked before the action
    unknown = web.post(f"/console/beneficiary/settlements/{settlement}/approve", data={"csrf_token": token})
    assert unknown.status_code == 404
    assert "Nothing here: it does not exist" in text_of(unknown.text)
    assert client.get(f"/v1/settlements/{settlement}").json()["status"] == "reported"


def test_magic_link_signs_in_once(app: FastAPI, client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    add_user(db, "team@pampy.example", "brand", brand.id, password=None)
    mailer = MemoryMailer()
    replace(app, mailer=mailer)
    web = TestClient(with_pages(app))
    token = csrf_of(web.get("/signin").text)
    for email in ("team@pampy.example", "nobody@else.example"):
        r = web.post("/signin/link", data={"email": email, "csrf_token": token})
        assert r.status_code == 200
        assert "If this address has an account" in r.text
    assert len(mailer.sent) == 1
    assert mailer.sent[0]["To"] == "team@pampy.example"
    link = re.search(r"http://testserver(/signin/link/\S+)", mailer.sent[0].get_content())
    assert link
    landing = web.get(link.group(1))
    assert landing.headers["referrer-policy"] == "no-referrer"
    r = web.post(link.group(1), data={"csrf_token": csrf_of(landing.text)}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/console")
    assert web.get("/console/brand").status_code == 200
    second = TestClient(with_pages(app))
    landing = second.get(link.group(1))
    r = second.post(link.group(1), data={"csrf_token": csrf_of(landing.text)})
    assert r.status_code == 400
    assert "invalid or has expired" in r.text
    # a password-less account cannot be entered with any password
    r = second.post(
        "/signin", data={"email": "team@pampy.example", "password": "", "csrf_token": csrf_of(landing.text)}
    )
    assert r.status_code == 401


def test_sign_out_ends_the_session_everywhere(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    web = new_user_signed_in(app, db, "team@pampy.example", "brand", brand.id)
    stolen = web.cookies.get("wf_session")
    page = web.get("/console/brand")
    r = web.post("/signout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    replay = TestClient(with_pages(app), cookies={"wf_session": stolen})
    assert replay.get("/console/brand", follow_redirects=False).status_code == 303


def test_failed_sign_ins_are_throttled(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    services_of(app).settings.web_signin_attempts_per_hour = 3
    brand = make_brand(client, db, admin_key)
    add_user(db, "team@pampy.example", "brand", brand.id)
    web = TestClient(with_pages(app))
    token = csrf_of(web.get("/signin").text)
    codes = [
        web.post(
            "/signin", data={"email": "team@pampy.example", "password": "wrong" * 3, "csrf_token": token}
        ).status_code
        for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    # even the right password waits now
    right = web.post(
        "/signin",
        data={"email": "team@pampy.example", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert right.status_code == 429


@pytest.mark.parametrize(
    ("email", "role", "owner", "password"),
    [
        ("not-an-email", "brand", "brd_x", PASSWORD),
        ("a@b.example", "wizard", "brd_x", PASSWORD),
        ("a@b.example", "brand", None, PASSWORD),
        ("a@b.example", "admin", "brd_x", PASSWORD),
        ("a@b.example", "brand", "brd_x", "short"),
    ],
)
def test_bad_console_users_are_refused(
    db: Database, email: str, role: str, owner: str | None, password: str
) -> None:
    from wefirst.errors import Invalid

    with pytest.raises(Invalid), db.write() as conn:
        sessions.create_user(conn, email, role, owner, password)


def test_emails_are_unique_case_insensitively(db: Database) -> None:
    from wefirst.errors import Conflict

    add_user(db, "Team@Pampy.example", "admin", None)
    with pytest.raises(Conflict):
        add_user(db, "team@pampy.EXAMPLE", "admin", None)


def test_brand_connects_a_shop_and_rotates_its_secret(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    web = new_user_signed_in(app, db, "team@pampy.example", "brand", brand.id)
    token = csrf_of(web.get("/console/brand").text)
    missing = web.post(
        "/console/brand/connectors",
        data={"csrf_token": token, "platform": "shopify", "account": "pampy.myshopify.com", "secret": ""},
    )
    assert missing.status_code == 422
    assert "webhook signing secret" in missing.text
    r = web.post(
        "/console/brand/connectors",
        data={
            "csrf_token": token,
            "platform": "shopify",
            "account": "pampy.myshopify.com",
            "secret": "first-secret",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    [conn] = client.get("/v1/connectors", headers=auth(brand.key)).json()["data"]
    assert conn["account"] == "pampy.myshopify.com"
    page = web.get("/console/brand").text
    assert conn["webhook_url"] in page
    assert "first-secret" not in page
    web.post(
        f"/console/brand/connectors/{conn['id']}/secrets",
        data={"csrf_token": token, "secret": "second-secret"},
    )
    old = conn["secrets"][0]["id"]
    web.post(f"/console/brand/connectors/{conn['id']}/secrets/{old}/retire", data={"csrf_token": token})
    after = client.get(f"/v1/connectors/{conn['id']}", headers=auth(brand.key)).json()
    assert [s["active"] for s in after["secrets"]] == [False, True]
    statuses = re.findall(r"<td>(en service|retiré)</td>", web.get("/console/brand?lang=fr").text)
    assert sorted(statuses) == ["en service", "retiré"]  # a secret is masculine: never "active"
    # another brand's console cannot touch this connection
    other = rival_console(app, client, db, admin_key)
    r = other.post(
        f"/console/brand/connectors/{conn['id']}/secrets",
        data={"csrf_token": csrf_of(other.get("/console/brand").text), "secret": "hijack"},
    )
    assert r.status_code == 404


def test_admin_acts_for_the_brand_named_in_the_address(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    web = new_user_signed_in(app, db, "ops@wefirst.example", "admin", None)
    assert web.get("/console/brand").status_code == 422  # which brand?
    page = web.get(f"/console/brand?brand={brand.id}")
    assert page.status_code == 200
    assert f'action="/console/brand/keys?brand={brand.id}"' in page.text
    r = web.post(
        f"/console/brand/keys?brand={brand.id}", data={"csrf_token": csrf_of(page.text), "label": "ops"}
    )
    assert r.status_code == 200
    assert re.search(r'<code id="new-key">sk_live_brand_', r.text)


@pytest.mark.parametrize(
    ("platform", "account", "secret", "address"),
    [
        ("shopify", "pampy.myshopify.com", "s1", "/shopify"),
        ("woocommerce", "https://shop.pampy.example/", "s2", "/woocommerce"),
        ("stripe", "acct_pampy", "s3", "/stripe"),
        ("retail", "pampy-retail-01", "", "/sales-reports"),
    ],
)
def test_brand_console_shows_every_kind_of_connection(
    app: FastAPI,
    client: TestClient,
    db: Database,
    admin_key: str,
    platform: str,
    account: str,
    secret: str,
    address: str,
) -> None:
    """The demo's first sign-in was a 500: the page read a webhook address on a retailer
    connection, which has a sales-report address instead."""
    brand = make_brand(client, db, admin_key)
    web = new_user_signed_in(app, db, "team@pampy.example", "brand", brand.id)
    token = csrf_of(web.get("/console/brand").text)
    r = web.post(
        "/console/brand/connectors",
        data={"csrf_token": token, "platform": platform, "account": account, "secret": secret},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = web.get("/console/brand")
    assert page.status_code == 200, page.text
    [conn] = client.get("/v1/connectors", headers=auth(brand.key)).json()["data"]
    url = conn.get("webhook_url") or conn["sales_report_url"]
    assert url.endswith(f"/v1/connectors/{conn['id']}{address}")
    assert url in page.text
