"""A brand defines per_social_action rules through the API; bad ones are refused naming the field."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

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
