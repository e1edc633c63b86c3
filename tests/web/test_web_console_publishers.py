"""The brand console's publishers form: approve or withdraw a publisher that joined a campaign,
or open the campaign to any verified publisher, with the same effect as the API (issue 12)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.store.db import Database

from factories import auth, make_beneficiary, make_brand, make_campaign, signup_publisher
from web.web_helpers import csrf_of, new_user_signed_in


def test_brand_approves_a_publisher_and_opens_the_campaign_from_the_console(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id, rules=[{"kind": "per_click", "units_per_click": 1}])
    pub, _ = signup_publisher(client, "Le carnet", ["carnet.example"])
    r = client.post(f"/v1/publishers/{pub.id}/campaigns", json={"campaign_id": cid}, headers=auth(pub.key))
    assert r.status_code == 200, r.text

    def listed() -> dict[str, object]:
        r = client.get(f"/v1/widget/campaigns/{cid}/publishers", headers=auth(brand.key))
        assert r.status_code == 200, r.text
        return dict(r.json())

    rival = make_brand(client, db, admin_key, name="Rival")
    other = new_user_signed_in(app, db, "rival@rival.example", "brand", rival.id)
    token = csrf_of(other.get("/console/brand").text)
    refused = other.post(
        f"/console/brand/campaigns/{cid}/publishers",
        data={"csrf_token": token, "publisher_id": pub.id, "approved": "1"},
    )
    assert refused.status_code == 403
    assert listed()["data"][0]["counts"] is False  # type: ignore[index]

    web = new_user_signed_in(app, db, "team@pampy.example", "brand", brand.id)
    page = web.get(f"/console/brand/campaigns/{cid}")
    assert page.status_code == 200
    assert "Le carnet (carnet.example)" in page.text
    token = csrf_of(page.text)
    ok = web.post(
        f"/console/brand/campaigns/{cid}/publishers",
        data={"csrf_token": token, "publisher_id": pub.id, "approved": "1"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert listed()["data"][0]["counts"] is True  # type: ignore[index]
    unknown = web.post(
        f"/console/brand/campaigns/{cid}/publishers",
        data={"csrf_token": token, "publisher_id": "pub_nobody", "approved": "1"},
    )
    assert unknown.status_code in (409, 422)

    opened = web.post(
        f"/console/brand/campaigns/{cid}/publishers/open",
        data={"csrf_token": token, "open": "1"},
        follow_redirects=False,
    )
    assert opened.status_code == 303
    assert listed()["open_to_verified_publishers"] is True


def test_a_publisher_leaves_a_campaign_after_confirming_and_nobody_else_can(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id, rules=[{"kind": "per_click", "units_per_click": 1}])
    pub, _ = signup_publisher(client, "Le carnet", ["carnet.example"])
    rival, _ = signup_publisher(client, "La gazette", ["gazette.example"], email="rival@example.org")
    r = client.post(f"/v1/publishers/{pub.id}/campaigns", json={"campaign_id": cid}, headers=auth(pub.key))
    assert r.status_code == 200, r.text

    def shown() -> list[str]:
        r = client.get(f"/v1/publishers/{pub.id}", headers=auth(pub.key))
        assert r.status_code == 200, r.text
        return list(r.json()["campaigns"])

    leave = f"/console/publisher/campaigns/{cid}/leave"
    # Another publisher's session, and a brand's, cannot make this publisher leave.
    other = new_user_signed_in(app, db, "rival@example.org", "publisher", rival.id)
    refused = other.post(
        leave, data={"csrf_token": csrf_of(other.get("/console/publisher").text), "confirmed": "yes"}
    )
    assert refused.status_code == 404
    team = new_user_signed_in(app, db, "team@pampy.example", "brand", brand.id)
    refused = team.post(
        leave, data={"csrf_token": csrf_of(team.get("/console/brand").text), "confirmed": "yes"}
    )
    assert refused.status_code == 403
    assert shown() == [cid]

    web = new_user_signed_in(app, db, "camille@example.org", "publisher", pub.id)
    page = web.get("/console/publisher")
    assert f'action="{leave}"' in page.text
    token = csrf_of(page.text)
    assert web.post(leave, data={"confirmed": "yes"}).status_code == 403  # no form token
    ask = web.post(leave, data={"csrf_token": token})
    assert ask.status_code == 200
    assert "Leave this campaign?" in ask.text
    assert 'name="confirmed" value="yes"' in ask.text
    assert shown() == [cid]  # asking changed nothing
    done = web.post(leave, data={"csrf_token": csrf_of(ask.text), "confirmed": "yes"}, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/console/publisher?left=1#snip-h")
    assert shown() == []
    assert "You left the campaign" in web.get(done.headers["location"]).text
    again = web.post(leave, data={"csrf_token": token, "confirmed": "yes"})
    assert again.status_code == 404
