"""Publishers over the API: sign-up, domains, joining, the snippet, per-day figures behind the
tenant wall."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from wefirst.services import replace
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_widget import publishers

from factories import auth, signup_publisher
from widget.widget_helpers import DAY_MS, World, visitor_of


def test_signup_returns_a_publisher_key_once(world: World) -> None:
    _, body = signup_publisher(
        world.client, "Mon blog", ["https://Mon-Blog.example/", "*.mon-blog.example", "mon-blog.example"]
    )
    assert body["id"].startswith("pub_")
    assert body["domains"] == ["mon-blog.example", "*.mon-blog.example"]
    assert body["campaigns"] == []
    assert body["api_key"]["role"] == "publisher"
    assert body["api_key"]["secret"].startswith("sk_live_publisher_")
    me = world.client.get(f"/v1/publishers/{body['id']}", headers=auth(body["api_key"]["secret"]))
    assert me.status_code == 200
    assert "api_key" not in me.json()


@pytest.mark.parametrize(
    ("domains", "field"),
    [
        ([], "domains"),
        (["not a domain"], "domains[0]"),
        (["ok.example", "ftp://x.example"], "domains[1]"),
        (["*.com"], "domains[0]"),
    ],
)
def test_signup_refuses_bad_domains(world: World, domains: list[str], field: str) -> None:
    r = world.client.post("/v1/publishers", json={"name": "X", "domains": domains, "email": "x@example.org"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]]


def test_signup_can_be_closed(app: FastAPI, settings: Settings, admin_key: str) -> None:
    replace(app, settings=settings.model_copy(update={"widget_open_publisher_signup": False}))
    with TestClient(app) as client:
        body = {"name": "X", "domains": ["x.example"]}
        assert client.post("/v1/publishers", json={**body, "email": "x@example.org"}).status_code == 403
        assert client.post("/v1/publishers", json=body, headers=auth(admin_key)).status_code == 201


def test_join_rules(world: World) -> None:
    key = auth(world.publisher_key)
    url = f"/v1/publishers/{world.publisher_id}/campaigns"
    again = world.client.post(url, json={"campaign_id": world.campaign_id}, headers=key)
    assert again.status_code == 200
    assert again.json()["campaigns"] == [world.campaign_id]
    ben = world.extra["beneficiary_id"]
    from factories import campaign_body

    no_click = world.client.post(
        "/v1/campaigns", json=campaign_body(ben), headers=auth(world.brand.key)
    ).json()["id"]
    r = world.client.post(url, json={"campaign_id": no_click}, headers=key)
    assert r.status_code == 409
    assert "per-click" in r.json()["detail"]
    r = world.client.post(url, json={"campaign_id": "cmp_" + "0" * 26}, headers=key)
    assert r.status_code == 404
    gone = world.client.delete(f"{url}/{world.campaign_id}", headers=key)
    assert gone.json()["campaigns"] == []
    assert world.client.delete(f"{url}/{world.campaign_id}", headers=key).status_code == 404
    # Having left, the widget is refused on the publisher's own site.
    assert world.state(visitor_of("a")).json()["decision"] == "bad_origin"


def test_snippet(world: World) -> None:
    r = world.client.get(
        f"/v1/publishers/{world.publisher_id}/snippet",
        params={"campaign_id": world.campaign_id, "lang": "fr"},
        headers=auth(world.publisher_key),
    )
    assert r.status_code == 200, r.text
    assert r.json()["html"] == (
        '<script src="http://testserver/static/widget.js" '
        f'data-campaign="{world.campaign_id}" data-publisher="{world.publisher_id}" '
        'data-lang="fr" async></script>'
    )
    other = world.client.get(
        f"/v1/publishers/{world.publisher_id}/snippet",
        params={"campaign_id": "cmp_" + "1" * 26},
        headers=auth(world.publisher_key),
    )
    assert other.status_code == 409


def test_widget_js_is_served(world: World) -> None:
    r = world.client.get("/static/widget.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert "cross-origin-resource-policy" not in r.headers


def test_stats_per_day_for_the_own_site_only(world: World) -> None:
    world.click(visitor_of("a"))
    world.click(visitor_of("b"))
    world.click(visitor_of("b"))  # duplicate: not in the figures
    world.clock.advance(DAY_MS)
    world.click(visitor_of("a"))
    key = auth(world.publisher_key)
    r = world.client.get(
        f"/v1/publishers/{world.publisher_id}/stats",
        params={"from": "2026-11-01", "to": "2026-11-30"},
        headers=key,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["data"] == [
        {"day": "2026-11-18", "campaign_id": world.campaign_id, "clicks": 2, "units": 2},
        {"day": "2026-11-19", "campaign_id": world.campaign_id, "clicks": 1, "units": 1},
    ]
    assert body["totals"] == {"clicks": 3, "units": 3}

    other_key = auth(signup_publisher(world.client, "O", ["o.example"], "o@example.org")[0].key)
    for path in ("", "/stats", f"/snippet?campaign_id={world.campaign_id}"):
        r = world.client.get(f"/v1/publishers/{world.publisher_id}{path}", headers=other_key)
        assert r.status_code == 404, path
    r = world.client.patch(f"/v1/publishers/{world.publisher_id}", json={"name": "pwned"}, headers=other_key)
    assert r.status_code == 404
    r = world.client.get(f"/v1/publishers/{world.publisher_id}/stats", headers=auth(world.brand.key))
    assert r.status_code == 403
    bad = world.client.get(
        f"/v1/publishers/{world.publisher_id}/stats",
        params={"from": "2026-11-30", "to": "2026-11-01"},
        headers=key,
    )
    assert bad.status_code == 422


def test_patch_domains(world: World) -> None:
    key = auth(world.publisher_key)
    url = f"/v1/publishers/{world.publisher_id}"
    r = world.client.patch(url, json={"domains": ["nouveau-carnet.fr"]}, headers=key)
    assert r.status_code == 200
    assert r.json()["domains"] == ["nouveau-carnet.fr"]
    assert world.state(visitor_of("a")).json()["decision"] == "bad_origin"
    assert world.state(visitor_of("a"), origin="https://nouveau-carnet.fr").status_code == 200
    assert world.client.patch(url, json={}, headers=key).status_code == 422
    assert world.client.patch(url, json={"domains": []}, headers=key).status_code == 422


def test_open_signup_is_limited_per_network(
    app: FastAPI, settings: Settings, db: Database, admin_key: str
) -> None:
    """Before: each anonymous POST /v1/publishers returned a new live key, without limit."""
    settings.widget_publisher_signups_per_network_per_day = 2
    body = {"name": "Spam", "domains": ["spam.example"]}

    def signup(ip: str, headers: dict[str, str] | None = None) -> int:
        with TestClient(app, client=(ip, 40000)) as c:
            one = {**body, "email": f"spam-{ip.replace(':', '-')}@example.org"} if headers is None else body
            return int(c.post("/v1/publishers", json=one, headers=headers or {}).status_code)

    assert [signup("203.0.113.1"), signup("203.0.113.2")] == [201, 201]
    with TestClient(app, client=("203.0.113.3", 40000)) as c:
        refused = c.post("/v1/publishers", json={**body, "email": "spam@example.org"})
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert 0 < int(refused.headers["Retry-After"]) <= 86400
    assert publisher_count(db) == 2  # the refused request created nothing
    assert signup("2001:db8:5::1") == 201  # another network has its own budget
    assert signup("203.0.113.4", auth(admin_key)) == 201  # an admin is not limited
    assert publisher_count(db) == 4


def publisher_count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(publishers)).scalar_one())
