"""Issue 17's listening basics through the API: filters on the series (language, source,
polarity, period), share of voice against named competitors, and alert rules (polarity,
minimum size, endpoint) — each behind the brand's own key, bad input a 422 naming the field
that changes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_webhooks import webhook_deliveries
from wefirst.voice import service as voice_service
from wefirst.voice.detector import DetectorEvent, Episode

from factories import auth, make_brand, signup_publisher
from voice.voice_helpers import KeywordSentiment, lang, post

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _voice(client: TestClient, brand: Any, names: list[str]) -> None:
    r = client.put(f"/v1/brands/{brand.id}/voice/settings", json={"names": names}, headers=auth(brand.key))
    assert r.status_code == 200, r.text


def _service(db: Database, settings: Settings) -> voice_service.VoiceService:
    return voice_service.VoiceService(db, settings, detect_language=lang, sentiment=KeywordSentiment())


def test_series_filters_by_language_source_polarity_and_period(
    client: TestClient, db: Database, admin_key: str, settings: Settings
) -> None:
    acme = make_brand(client, db, admin_key, "Acme")
    _voice(client, acme, ["Acme"])
    _service(db, settings).ingest(
        [
            post(1, "Acme awful", T0),
            post(2, "thanks Acme", T0 + timedelta(minutes=10)),
            replace(post(3, "le Acme est nul", T0 + timedelta(hours=1)), language=None),
            replace(post(4, "Acme awful again", T0 + timedelta(days=1)), source="rss"),
            post(5, "Acme delivered", T0 + timedelta(days=2)),
        ]
    )
    base = f"/v1/brands/{acme.id}/voice/series"

    def totals(**params: str) -> list[tuple[str, int]]:
        r = client.get(base, params={"granularity": "day", **params})
        assert r.status_code == 200, r.text
        return [(p["t"][:10], p["total"]) for p in r.json()["data"]]

    assert totals() == [("2026-03-02", 3), ("2026-03-03", 1), ("2026-03-04", 1)]
    assert totals(language="fr") == [("2026-03-02", 1)]
    assert totals(source="rss") == [("2026-03-03", 1)]
    assert totals(polarity="negative") == [("2026-03-02", 2), ("2026-03-03", 1)]
    assert totals(polarity="negative", source="mastodon", language="en") == [("2026-03-02", 1)]
    assert totals(start="2026-03-03T00:00:00Z", end="2026-03-04T00:00:00Z") == [("2026-03-03", 1)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"language": "English"}, "language"),
        ({"source": "twitter"}, "source"),
        ({"polarity": "angry"}, "polarity"),
        ({"start": "yesterday"}, "start"),
        ({"start": "2026-03-04T00:00:00Z", "end": "2026-03-03T00:00:00Z"}, "end"),
        ({"start": "2024-01-01T00:00:00Z", "end": "2026-03-03T00:00:00Z"}, "end"),
    ],
)
def test_bad_filters_are_problem_details_naming_the_field(
    client: TestClient, db: Database, admin_key: str, params: dict[str, str], field: str
) -> None:
    acme = make_brand(client, db, admin_key, "Acme")
    for path in ("series", "share-of-voice"):
        r = client.get(f"/v1/brands/{acme.id}/voice/{path}", params=params)
        assert r.status_code == 422, (path, params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in r.json()["errors"]], r.text


def test_share_of_voice_against_a_brand_and_a_plain_name(
    client: TestClient, db: Database, admin_key: str, settings: Settings
) -> None:
    acme = make_brand(client, db, admin_key, "Acme")
    bolt = make_brand(client, db, admin_key, "Bolt")
    _voice(client, acme, ["Acme"])
    _voice(client, bolt, ["Bolt"])
    url = f"/v1/brands/{acme.id}/voice/competitors"
    body = {"competitors": [{"brand_id": bolt.id}, {"name": "Crux Co", "terms": ["Crux", "@cruxco"]}]}
    r = client.put(url, json=body, headers=auth(acme.key))
    assert r.status_code == 200, r.text
    assert r.json()["competitors"] == [
        {"brand_id": bolt.id, "name": "Bolt"},
        {"name": "Crux Co", "terms": ["Crux", "@cruxco"]},
    ]
    svc = _service(db, settings)  # loads the competitor names after they were set
    svc.ingest(
        [
            post(1, "Acme awful", T0),
            post(2, "thanks Acme", T0),
            post(3, "Bolt awful", T0),
            post(4, "thanks @cruxco", T0),
            post(5, "Crux is awful", T0),
            post(6, "Crux vs Acme, meh", T0),
            post(7, "Bolt later", T0 + timedelta(days=3)),
        ]
    )
    share = client.get(
        f"/v1/brands/{acme.id}/voice/share-of-voice", params={"end": "2026-03-03T00:00:00Z"}
    ).json()["data"]
    by_name = {row["name"]: row for row in share}
    assert [row["name"] for row in share] == ["Acme", "Bolt", "Crux Co"]
    assert by_name["Acme"]["own"] is True
    assert (by_name["Acme"]["mentions"], by_name["Bolt"]["mentions"], by_name["Crux Co"]["mentions"]) == (
        3,
        1,
        3,
    )
    assert by_name["Acme"]["share_of_voice"] == pytest.approx(3 / 7, abs=1e-4)
    assert by_name["Crux Co"]["negative"] == 1
    assert by_name["Crux Co"]["positive_share"] == pytest.approx(1 / 3, abs=1e-4)
    negative_only = client.get(
        f"/v1/brands/{acme.id}/voice/share-of-voice", params={"polarity": "negative"}
    ).json()["data"]
    assert [row["mentions"] for row in negative_only] == [1, 1, 1]
    # a competitor's own mentions are not the brand's: Acme's series counts only Acme
    acme_series = client.get(f"/v1/brands/{acme.id}/voice/series", params={"by": "none"}).json()
    assert sum(p["total"] for p in acme_series["data"]) == 3


def test_competitors_belong_to_the_brand_and_bad_lists_change_nothing(
    client: TestClient, db: Database, admin_key: str
) -> None:
    acme = make_brand(client, db, admin_key, "Acme")
    bolt = make_brand(client, db, admin_key, "Bolt")
    url = f"/v1/brands/{acme.id}/voice/competitors"
    good = {"competitors": [{"name": "Crux"}]}
    assert client.get(url).status_code == 401
    assert client.put(url, json=good).status_code == 401
    assert client.get(url, headers=auth(bolt.key)).status_code == 403
    assert client.put(url, json=good, headers=auth(bolt.key)).status_code == 403
    publisher, _ = signup_publisher(client, "A blog", ["blog.example"])
    assert client.put(url, json=good, headers=auth(publisher.key)).status_code == 403
    assert client.put(url, json=good, headers=auth(acme.key)).status_code == 200
    for bad, field in (
        ({"competitors": [{"brand_id": acme.id}]}, "competitors[0].brand_id"),
        ({"competitors": [{"brand_id": "brd_nope"}]}, "competitors[0].brand_id"),
        ({"competitors": [{"brand_id": bolt.id, "name": "Bolt"}]}, "competitors[0].brand_id"),
        ({"competitors": [{"name": ""}]}, "competitors[0].name"),
        ({"competitors": [{"name": "x"}, {"name": "X"}]}, "competitors[1].name"),
        ({"competitors": [{"name": f"n{i}"} for i in range(11)]}, "competitors"),
        ({"competitors": [{"name": "Crux", "colour": "red"}]}, "competitors[0].colour"),
    ):
        r = client.put(url, json=bad, headers=auth(acme.key))
        assert r.status_code == 422, (bad, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (bad, r.text)
    assert client.get(url, headers=auth(acme.key)).json()["competitors"] == [{"name": "Crux", "terms": []}]


def _endpoint(client: TestClient, brand: Any, name: str) -> str:
    r = client.post(
        f"/v1/brands/{brand.id}/voice/alert-endpoints",
        json={"url": f"https://hooks.example/{name}"},
        headers={**auth(brand.key), "Idempotency-Key": name},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_alert_rules_belong_to_the_brand_and_bad_rules_change_nothing(
    client: TestClient, db: Database, admin_key: str
) -> None:
    acme = make_brand(client, db, admin_key, "Acme")
    bolt = make_brand(client, db, admin_key, "Bolt")
    mine = _endpoint(client, acme, "acme")
    theirs = _endpoint(client, bolt, "bolt")
    url = f"/v1/brands/{acme.id}/voice/alert-rules"
    good = {"rules": [{"polarity": "negative", "min_posts": 50, "endpoint_id": mine}]}
    assert client.get(url).status_code == 401
    assert client.put(url, json=good).status_code == 401
    assert client.get(url, headers=auth(bolt.key)).status_code == 403
    assert client.put(url, json=good, headers=auth(bolt.key)).status_code == 403
    r = client.put(url, json=good, headers=auth(acme.key))
    assert r.status_code == 200, r.text
    saved = r.json()["rules"]
    assert [(x["polarity"], x["min_posts"], x["endpoint_id"]) for x in saved] == [("negative", 50, mine)]
    for bad, field in (
        (
            {"rules": [{"polarity": "negative", "min_posts": 5, "endpoint_id": theirs}]},
            "rules[0].endpoint_id",
        ),
        ({"rules": [{"polarity": "angry", "min_posts": 5, "endpoint_id": mine}]}, "rules[0].polarity"),
        ({"rules": [{"polarity": "any", "min_posts": 0, "endpoint_id": mine}]}, "rules[0].min_posts"),
        ({"rules": [{"polarity": "any", "min_posts": "many", "endpoint_id": mine}]}, "rules[0].min_posts"),
        ({"rules": [{"polarity": "any", "min_posts": 5}]}, "rules[0].endpoint_id"),
        ({"rules": "all"}, "rules"),
    ):
        r = client.put(url, json=bad, headers=auth(acme.key))
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in r.json()["errors"]], (bad, r.text)
    assert client.get(url, headers=auth(acme.key)).json()["rules"] == saved
    # Bolt cannot read Acme's rules, and its own list is still empty
    assert client.get(f"/v1/brands/{bolt.id}/voice/alert-rules", headers=auth(bolt.key)).json()["rules"] == []


def _episode(brand_id: str, polarity: str, posts: int, now: datetime, end: datetime | None = None) -> Episode:
    return Episode(
        key=f"{brand_id}:{polarity}:{now.isoformat()}",
        brand_id=brand_id,
        polarity=polarity,
        start=now - timedelta(hours=1),
        detected_at=now,
        peak_hour=now - timedelta(hours=1),
        peak_count=posts,
        peak_expected=2.0,
        posts=posts,
        expected=4.0,
        end=end,
    )


def test_alert_rules_pick_polarity_size_and_endpoint(
    client: TestClient, db: Database, admin_key: str, settings: Settings
) -> None:
    acme = make_brand(client, db, admin_key, "Acme")
    press, team = _endpoint(client, acme, "press"), _endpoint(client, acme, "team")
    now = datetime.now(UTC)
    svc = _service(db, settings)

    def sent() -> list[tuple[str, str]]:
        with db.read() as conn:
            rows = conn.execute(
                select(webhook_deliveries.c.endpoint_id, webhook_deliveries.c.event_type)
                .where(webhook_deliveries.c.brand_id == acme.id)
                .order_by(webhook_deliveries.c.seq)
            ).all()
        return [(r.endpoint_id, r.event_type) for r in rows]

    # no rule: every endpoint gets the alert (as before rules existed)
    svc.sink([DetectorEvent("started", _episode(acme.id, "positive", 10, now - timedelta(minutes=5)))])
    assert sorted(sent()) == sorted([(press, "voice.episode.started"), (team, "voice.episode.started")])
    rules = {
        "rules": [
            {"polarity": "negative", "min_posts": 40, "endpoint_id": press},
            {"polarity": "any", "min_posts": 5, "endpoint_id": team},
        ]
    }
    assert (
        client.put(f"/v1/brands/{acme.id}/voice/alert-rules", json=rules, headers=auth(acme.key)).status_code
        == 200
    )
    before = len(sent())
    small = _episode(acme.id, "negative", 20, now)
    svc.sink([DetectorEvent("started", small)])
    assert sent()[before:] == [(team, "voice.episode.started")]  # too small for the press
    svc.sink([DetectorEvent("started", small)])  # the same again: nothing more
    assert len(sent()) == before + 1
    grown = replace(small, posts=60)
    svc.sink([DetectorEvent("updated", grown)])  # big enough now: the press hears of it once
    assert sent()[before + 1 :] == [(press, "voice.episode.started")]
    svc.sink([DetectorEvent("updated", replace(grown, posts=80))])
    assert len(sent()) == before + 2
    svc.sink([DetectorEvent("ended", replace(grown, end=now + timedelta(minutes=1)))])
    ended = sent()[before + 2 :]
    assert sorted(ended) == sorted([(press, "voice.episode.ended"), (team, "voice.episode.ended")])
    # praise below the team's size goes nowhere; the press rule is for backlash only
    count = len(sent())
    svc.sink([DetectorEvent("started", _episode(acme.id, "positive", 3, now + timedelta(seconds=1)))])
    svc.sink([DetectorEvent("started", _episode(acme.id, "positive", 90, now + timedelta(seconds=2)))])
    assert sent()[count:] == [(team, "voice.episode.started")]
    # history (an import of old posts) pages no one, whatever the rules say
    count = len(sent())
    old = _episode(acme.id, "negative", 500, now - timedelta(days=5))
    svc.sink([DetectorEvent("started", old), DetectorEvent("ended", replace(old, end=old.detected_at))])
    assert len(sent()) == count


def test_share_of_voice_is_counted_once_a_minute_and_sees_a_new_competitor_at_once(
    client: TestClient, db: Database, admin_key: str, settings: Settings
) -> None:
    """The second read of the same table skips the counting join (two primary-key lookups
    instead); changing the competitor list is a new table, counted at once."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    acme = make_brand(client, db, admin_key, "Acme")
    _voice(client, acme, ["Acme"])
    url = f"/v1/brands/{acme.id}/voice/competitors"
    r = client.put(url, json={"competitors": [{"name": "Crux"}]}, headers=auth(acme.key))
    assert r.status_code == 200, r.text
    _service(db, settings).ingest([post(1, "Acme awful", T0), post(2, "Crux fine", T0)])
    statements: list[str] = []

    def log(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        statements.append(sql)

    share_url = f"/v1/brands/{acme.id}/voice/share-of-voice"
    event.listen(Engine, "before_cursor_execute", log)  # reads and writes
    try:
        first = client.get(share_url).json()["data"]
        counted_first = [s for s in statements if "count(" in s.lower()]
        statements.clear()
        second = client.get(share_url).json()["data"]
        counted = [s for s in statements if "count(" in s.lower()]
        statements.clear()
        body = {"competitors": [{"name": "Crux"}, {"name": "Dax"}]}
        assert client.put(url, json=body, headers=auth(acme.key)).status_code == 200
        third = client.get(share_url).json()["data"]
    finally:
        event.remove(Engine, "before_cursor_execute", log)
    assert second == first
    # Counted by the counting query itself, not by all statements: the engine-wide listener also
    # sees the log sequencer's background rounds, whose number depends on the machine's load.
    assert counted_first != []
    assert counted == []
    assert [row["name"] for row in third] == ["Acme", "Crux", "Dax"]
    assert [row["mentions"] for row in third] == [1, 1, 0]
