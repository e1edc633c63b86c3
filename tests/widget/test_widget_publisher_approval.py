"""Publisher sign-up is verified by an e-mailed link, and a brand approves the publishers that
count clicks on its campaign (or opens it to any verified publisher). Issue 12, first finding:
an anonymous `POST /v1/publishers` returned a live key at once, and joining a campaign was
enough for its clicks to pledge the brand's money."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.mail import MemoryMailer
from wefirst.services import services_of
from wefirst.settings import Settings
from wefirst.widget import publishers as pubs

from factories import approve_publisher, auth, make_brand, signup_publisher
from widget.widget_helpers import World, visitor_of

BLOG_DOMAIN = "carnet-de-camille.fr"


def _mails(client: TestClient) -> MemoryMailer:
    mailer = services_of(client.app).mailer
    assert isinstance(mailer, MemoryMailer)
    return mailer


def _link_token(client: TestClient) -> str:
    body = str(_mails(client).sent[-1].get_content())
    link = next(w for w in body.split() if "/publishers/verify?token=" in w)
    return link.split("token=", 1)[1]


def _join(world: World, publisher_id: str, key: str, cid: str | None = None) -> Any:
    return world.client.post(
        f"/v1/publishers/{publisher_id}/campaigns",
        json={"campaign_id": cid or world.campaign_id},
        headers=auth(key),
    )


def _report(world: World) -> dict[str, Any]:
    r = world.client.get(
        f"/v1/widget/campaigns/{world.campaign_id}/fraud-report", headers=auth(world.brand.key)
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_an_open_signup_key_works_only_once_the_emailed_link_is_followed(world: World) -> None:
    c = world.client
    body = {"name": "Spam blog", "domains": ["spam.example"]}
    no_address = c.post("/v1/publishers", json=body)
    assert no_address.status_code == 422
    assert [e["field"] for e in no_address.json()["errors"]] == ["email"]
    bad = c.post("/v1/publishers", json={**body, "email": "not an address"})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["email"]

    sent_before = len(_mails(c).sent)
    r = c.post("/v1/publishers", json={**body, "email": "Someone@Example.org"})
    assert r.status_code == 201, r.text
    pub = r.json()
    assert pub["verified"] is False
    assert pub["verification"]["status"] == "pending"
    assert len(_mails(c).sent) == sent_before + 1
    assert _mails(c).sent[-1]["To"] == "someone@example.org"
    key = auth(pub["api_key"]["secret"])

    # the key is refused everywhere until the link is followed
    me = c.get(f"/v1/publishers/{pub['id']}", headers=key)
    assert me.status_code == 403
    assert me.json()["verification"] == "pending"
    assert _join(world, pub["id"], pub["api_key"]["secret"]).status_code == 403
    cid = world.campaign_id
    clicks = [
        c.post("/v1/clicks", json={"campaign_id": cid, "visitor": f"forged-visitor-{i:06d}"}, headers=key)
        for i in range(5)
    ]
    assert {x.status_code for x in clicks} == {403}

    # a forged or altered link does nothing
    token = _link_token(c)
    for forged in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "x" * 40):
        f = c.get("/v1/publishers/verify", params={"token": forged})
        assert f.status_code == 422
        assert f.json()["errors"][0]["field"] == "token"
    assert c.get(f"/v1/publishers/{pub['id']}", headers=key).status_code == 403

    ok = c.get("/v1/publishers/verify", params={"token": token})
    assert ok.status_code == 200, ok.text
    assert ok.json()["verified"] is True
    assert c.post("/v1/publishers/verify", json={"token": token}).status_code == 200  # twice: harmless
    assert c.get(f"/v1/publishers/{pub['id']}", headers=key).status_code == 200
    assert balance_units(world) == 0


def test_open_signup_is_limited_per_address(app: FastAPI, settings: Settings) -> None:
    settings.widget_publisher_signups_per_address_per_day = 2
    body = {"name": "Spam", "domains": ["spam.example"]}
    codes = []
    for i, address in enumerate(["victim@example.org", "Victim@example.org", "victim@EXAMPLE.org"]):
        with TestClient(app, client=(f"198.51.{100 + i}.1", 40000)) as c:  # three networks
            codes.append(c.post("/v1/publishers", json={**body, "email": address}).status_code)
    assert codes == [201, 201, 429]


def test_a_joined_publisher_counts_nothing_until_the_brand_approves_it(world: World) -> None:
    other, _ = signup_publisher(world.client, "Autre carnet", [BLOG_DOMAIN], "autre@example.org")
    assert _join(world, other.id, other.key).status_code == 200
    me = world.client.get(f"/v1/publishers/{other.id}", headers=auth(other.key)).json()
    assert me["campaigns"] == [world.campaign_id]
    assert me["counting_campaigns"] == []

    state = world.state(visitor_of("a"), publisher_id=other.id)
    assert state.status_code == 403
    assert state.json()["detail_code"] == "publisher_not_approved"
    # a script that forged a challenge-less click, and one through the API, both refused
    r = world.click(visitor_of("a"), fetch=False, publisher_id=other.id)
    assert r.status_code == 403
    assert r.json()["decision"] == "bad_origin"
    forged = {"campaign_id": world.campaign_id, "visitor": "forged-visitor-000001"}
    api = world.client.post("/v1/clicks", json=forged, headers=auth(other.key))
    assert api.status_code == 403
    assert api.json()["decision"] == "not_approved"
    report = _report(world)
    assert report["details"]["bad_origin"] == {"publisher_not_approved": 1}
    assert balance_units(world) == 0

    # another brand, the publisher itself and nobody cannot approve it
    stranger = make_brand(world.client, world.db, world.admin_key, name="Other brand")
    url = f"/v1/widget/campaigns/{world.campaign_id}/publishers/{other.id}/approval"
    assert world.client.put(url, headers=auth(stranger.key)).status_code == 403
    assert world.client.put(url, headers=auth(other.key)).status_code == 403
    assert world.client.put(url).status_code == 401

    listed = world.client.get(
        f"/v1/widget/campaigns/{world.campaign_id}/publishers", headers=auth(world.brand.key)
    ).json()
    assert [(p["publisher_id"], p["counts"]) for p in listed["data"]] == [
        (world.publisher_id, True),
        (other.id, False),
    ]

    approve_publisher(world.client, world.brand.key, world.campaign_id, other.id)
    assert world.click(visitor_of("b"), publisher_id=other.id).status_code == 201
    assert balance_units(world) == 1

    # withdrawn: counted clicks stay, new ones are refused
    assert world.client.delete(url, headers=auth(world.brand.key)).status_code == 200
    assert world.state(visitor_of("c"), publisher_id=other.id).status_code == 403
    assert balance_units(world) == 1


def test_a_campaign_open_to_verified_publishers_needs_no_approval(world: World) -> None:
    other, _ = signup_publisher(world.client, "Autre carnet", [BLOG_DOMAIN], "autre@example.org")
    assert _join(world, other.id, other.key).status_code == 200
    assert world.state(visitor_of("a"), publisher_id=other.id).status_code == 403
    r = world.client.put(
        f"/v1/widget/campaigns/{world.campaign_id}/settings",
        json={"open_to_verified_publishers": True},
        headers=auth(world.brand.key),
    )
    assert r.status_code == 200, r.text
    assert r.json()["open_to_verified_publishers"] is True
    assert world.click(visitor_of("a"), publisher_id=other.id).status_code == 201

    # an unverified publisher that somehow joined (here: straight in the database) still counts nothing
    with world.db.write() as conn:
        unverified = pubs.create_publisher(conn, name="Ghost", domains=[BLOG_DOMAIN], verified=False)
        pubs.join_campaign(conn, unverified["id"], world.campaign_id)
    state = world.state(visitor_of("g"), publisher_id=unverified["id"])
    assert state.status_code == 403
    forged = world.click(visitor_of("g"), fetch=False, publisher_id=unverified["id"])
    assert forged.json()["decision"] == "bad_origin"
    assert balance_units(world) == 1


def balance_units(world: World) -> int:
    r = world.client.get(f"/v1/campaigns/{world.campaign_id}/balance")
    assert r.status_code == 200, r.text
    return int(r.json()["pledged"]["units"])
