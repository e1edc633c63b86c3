"""The public social tally and "did my share count?" by commitment: what anyone may see (no
account named), what a draft hides, and bad input refused naming the field."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.outbound import OutboundPolicy
from wefirst.settings import Settings
from wefirst.social.fakenet import FakeNetwork
from wefirst.social.poll import poll_campaign
from wefirst.store.db import Database

from factories import auth, make_beneficiary, make_brand, make_campaign
from waiting import wait_until

NOW = datetime(2026, 3, 14, 10, tzinfo=UTC)
POST = "https://masto.example/@pampy/111"
RULE = {
    "kind": "per_social_action",
    "action": "like",
    "network": "mastodon",
    "target": POST,
    "units_per_action": 3,
}


def _http(net: FakeNetwork) -> httpx.Client:
    policy = OutboundPolicy(resolver=lambda host, port: ["93.184.216.34"])
    return httpx.Client(transport=policy.transport(httpx.MockTransport(net.handle)))


def _net() -> FakeNetwork:
    net = FakeNetwork(now=NOW)
    net.account("lea", NOW - timedelta(days=900), 300)
    net.account("robot", NOW - timedelta(days=900), 300, bot=True)
    net.favourites["111"] = ["lea", "robot"]
    return net


def _commitment(net: FakeNetwork, name: str) -> str:
    """What the page computes in the browser from the profile URL a person pastes."""
    return hashlib.sha256(f"{net.mastodon_url(name)} like {POST}".encode()).hexdigest()


def test_did_my_share_count(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id, rules=[RULE])
    net = _net()
    assert poll_campaign(db, cid, _http(net), NOW).outcomes == {"counted": 1, "refused": 1}

    tally = client.get(f"/v1/campaigns/{cid}/social").json()
    assert tally["rules"][0]["counted"] == 1
    assert tally["rules"][0]["units"] == 3
    assert tally["rules"][0]["refused"] == {"bot": 1}
    assert "lea" not in json.dumps(tally)

    url = f"/v1/campaigns/{cid}/social/check"
    r = client.get(url, params={"commitment": _commitment(net, "robot")})
    assert r.status_code == 200
    assert (r.json()["outcome"], r.json()["reason"], r.json()["proof"]) == ("refused", "bot", None)

    def proven() -> bool:
        p = client.get(url, params={"commitment": _commitment(net, "lea")}).json()["proof"]
        return p is not None and p["status"] != "pending"

    wait_until(proven, what="the counted like's entry to be in a signed checkpoint")
    body = client.get(url, params={"commitment": _commitment(net, "lea")}).json()
    assert (body["outcome"], body["units"]) == ("counted", 3)
    assert json.loads(body["proof"]["entry"])["commitment"] == _commitment(net, "lea")

    r = client.get(url, params={"commitment": hashlib.sha256(b"someone else").hexdigest()})
    assert (r.status_code, r.json()["outcome"]) == (200, "not_seen")
    for bad in ("", "xyz", "A" * 64):
        r = client.get(url, params={"commitment": bad})
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "commitment"


def test_a_drafts_social_tally_is_the_brands_alone(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    other = make_brand(client, db, admin_key, name="Other")
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id, rules=[RULE], status="draft")
    c = _commitment(_net(), "lea")
    for headers in ({}, auth(other.key)):
        assert client.get(f"/v1/campaigns/{cid}/social", headers=headers).status_code == 404
        r = client.get(f"/v1/campaigns/{cid}/social/check", params={"commitment": c}, headers=headers)
        assert r.status_code == 404
    assert client.get(f"/v1/campaigns/{cid}/social", headers=auth(brand.key)).status_code == 200


def test_did_my_share_count_is_limited_per_network(
    app: FastAPI, settings: Settings, client: TestClient, db: Database, admin_key: str
) -> None:
    """Before: one network could script unlimited lookups (each a database read) through the
    public box. Now the one limiter (ratelimit.py) bounds it per network per hour; a refusal
    is a 429 problem with Retry-After, another network keeps its own budget, a bad commitment
    spends nothing."""
    settings.social_check_per_network_per_hour = 3
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id, rules=[RULE])
    url = f"/v1/campaigns/{cid}/social/check"
    probe = {"commitment": hashlib.sha256(b"probe").hexdigest()}
    with TestClient(app, client=("203.0.113.9", 40000)) as attacker:
        assert attacker.get(url, params={"commitment": "bad"}).status_code == 422  # spends nothing
        assert [attacker.get(url, params=probe).status_code for _ in range(3)] == [200, 200, 200]
        refused = attacker.get(url, params=probe)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert 0 < int(refused.headers["Retry-After"]) <= 3600
        # same /24, another campaign id (or one that does not exist): the same budget
        assert attacker.get("/v1/campaigns/cmp_nope/social/check", params=probe).status_code == 429
    with TestClient(app, client=("203.0.113.77", 40000)) as neighbour:
        assert neighbour.get(url, params=probe).status_code == 429
    with TestClient(app, client=("2001:db8:16::1", 40000)) as other:
        assert other.get(url, params=probe).status_code == 200
