"""Atom feeds of a brand's cases and of one case's history, read back with feedparser."""

from __future__ import annotations

import feedparser
from fastapi.testclient import TestClient

from wefirst.store.db import Database

from cases.cases_kit import open_case
from factories import auth, make_brand


def test_brand_and_case_feeds(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key, "Pampy & Co")
    first = open_case(client, brand.id, title="Prices < promises & more")
    second = open_case(
        client,
        brand.id,
        kind="praise",
        title="Great refill stations",
        what_happened="Refill stations arrived in every shop in Lyon, as announced in spring.",
        what_is_asked=None,
    )
    client.post(
        f"/v1/cases/{first['id']}/answers",
        json={
            "body": "We will publish all payments.",
            "language": "en",
            "commitments": [{"text": "Monthly payment report"}],
        },
        headers=auth(brand.key),
    )
    client.post(
        f"/v1/cases/{first['id']}/reject", json={"opener_token": first["opener_token"], "note": "Vague."}
    )
    client.post(
        f"/v1/cases/{second['id']}/hide", json={"public_reason": "Spam review."}, headers=auth(admin_key)
    )

    r = client.get(f"/v1/brands/{brand.id}/cases.atom")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(r.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "Cases about Pampy & Co"
    titles = {e.id: e.title for e in feed.entries}
    assert titles[f"tag:wefirst,2026:case:{first['id']}"] == "Complaint: Prices < promises & more"
    assert titles[f"tag:wefirst,2026:case:{second['id']}"] == "Praise hidden by moderation"
    hidden = next(e for e in feed.entries if second["id"] in e.id)
    assert "Spam review." in hidden.summary
    assert "refill" not in r.text.lower()

    r = client.get(f"/v1/cases/{first['id']}/history.atom")
    history = feedparser.parse(r.content)
    assert not history.bozo
    assert [e.title for e in history.entries] == [
        "Case opened",
        "The brand answered",
        "The opener did not accept",
    ]
    assert "Monthly payment report" in history.entries[1].content[0].value
    assert client.get("/v1/brands/brd_missing/cases.atom").status_code == 404
    assert client.get("/v1/cases/cas_missing/history.atom").status_code == 404
