"""The voice API: settings behind the brand's key, public series/episodes/Atom."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import feedparser
from fastapi.testclient import TestClient

from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.voice import episodes as voice_episodes
from wefirst.voice import service as voice_service
from wefirst.voice.detector import Episode, SamplePost

from factories import auth, make_brand
from voice.voice_helpers import KeywordSentiment, lang, post

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
SETTINGS = {
    "names": ["Acme", "Acmé Corp"],
    "aliases": ["ACME Inc"],
    "handles": ["@acme"],
    "hashtags": ["#acmefail"],
    "exclusions": ["acme corner"],
    "sources": {
        "mastodon": [{"server": "https://mastodon.example", "hashtags": ["acme"]}],
        "bluesky": True,
        "rss": ["https://blog.example/feed"],
    },
    "detector": {"alpha": 0.0001, "cooldown_hours": 3},
}


def test_settings_need_the_brands_own_key(client: TestClient, db: Database, admin_key: str) -> None:
    acme = make_brand(client, db, admin_key, "Acme")
    other = make_brand(client, db, admin_key, "Other")
    url = f"/v1/brands/{acme.id}/voice/settings"
    assert client.get(url).status_code == 401
    assert client.put(url, json=SETTINGS).status_code == 401
    assert client.put(url, json=SETTINGS, headers=auth(other.key)).status_code == 403
    empty = client.get(url, headers=auth(acme.key)).json()
    assert empty["names"] == []
    assert empty["updated_at"] is None
    r = client.put(url, json=SETTINGS, headers=auth(acme.key))
    assert r.status_code == 200, r.text
    got = client.get(url, headers=auth(admin_key)).json()
    assert got["names"] == ["Acme", "Acmé Corp"]
    assert got["detector"] == {"alpha": 0.0001, "cooldown_hours": 3}
    assert got["sources"]["mastodon"][0]["hashtags"] == ["acme"]
    missing = client.get("/v1/brands/brd_nope/voice/settings", headers=auth(admin_key))
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def test_bad_settings_are_422_and_change_nothing(client: TestClient, db: Database, admin_key: str) -> None:
    acme = make_brand(client, db, admin_key, "Acme")
    url = f"/v1/brands/{acme.id}/voice/settings"
    client.put(url, json=SETTINGS, headers=auth(acme.key))
    for bad in (
        {"names": [""]},
        {"names": ["x" * 101]},
        {"colour": "red"},
        {"detector": {"alpha": 0.5}},
        {"detector": {"min_count": 0}},
        {"sources": {"rss": ["ftp://x"]}},
        {"names": "Acme"},
    ):
        r = client.put(url, json=bad, headers=auth(acme.key))
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["errors"], r.text
    assert client.get(url, headers=auth(acme.key)).json()["names"] == SETTINGS["names"]


def test_alert_endpoints_lifecycle(client: TestClient, db: Database, admin_key: str) -> None:
    acme = make_brand(client, db, admin_key, "Acme")
    base = f"/v1/brands/{acme.id}/voice/alert-endpoints"
    r = client.post(
        base, json={"url": "https://hooks.example/acme"}, headers={**auth(acme.key), "Idempotency-Key": "k1"}
    )
    assert r.status_code == 201
    assert r.json()["secret"].startswith("whsec_")
    again = client.post(
        base, json={"url": "https://hooks.example/acme"}, headers={**auth(acme.key), "Idempotency-Key": "k1"}
    )
    assert again.json()["id"] == r.json()["id"]  # replayed, not a second endpoint
    listed = client.get(base, headers=auth(acme.key)).json()["data"]
    assert [e["id"] for e in listed] == [r.json()["id"]]
    assert "secret" not in listed[0]
    assert client.post(base, json={"url": "javascript:alert(1)"}, headers=auth(acme.key)).status_code == 422
    assert client.delete(f"{base}/{r.json()['id']}", headers=auth(acme.key)).status_code == 204
    assert client.get(base, headers=auth(acme.key)).json()["data"][0]["active"] is False
    assert client.delete(f"{base}/hook_nope", headers=auth(acme.key)).status_code == 404


def test_public_series_by_hour_day_polarity_language(
    client: TestClient, db: Database, admin_key: str, settings: Settings
) -> None:
    acme = make_brand(client, db, admin_key, "Acme")
    client.put(f"/v1/brands/{acme.id}/voice/settings", json=SETTINGS, headers=auth(acme.key))
    svc = voice_service.VoiceService(db, settings, detect_language=lang, sentiment=KeywordSentiment())
    svc.ingest(
        [
            post(1, "Acme awful", T0),
            post(2, "thanks Acme", T0 + timedelta(minutes=10)),
            replace(post(3, "le Acme est nul", T0 + timedelta(hours=1)), language=None),
            post(4, "#acmefail again", T0 + timedelta(days=1)),
            post(5, "nothing here", T0),
        ]
    )
    base = f"/v1/brands/{acme.id}/voice/series"
    hourly = client.get(base).json()
    assert hourly["granularity"] == "hour"
    assert hourly["by"] == "polarity"
    assert [(p["t"], p["counts"]) for p in hourly["data"]] == [
        ("2026-03-02T09:00:00Z", {"negative": 1, "positive": 1}),
        ("2026-03-02T10:00:00Z", {"negative": 1}),
        ("2026-03-03T09:00:00Z", {"neutral": 1}),
    ]
    daily = client.get(base, params={"granularity": "day", "by": "language"}).json()
    assert [(p["t"], p["counts"]) for p in daily["data"]] == [
        ("2026-03-02T00:00:00Z", {"en": 2, "fr": 1}),
        ("2026-03-03T00:00:00Z", {"en": 1}),
    ]
    window = client.get(
        base, params={"by": "none", "start": "2026-03-02T10:00:00Z", "end": "2026-03-03T00:00:00Z"}
    ).json()
    assert [(p["t"], p["total"]) for p in window["data"]] == [("2026-03-02T10:00:00Z", 1)]
    assert client.get(base, params={"granularity": "week"}).status_code == 422
    assert client.get("/v1/brands/brd_nope/voice/series").status_code == 404


def _episode(i: int, brand_id: str, polarity: str = "negative", ended: bool = True) -> Episode:
    start = T0 + timedelta(days=i)
    return Episode(
        key=f"{brand_id}:{polarity}:{start.isoformat()}",
        brand_id=brand_id,
        polarity=polarity,
        start=start,
        detected_at=start + timedelta(minutes=20),
        peak_hour=start,
        peak_count=40,
        peak_expected=4.0,
        posts=70,
        expected=9.0,
        end=start + timedelta(hours=3) if ended else None,
        top_terms=(("refund", 30),),
        top_reasons=(("Lost Luggage", 12),),
        samples=(SamplePost("https://m.example/1", "@dana_k@m.example worst, cc @acme", start, 3),),
    )


def test_public_episodes_pagination_and_atom(client: TestClient, db: Database, admin_key: str) -> None:
    acme = make_brand(client, db, admin_key, "Acme & Co")
    with db.write() as conn:
        for i in range(5):
            voice_episodes.upsert_episode(
                conn,
                _episode(i, acme.id, "negative" if i % 2 else "positive", ended=i < 4),
                T0 + timedelta(days=i, hours=4),
            )
    base = f"/v1/brands/{acme.id}/voice/episodes"
    page1 = client.get(base, params={"limit": 2}).json()
    assert page1["has_more"] is True
    assert len(page1["data"]) == 2
    assert page1["data"][0]["status"] == "open"
    assert page1["data"][0]["kind"] == "praise"
    page2 = client.get(base, params={"limit": 2, "starting_after": page1["next_cursor"]}).json()
    page3 = client.get(base, params={"limit": 2, "starting_after": page2["next_cursor"]}).json()
    ids = [e["id"] for p in (page1, page2, page3) for e in p["data"]]
    assert len(set(ids)) == 5
    assert page3["has_more"] is False
    starts = [e["start"] for p in (page1, page2, page3) for e in p["data"]]
    assert starts == sorted(starts, reverse=True)
    negative = client.get(base, params={"polarity": "negative"}).json()["data"]
    assert {e["kind"] for e in negative} == {"backlash"}
    assert len(negative) == 2
    one = client.get(f"{base}/{ids[1]}").json()
    assert one["peak_ratio"] == 10.0
    assert one["excess"] == 61.0
    assert one["top_reasons"] == [{"reason": "Lost Luggage", "posts": 12}]
    # people's handles are not republished in sample posts; the link to the original remains
    assert one["samples"][0]["text"] == "@… worst, cc @…"
    assert one["samples"][0]["ref"] == "https://m.example/1"
    assert client.get(f"{base}/ep_nope").status_code == 404
    assert client.get(base, params={"starting_after": "ep_nope"}).status_code == 422

    feed = client.get(f"{base}.atom")
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("application/atom+xml")
    doc = feedparser.parse(feed.content)
    assert not doc.bozo
    assert len(doc.entries) == 5
    assert doc.entries[0].title.startswith("Wave of praise for Acme & Co (ongoing")
    assert doc.entries[1].title.startswith("Backlash against Acme & Co (ended")
    assert doc.entries[0].published == "2026-03-06T09:00:00Z"
