"""The service end to end on a real migrated database: import (idempotent), detection,
episodes, signed alerts with retries on a simulated clock, deletions."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from wefirst.secretbox import SecretBox
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_voice import voice_episodes, voice_mentions, voice_posts
from wefirst.store.tables_webhooks import webhook_attempts, webhook_deliveries
from wefirst.voice import airlines as voice_airlines
from wefirst.voice import demo as voice_demo
from wefirst.voice import importing as voice_importing
from wefirst.voice import post_store as voice_post_store
from wefirst.voice import service as voice_service
from wefirst.voice.detector import DetectorConfig
from wefirst.voice.importing import ImportOptions
from wefirst.voice.posts import Deletion
from wefirst.voice.sources.files import ColumnMapping
from wefirst.webhooks import signing
from wefirst.webhooks.transport import HttpTransport
from wefirst.webhooks.worker import WebhookWorker

from factories import auth, loopback_policy, make_brand
from voice.voice_fakes import Recorded, fake_http
from voice.voice_helpers import T0, KeywordSentiment, configure, lang, post, write_csv

AIRLINE = Path(__file__).resolve().parents[3] / "shared" / "data" / "voice" / "airline_tweets_2015_dev.csv"


def count(db: Database, table: object) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_import_is_idempotent_and_finds_the_surge(
    client: TestClient, db: Database, admin_key: str, settings: Settings, tmp_path: Path
) -> None:
    brand = make_brand(client, db, admin_key, "Acme")
    configure(client, brand.id, brand.key, detector={"alpha": 0.001})
    path = tmp_path / "acme.csv"
    n = write_csv(path)
    model = KeywordSentiment()
    options = ImportOptions(settings=settings, detect_language=lang, sentiment=model, progress=False)
    first = voice_importing.import_file(db, path, options)
    assert (first.rows, first.matched, first.new) == (n + 1, n, n)  # "Acme corner" excluded
    assert first.brands == [brand.id]
    assert first.episodes >= 1
    posts, mentions, episodes = count(db, voice_posts), count(db, voice_mentions), count(db, voice_episodes)
    again = voice_importing.import_file(db, path, options)
    assert (again.new, again.episodes) == (0, 0)
    assert (count(db, voice_posts), count(db, voice_mentions), count(db, voice_episodes)) == (
        posts,
        mentions,
        episodes,
    )

    r = client.get(f"/v1/brands/{brand.id}/voice/episodes")
    assert r.status_code == 200
    [backlash] = [e for e in r.json()["data"] if e["kind"] == "backlash"]
    assert backlash["start"] == "2026-03-04T18:00:00Z"
    assert backlash["peak_count"] >= 30
    assert backlash["posts"] >= 60
    assert {t["term"] for t in backlash["top_terms"][:4]} == {"refund", "scandal", "worst", "service"}
    assert "acme" not in {t["term"] for t in backlash["top_terms"]}
    assert backlash["samples"]
    assert backlash["end"] is not None


def test_import_reports_bad_rows_and_unknown_columns(
    client: TestClient, db: Database, admin_key: str, settings: Settings, tmp_path: Path
) -> None:
    brand = make_brand(client, db, admin_key, "Acme")
    configure(client, brand.id, brand.key)
    path = tmp_path / "bad.csv"
    path.write_text("text,created_at\nAcme ok,2026-03-01T00:00:00Z\nAcme,yesterday\n,2026-03-01\n")
    options = ImportOptions(
        settings=settings, detect_language=lang, sentiment=KeywordSentiment(), progress=False
    )
    report = voice_importing.import_file(db, path, options)
    assert report.new == 1
    assert [line for line, _ in report.errors] == [3, 4]
    with pytest.raises(ValueError, match="missing column"):
        voice_importing.import_file(db, path, replace(options, mapping=ColumnMapping(text="body")))


class SimClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_live_alert_arrives_within_a_minute_signed_and_retried(
    client: TestClient, db: Database, admin_key: str, settings: Settings
) -> None:
    brand = make_brand(client, db, admin_key, "Acme")
    configure(client, brand.id, brand.key)
    received: list[tuple[datetime, Recorded]] = []
    answers = [500, 200, 200]
    clock = SimClock(T0)
    with fake_http() as receiver:

        def hook(req: Recorded) -> tuple[int, dict[str, str], bytes]:
            received.append((clock(), req))
            return answers.pop(0), {}, b""

        receiver.route("/alerts", hook)
        r = client.post(
            f"/v1/brands/{brand.id}/voice/alert-endpoints",
            json={"url": receiver.url + "/alerts"},
            headers=auth(brand.key),
        )
        assert r.status_code == 201
        secret = r.json()["secret"]
        # the process's webhook worker, on the same simulated clock, woken by the service
        sender = WebhookWorker(
            db, HttpTransport(loopback_policy()), SecretBox.from_settings(settings), clock=clock
        )
        svc = voice_service.VoiceService(
            db,
            settings,
            detect_language=lang,
            sentiment=KeywordSentiment(),
            clock=clock,
            on_alert=partial(_drain, sender),
            config=DetectorConfig(alpha=1e-3, warmup_hours=6, min_posts=10),
        )
        i = 0
        surge_data_time = None
        for h in range(22):
            hour = T0 + timedelta(hours=h)
            texts = ["Acme awful queue", "Acme fine"] if h < 21 else ["Acme worst scandal"] * 25
            for k, text in enumerate(texts):
                i += 1
                at = hour + timedelta(minutes=2 * k + 1)
                clock.now = at  # posts are processed as they arrive
                svc.ingest([post(i, text, at)])
                svc.tick()
                if received and surge_data_time is None:
                    surge_data_time = at
                    break
        assert surge_data_time is not None
        first_at, first = received[0]
        # the webhook left within a minute of the post that showed the episode
        assert first_at - surge_data_time < timedelta(minutes=1)
        headers = {k.lower(): v for k, v in first.headers.items()}
        signing.verify(secret, headers, first.body, now=first_at.timestamp())
        assert json.loads(first.body)["type"] == "voice.episode.started"
        # the receiver answered 500: the retry comes 10 s later, with a fresh signature
        clock.now += timedelta(seconds=9)
        assert sender.run_once() == 0
        clock.now += timedelta(seconds=1)
        assert sender.run_once() == 1
        assert len(received) == 2
        assert received[1][1].body == first.body
        assert received[1][1].headers["webhook-id"] == first.headers["webhook-id"]
        sender.stop()
    with db.read() as conn:
        attempts = conn.execute(select(webhook_attempts).order_by(webhook_attempts.c.seq)).all()
    assert [(a.attempt, a.ok, a.status) for a in attempts] == [(1, False, 500), (2, True, 200)]
    r = client.get(f"/v1/brands/{brand.id}/voice/alert-attempts", headers=auth(brand.key))
    assert [a["attempt"] for a in r.json()["data"]] == [2, 1]
    # a restart replays recent history but never alerts the same episode twice
    svc2 = voice_service.VoiceService(
        db,
        settings,
        detect_language=lang,
        sentiment=KeywordSentiment(),
        clock=clock,
        config=DetectorConfig(alpha=1e-3, warmup_hours=6, min_posts=10),
    )
    assert svc2.warm_up() > 0
    assert count(db, webhook_deliveries) == 1  # nothing queued again


def test_deletions_hide_posts_from_the_series(
    client: TestClient, db: Database, admin_key: str, settings: Settings
) -> None:
    brand = make_brand(client, db, admin_key, "Acme")
    configure(client, brand.id, brand.key)
    svc = voice_service.VoiceService(db, settings, detect_language=lang, sentiment=KeywordSentiment())
    svc.ingest([post(1, "Acme awful", T0), post(2, "thanks Acme", T0 + timedelta(minutes=5))])
    assert voice_post_store.hide(db, Deletion("mastodon", external_id="https://m.example/s/1")) == 1
    assert voice_post_store.hide(db, Deletion("mastodon", author_hash="a2")) == 1
    assert voice_post_store.hide(db, Deletion("mastodon")) == 0
    r = client.get(f"/v1/brands/{brand.id}/voice/series")
    assert r.json()["data"] == []


@pytest.mark.skipif(not AIRLINE.exists(), reason="shared airline data absent")
def test_airline_data_imports_as_is_for_airline_brands(
    client: TestClient, db: Database, admin_key: str, settings: Settings
) -> None:
    ids = voice_airlines.ensure_airline_brands(db)
    options = ImportOptions(
        settings=settings,
        use_source_labels=True,
        detect_language=lang,
        sentiment=KeywordSentiment(),
        progress=False,
    )
    report = voice_importing.import_file(db, AIRLINE, options)
    assert report.preset == "airline"
    assert report.errors == []
    assert report.new == 10_270 - 114 - (report.posts - report.matched)
    assert report.matched > 10_000  # nearly every tweet names an airline handle
    assert set(report.brands) == set(ids.values())
    jetblue = client.get(f"/v1/brands/{ids['JetBlue']}/voice/series?granularity=day&by=polarity")
    days = jetblue.json()["data"]
    assert sum(d["total"] for d in days) > 1400  # the README's "Delta" rows are @JetBlue
    american = client.get(f"/v1/brands/{ids['American']}/voice/episodes").json()["data"]
    jump = datetime(2015, 2, 22, 20, tzinfo=UTC)  # the sampling jump (11:00-12:00 PT)
    starts = [datetime.fromisoformat(e["start"]) for e in american]
    assert not [t for t in starts if jump - timedelta(hours=2) <= t < jump + timedelta(hours=12)]


@pytest.mark.skipif(not AIRLINE.exists(), reason="shared airline data absent")
def test_demo_step_imports_the_airline_data_as_recent_posts(
    client: TestClient, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    monkeypatch.setattr(voice_service, "default_sentiment", lambda: KeywordSentiment())
    monkeypatch.setattr(voice_service, "default_language_detector", lambda: lang)
    ctx = SimpleNamespace(db=db, settings=settings, base_url="http://demo", ids={}, urls={})
    voice_demo.demo_step(ctx)
    voice_demo.demo_step(ctx)  # a second demo run adds nothing
    assert set(ctx.ids) == {f"voice_{a}" for a in voice_airlines.AIRLINES}
    assert ctx.urls["Voice episodes (Atom)"].endswith("/voice/episodes.atom")
    assert count(db, voice_posts) == 10_270 - 114 - 4  # 4 tweets name no airline handle
    now = datetime.now(UTC)
    series = client.get(
        f"/v1/brands/{ctx.ids['voice_United']}/voice/series", params={"granularity": "day"}
    ).json()["data"]
    last = datetime.fromisoformat(series[-1]["t"])
    assert now - timedelta(days=8) <= last <= now
    assert last.weekday() == datetime(2015, 2, 24).weekday()  # weekdays are kept


def test_pending_retries_survive_a_restart_and_deliveries_can_be_replayed(
    client: TestClient, db: Database, admin_key: str, settings: Settings
) -> None:
    from wefirst.voice.detector import DetectorEvent, Episode

    brand = make_brand(client, db, admin_key, "Acme")
    clock = SimClock(T0)
    answers = [503, 200, 200]
    bodies: list[bytes] = []
    with fake_http() as receiver:

        def hook(req: Recorded) -> tuple[int, dict[str, str], bytes]:
            bodies.append(req.body)
            return answers.pop(0), {}, b""

        receiver.route("/alerts", hook)
        secret = client.post(
            f"/v1/brands/{brand.id}/voice/alert-endpoints",
            json={"url": receiver.url + "/alerts"},
            headers=auth(brand.key),
        ).json()["secret"]
        dying = WebhookWorker(
            db, HttpTransport(loopback_policy()), SecretBox.from_settings(settings), clock=clock
        )
        first = voice_service.VoiceService(
            db,
            settings,
            detect_language=lang,
            sentiment=KeywordSentiment(),
            clock=clock,
            on_alert=partial(_drain, dying),
        )
        episode = Episode(
            key=f"{brand.id}:negative:x",
            brand_id=brand.id,
            polarity="negative",
            start=T0,
            detected_at=T0,
            peak_hour=T0,
            peak_count=30,
            peak_expected=3.0,
            posts=30,
            expected=3.0,
        )
        first.sink([DetectorEvent("started", episode)])
        first.sink([DetectorEvent("started", episode)])  # the same episode again: no 2nd alert
        assert len(bodies) == 1
        dying.stop()
        # the process stops before the retry; another process's worker sends it from the queue
        clock.now = T0 + timedelta(seconds=10)
        second = WebhookWorker(
            db, HttpTransport(loopback_policy()), SecretBox.from_settings(settings), clock=clock
        )
        assert second.run_until_idle() == 1
        assert len(bodies) == 2
        assert bodies[1] == bodies[0]
        assert second.run_until_idle() == 0  # delivered: nothing pending
        log = client.get(f"/v1/brands/{brand.id}/voice/alert-attempts", headers=auth(brand.key)).json()[
            "data"
        ]
        assert [(a["attempt"], a["ok"]) for a in log] == [(2, True), (1, False)]
        assert log[0]["delivery_id"] == log[1]["delivery_id"]
        replay = client.post(
            f"/v1/brands/{brand.id}/voice/alert-attempts/{log[0]['delivery_id']}/replay",
            headers=auth(brand.key),
        )
        assert replay.status_code == 202, replay.text
        assert replay.json()["state"] == "pending"  # queued: the request never waits on the receiver
        assert replay.json()["delivery_id"] != log[0]["delivery_id"]
        assert len(bodies) == 2
        clock.now = datetime.now(UTC)  # the replay was queued at the API's (real) time
        assert second.run_until_idle() == 1
        other = make_brand(client, db, admin_key, "Other")
        assert (
            client.post(
                f"/v1/brands/{brand.id}/voice/alert-attempts/{log[0]['delivery_id']}/replay",
                headers=auth(other.key),
            ).status_code
            == 403
        )
        assert (
            client.post(
                f"/v1/brands/{brand.id}/voice/alert-attempts/dly_nope/replay", headers=auth(brand.key)
            ).status_code
            == 404
        )
        second.stop()
    assert len(bodies) == 3
    assert bodies[2] == bodies[0]
    received = json.loads(bodies[0])
    assert received["type"] == "voice.episode.started"
    assert received["data"]["episode"]["peak_count"] == 30
    assert secret.startswith("whsec_")


def test_refresh_picks_up_new_settings_and_keeps_the_detector(
    client: TestClient, db: Database, admin_key: str, settings: Settings
) -> None:
    brand = make_brand(client, db, admin_key, "Acme")
    configure(client, brand.id, brand.key)
    svc = voice_service.VoiceService(db, settings, detect_language=lang, sentiment=KeywordSentiment())
    svc.refresh()
    assert svc.refresh() is False  # nothing changed
    detector = svc.pipeline.detector
    assert svc.ingest([post(1, "Zorg is awful", T0)]).matched == 0
    configure(client, brand.id, brand.key, aliases=["Zorg"], detector={"alpha": 0.001})
    assert svc.refresh() is True
    assert svc.pipeline.detector is detector  # learned baselines are kept
    assert detector is not None
    assert detector.brand_configs[brand.id].alpha == 0.001
    assert svc.ingest([post(2, "Zorg is awful", T0)]).matched == 1


def _drain(worker: WebhookWorker) -> None:
    """The service's alert hook: send what the alert queued (returns nothing, as the hook)."""
    worker.run_until_idle()
