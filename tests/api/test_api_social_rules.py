"""A brand defines per_social_action rules through the API; bad ones are refused naming the field."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.api.social import bluesky_resolver
from wefirst.outbound import OutboundPolicy
from wefirst.services import services_of
from wefirst.settings import Settings
from wefirst.social.addresses import BlueskyUnreachable, Resolver
from wefirst.social.fakenet import FakeNetwork
from wefirst.store.db import Database

from factories import auth, campaign_body, make_beneficiary, make_brand

POST = "at://did:plc:brand123/app.bsky.feed.post/3kabc"


def _rule(**over: Any) -> dict[str, Any]:
    return {"kind": "per_social_action", "action": "like", "network": "bluesky", "target": POST,
            "units_per_action": 1, **over}  # fmt: skip


def test_social_rules_are_created_and_disclosed(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    rules = [
        _rule(cap_units=100, criteria={"min_account_age_days": 60}),
        _rule(action="repost", period="day"),
        _rule(action="hashtag_post", network="mastodon", target="#DoudouVaccins", units_per_action=2),
    ]
    r = client.post("/v1/campaigns", json=campaign_body(ben.id, rules=rules), headers=auth(brand.key))
    assert r.status_code == 201, r.text
    got = client.get(f"/v1/campaigns/{r.json()['id']}").json()
    assert "at least 60 days old" in got["disclosure"]["en"]
    assert "original post with #DoudouVaccins on Mastodon" in got["disclosure"]["en"]
    assert "This rule gives at most 100" in got["disclosure"]["en"]


def test_bad_social_rules_are_refused_naming_the_field(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cases = [
        (_rule(target="https://evil.example/x"), "rules[0].target"),
        (_rule(action="hashtag_post", target="#no spaces"), "rules[0].target"),
        (_rule(network="myspace"), "rules[0].network"),
        (_rule(network="facebook", target="pfbid0abc"), "rules[0].target"),
        (_rule(criteria={"min_posts": -1}), "rules[0].criteria.min_posts"),
        (_rule(units_per_action=0), "rules[0].units_per_action"),
    ]
    for rule, field in cases:
        r = client.post("/v1/campaigns", json=campaign_body(ben.id, rules=[rule]), headers=auth(brand.key))
        assert r.status_code == 422, (field, r.text)
        assert field in {e["field"] for e in r.json()["errors"]}, r.text
    tag = _rule(action="hashtag_post", target="#Doudou")
    twice = [tag, {**tag, "target": "doudou"}]
    r = client.post("/v1/campaigns", json=campaign_body(ben.id, rules=twice), headers=auth(brand.key))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "rules"
    assert client.get("/v1/campaigns", headers=auth(brand.key)).json()["data"] == []


# --- bsky.app addresses (issue 16): stored as the post's AT-URI, resolved through the guard --

APPVIEW = "https://appview.example"


@pytest.fixture
def net(app: FastAPI) -> FakeNetwork:
    """The fake AppView behind the real outbound guard, as the API's resolver."""
    fake = FakeNetwork(now=datetime(2026, 3, 1, tzinfo=UTC))
    fake.account("doudoubrand", datetime(2020, 1, 1, tzinfo=UTC), 500)
    nets = (ipaddress.ip_network("203.0.113.0/24"),)
    policy = OutboundPolicy(allowed_networks=nets, resolver=lambda host, port: ["203.0.113.7"])

    def client() -> httpx.Client:
        return httpx.Client(transport=policy.transport(httpx.MockTransport(fake.handle)))

    app.dependency_overrides[bluesky_resolver] = lambda: Resolver(client, APPVIEW)
    return fake


def _targets(client: TestClient, cid: str) -> list[str]:
    return [r["target"] for r in client.get(f"/v1/campaigns/{cid}").json()["rules"]]


def test_bsky_app_post_address_becomes_the_posts_at_uri(
    client: TestClient, db: Database, admin_key: str, net: FakeNetwork
) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    did = net.did("doudoubrand")
    rules = [
        _rule(target="https://bsky.app/profile/doudoubrand.bsky.example/post/3kpost1"),
        _rule(action="repost", target=f"https://bsky.app/profile/{did}/post/3kpost1/"),
        _rule(action="quote", target=POST),
    ]
    r = client.post("/v1/campaigns", json=campaign_body(ben.id, rules=rules), headers=auth(brand.key))
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert _targets(client, cid) == [f"at://{did}/app.bsky.feed.post/3kpost1"] * 2 + [POST]
    asked = [q.url.path for q in net.requests]
    assert asked == ["/xrpc/com.atproto.identity.resolveHandle"]  # a DID or AT-URI asks nothing
    patch = {
        "rules": [_rule(action="reply", target="https://bsky.app/profile/DoudouBrand.bsky.example/post/3kp2")]
    }
    r = client.patch(f"/v1/campaigns/{cid}", json=patch, headers=auth(brand.key))
    assert r.status_code == 200, r.text
    assert _targets(client, cid) == [f"at://{did}/app.bsky.feed.post/3kp2"]


def test_bad_bsky_app_addresses_are_refused_and_nothing_is_created(
    client: TestClient, db: Database, admin_key: str, net: FakeNetwork
) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cases = [
        ("https://bsky.app/profile/nobody.bsky.example/post/3kx", "does not exist on Bluesky"),
        ("https://bsky.app/profile/no_such!handle/post/3kx", "neither a Bluesky handle"),
        # a profile, not a post
        ("https://bsky.app/profile/doudoubrand.bsky.example", "https://bsky.app/profile/<handle>/post/<id>"),
    ]
    for target, words in cases:
        r = client.post("/v1/campaigns", json=campaign_body(ben.id, rules=[_rule(target=target)]),
                        headers=auth(brand.key))  # fmt: skip
        assert r.status_code == 422, (target, r.text)
        body = r.json()
        assert body["errors"][0]["field"] == "rules[0].target", r.text
        assert words in body["detail"], r.text
    assert client.get("/v1/campaigns", headers=auth(brand.key)).json()["data"] == []


def test_bsky_app_address_when_the_appview_is_down_is_a_503_and_creates_nothing(
    client: TestClient, app: FastAPI, db: Database, admin_key: str
) -> None:
    def down() -> httpx.Client:
        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("connection refused", request=request)

        return httpx.Client(transport=httpx.MockTransport(refuse))

    app.dependency_overrides[bluesky_resolver] = lambda: Resolver(down, APPVIEW)
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    rule = _rule(target="https://bsky.app/profile/doudoubrand.bsky.example/post/3kx")
    r = client.post("/v1/campaigns", json=campaign_body(ben.id, rules=[rule]), headers=auth(brand.key))
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "try again" in r.json()["detail"]
    assert client.get("/v1/campaigns", headers=auth(brand.key)).json()["data"] == []


def test_private_address_as_appview_is_never_contacted(
    client: TestClient, app: FastAPI, settings: Settings
) -> None:
    """The real dependency goes through the outbound guard: an AppView on a private address is
    refused before any connection (a brand cannot make the server probe its network)."""
    app.dependency_overrides.pop(bluesky_resolver, None)
    resolver = bluesky_resolver(services_of(app).replace(
        settings=settings.model_copy(update={"social_bsky_appview": "http://10.0.0.5"})))  # fmt: skip
    with pytest.raises(BlueskyUnreachable):
        resolver.did("someone.bsky.social")


def test_resolve_address_for_the_check_box(client: TestClient, net: FakeNetwork) -> None:
    did = net.did("doudoubrand")
    r = client.get(
        "/v1/social/resolve", params={"address": "https://bsky.app/profile/doudoubrand.bsky.example"}
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"did": did, "uri": None}
    assert r.headers["cache-control"] == "no-store"
    r = client.get(
        "/v1/social/resolve", params={"address": "https://bsky.app/profile/doudoubrand.bsky.example/post/3k1"}
    )
    assert r.json() == {"did": did, "uri": f"at://{did}/app.bsky.feed.post/3k1"}
    for bad in ("https://evil.example/profile/x", "https://bsky.app/profile/nobody.bsky.example", ""):
        r = client.get("/v1/social/resolve", params={"address": bad})
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["errors"][0]["field"] == "address"
