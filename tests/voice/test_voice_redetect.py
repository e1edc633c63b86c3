"""Re-detection from the store sees what the live pipeline saw (issue 17): `voice import`
(`VoiceService.rebuild`) and the warm-up of `listen` read the model's probabilities, the irony
cue, the estimate flag and the author back from `voice_posts`, so they find the live path's
episodes — not the hard-label reading that found none of the airline surges."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_voice import voice_episodes, voice_mentions, voice_posts
from wefirst.voice import airlines as voice_airlines
from wefirst.voice import importing as voice_importing
from wefirst.voice import pipeline
from wefirst.voice.detector import DetectorConfig, DetectorEvent, Episode, Observation
from wefirst.voice.importing import ImportOptions
from wefirst.voice.matching import Match
from wefirst.voice.pipeline import Analysed, observation
from wefirst.voice.post_store import DbPostStore, stored_observations
from wefirst.voice.posts import Engagement, Post
from wefirst.voice.service import VoiceService
from wefirst.voice.sources.files import read_file

from factories import make_brand
from voice.voice_helpers import T0, configure, diurnal, lang, poisson, write_csv

AIRLINE = Path(__file__).resolve().parents[3] / "shared" / "data" / "voice" / "airline_tweets_2015_dev.csv"
CFG = DetectorConfig(alpha=1e-3, warmup_hours=6, min_posts=10)


class SoftKeywords:
    """A stand-in model with calibrated-looking probabilities: "late again" is an unsure
    complaint (its label is neutral, P(negative) 0.42), so a backlash of them exists only for a
    detector that counts probabilities."""

    labels = ("negative", "neutral", "positive")
    head = None

    def probabilities(self, texts: Sequence[str], languages: Sequence[str], **_: Any) -> Any:
        rows = []
        for text in texts:
            t = text.lower()
            if "awful" in t or "worst" in t:
                rows.append((0.8, 0.15, 0.05))
            elif "late again" in t:
                rows.append((0.42, 0.45, 0.13))
            elif "thanks" in t or "love" in t or "great job" in t:
                rows.append((0.1, 0.2, 0.7))
            else:
                rows.append((0.2, 0.6, 0.2))
        return np.array(rows)

    def predict(self, texts: Sequence[str], languages: Sequence[str]) -> list[tuple[str, float]]:
        p = self.probabilities(texts, languages)
        return [(self.labels[int(r.argmax())], float(r[2] - r[0])) for r in p]


def stream(seed: int = 7) -> list[Post]:
    """Five days of two brands' chatter with: a backlash of unsure complaints (Acme, day 3),
    a wave of praise with sarcastic replies among it (Brix, day 4), one customer's thread of
    complaints at night (Acme, day 4: one author is not a mobilization), posts naming both brands."""
    rng = random.Random(seed)
    everyday = ("Acme delivered today", "thanks @acme", "Acme is awful lately", "@brix shipped it",
                "love the new @brix box", "Acme and @brix both late again", "meh @brix")  # fmt: skip
    posts: list[Post] = []

    def add(text: str, at: datetime, author: str) -> None:
        n = len(posts)
        url = f"https://m.example/@x/{n}"
        likes = Engagement(likes=n % 7, reposts=n % 3)
        posts.append(Post("mastodon", f"s/{n}", author, text, at, language="en", url=url, engagement=likes))

    for h in range(5 * 24):
        at = T0 + timedelta(hours=h)
        for _ in range(poisson(rng, diurnal(at.hour) * 2)):
            add(rng.choice(everyday), at + timedelta(seconds=rng.randrange(3600)), f"a{rng.randrange(60)}")
        minutes = sorted(rng.randrange(3600) for _ in range(40))
        if h == 2 * 24 + 14:
            for i, s in enumerate(minutes):
                add(f"Acme late again, order {i}", at + timedelta(seconds=s), f"c{i % 30}")
        if h == 3 * 24 + 10:
            for i, s in enumerate(minutes[:30]):
                text = "great job losing my parcel @brix" if i % 5 == 0 else f"thanks @brix, love it #{i}"
                add(text, at + timedelta(seconds=s), f"f{i}")
        if h == 3 * 24 + 3:
            for i, s in enumerate(minutes[:16]):
                add(f"Acme awful, still no refund ({i})", at + timedelta(seconds=s), "angry")
    return sorted(posts, key=lambda p: p.created_at)


def _final(events: list[DetectorEvent]) -> dict[str, Episode]:
    return {e.episode.key: e.episode for e in events}


def _brands(client: TestClient, db: Database, admin_key: str) -> list[str]:
    acme = make_brand(client, db, admin_key, "Acme")
    configure(client, acme.id, acme.key)
    brix = make_brand(client, db, admin_key, "Brix")
    configure(client, brix.id, brix.key, names=["Brix"], handles=["brix"], hashtags=[], exclusions=[])
    return [acme.id, brix.id]


def _service(db: Database, settings: Settings, end: datetime) -> VoiceService:
    model = SoftKeywords()
    return VoiceService(db, settings, detect_language=lang, sentiment=model, clock=lambda: end, config=CFG)


def _episode_rows(db: Database) -> list[tuple[Any, ...]]:
    e = voice_episodes.c
    cols = [c for c in voice_episodes.c if c.name not in ("seq", "id", "updated_at")]
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(select(*cols).order_by(e.key))]


def _by_post(observations: list[Observation]) -> list[Observation]:
    return sorted(observations, key=lambda o: (o.created_at, o.ref, o.brand_id))


def test_rebuild_and_warm_up_find_the_live_episodes(
    client: TestClient, db: Database, admin_key: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _brands(client, db, admin_key)
    posts = stream()
    end = posts[-1].created_at + timedelta(days=2)
    live = _service(db, settings, end)
    detector = live.pipeline.detector
    assert detector is not None
    fed: list[Observation] = []
    observe = detector.observe

    def recorded(obs: Observation) -> list[DetectorEvent]:
        fed.append(obs)
        return observe(obs)

    monkeypatch.setattr(detector, "observe", recorded)
    events: list[DetectorEvent] = []
    for i in range(0, len(posts), 50):  # as `listen` meets them: small batches in time order
        events += live.ingest(posts[i : i + 50]).events
    events += live.pipeline.tick(end)
    found = _final(events)
    # what makes this stream a test: the unsure backlash, the praise wave, no thread episode
    kinds = sorted((k.split(":")[1], e.start.astimezone(UTC)) for k, e in found.items())
    assert ("negative", T0 + timedelta(hours=2 * 24 + 14)) in kinds
    assert ("positive", T0 + timedelta(hours=3 * 24 + 10)) in kinds
    assert ("negative", T0 + timedelta(hours=3 * 24 + 3)) not in kinds
    assert any(o.author for o in fed)
    assert all(o.p_positive == pytest.approx(0.14) for o in fed if "great job" in o.text)

    rows = _episode_rows(db)
    rebuilt = _final(_service(db, settings, end).rebuild(ids))
    assert rebuilt == found  # keys, starts, peaks, counts, terms, samples: all of it
    assert _by_post(list(stored_observations(db, None, None))) == _by_post(fed)
    assert _episode_rows(db) == rows
    warm = _service(db, settings, end)
    assert warm.warm_up(days=10) == len(fed)
    assert warm.pipeline.detector is not None
    assert _episode_rows(db) == rows


def test_each_reading_survives_the_store(db: Database) -> None:
    """Every field the detector reads, including the fill's estimate flag and an irony cue with
    probabilities, comes back from the store as the live pipeline made it."""
    at = datetime(2026, 3, 4, 9, 30, 15, 123456, tzinfo=UTC)
    m = Match("brd_a", ("acme",))
    ironic = Post("mastodon", "1", "h1", "oh great, Acme lost it 🙄", at, url="https://x/1", reason="Lost")
    items = [
        Analysed(ironic, "en", "positive", 0.5, (m, Match("brd_b", ("brix",))), 0.2, 0.7, False, True),
        Analysed(Post("mastodon", "2", None, "Acme fine", at, engagement=Engagement(3, 2, 1)),
                 "en", "neutral", 0.0, (m,), 0.3, 0.3, True, False),
        Analysed(Post("mastodon", "3", "h3", "Acme awful", at), "en", "negative", -1.0, (m,)),
    ]  # fmt: skip
    assert DbPostStore(db).save(items) == [True, True, True]
    live = [observation(a, match.brand_id) for a in items for match in a.matches]
    assert _by_post(list(stored_observations(db, None, None))) == _by_post(live)
    assert live[0].p_positive == pytest.approx(0.14)
    assert live[2].estimated
    assert live[3].p_negative is None


def test_a_long_reason_reads_the_same_live_and_from_the_store(db: Database) -> None:
    """The store keeps 64 characters of a complaint reason; the post record cuts it when it is
    read, so an episode's top reasons do not change between the live path and a re-detection
    (they did: the live path counted the whole reason, the store its first 64 characters)."""
    at = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
    m = Match("brd_a", ("acme",))
    long = "Lost luggage, then a refund refused three times by the call centre in two weeks"
    items = [
        Analysed(Post("file", "1", "h1", "Acme awful", at, reason=long), "en", "negative", -1.0, (m,)),
        Analysed(Post("file", "2", "h2", "Acme awful", at, reason="   "), "en", "negative", -1.0, (m,)),
    ]
    assert DbPostStore(db).save(items) == [True, True]
    live = [observation(a, m.brand_id) for a in items]
    assert [o.reason for o in live] == [long[:64].rstrip(), None]
    assert _by_post(list(stored_observations(db, None, None))) == _by_post(live)


@pytest.mark.skipif(not AIRLINE.exists(), reason="shared airline data absent")
def test_the_airline_week_rebuilds_to_the_live_episodes(db: Database, settings: Settings) -> None:
    """The real stream (read in place) with the shipped model's fast path: the episodes of
    `voice import`'s re-detection are those of the live pipeline fed the same week."""
    brand_ids = sorted(voice_airlines.ensure_airline_brands(db).values())
    posts = sorted(read_file(AIRLINE, b"test-salt").posts, key=lambda p: p.created_at)
    end = posts[-1].created_at + timedelta(days=2)
    live = VoiceService(db, settings, clock=lambda: end)
    live.pipeline.embeddings = False
    events: list[DetectorEvent] = []
    for i in range(0, len(posts), 500):
        events += live.ingest(posts[i : i + 500]).events
    events += live.pipeline.tick(end)
    found = _final(events)
    with db.read() as conn:
        unread = select(voice_posts.c.seq).where(voice_posts.c.p_negative.is_(None))
        assert conn.execute(unread).first() is None  # the model read every post
    assert found
    assert _final(VoiceService(db, settings, clock=lambda: end).rebuild(brand_ids)) == found


def test_no_public_page_or_feed_shows_an_author_hash(
    client: TestClient, db: Database, admin_key: str, settings: Settings, tmp_path: Path
) -> None:
    """Authors are stored (a keyed pseudonym) for the detector's distinct-author count; the
    episode JSON, the Atom feed, the series and the scorecard page and exports never show one."""
    acme = make_brand(client, db, admin_key, "Acme")
    configure(client, acme.id, acme.key, detector={"alpha": 0.001})
    path = tmp_path / "acme.csv"
    write_csv(path)
    options = ImportOptions(settings=settings, detect_language=lang, sentiment=SoftKeywords(), progress=False)
    assert voice_importing.import_file(db, path, options).episodes >= 1
    with db.read() as conn:
        hashes: set[str] = set(conn.execute(select(voice_posts.c.author_hash).distinct()).scalars()) - {None}
    assert len(hashes) == 17  # the file's authors user0..user16 ("Acme corner" matches no brand)
    api = f"/v1/brands/{acme.id}/voice"
    episodes = client.get(f"{api}/episodes").json()["data"]
    assert episodes
    assert any(e["samples"] for e in episodes)
    urls = [f"{api}/episodes", f"{api}/episodes.atom", f"{api}/series", f"{api}/series?granularity=hour",
            f"{api}/share-of-voice", f"/brands/{acme.id}", f"/brands/{acme.id}/voice.csv",
            f"/brands/{acme.id}/voice.json", f"/brands/{acme.id}/scorecard.json",
            *(f"{api}/episodes/{e['id']}" for e in episodes)]  # fmt: skip
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, url
        assert not [h for h in hashes if h in r.text], url


class Unsure:
    """A model with a cascade that is unsure of every post; counts the posts it embeds."""

    labels = ("negative", "neutral", "positive")
    head = SimpleNamespace(cascade=0.8)

    def __init__(self) -> None:
        self.embedded = 0

    def predict(self, texts: Sequence[str], languages: Sequence[str]) -> list[tuple[str, float]]:
        raise AssertionError("the pipeline reads probabilities")

    def probabilities(
        self, texts: Sequence[str], languages: Sequence[str], *, embeddings: bool = False, **_: Any
    ) -> Any:
        self.embedded += len(texts) if embeddings else 0
        return np.array([(0.3, 0.4, 0.3)] * len(texts))


def test_an_import_embeds_every_unsure_post(
    client: TestClient,
    db: Database,
    admin_key: str,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A file is history: its unsure posts all get the embedding pass (`listen`'s bound of 64 a
    batch cost the airline import 2 of its 3 surges); ``embed_limit`` bounds it on request."""
    monkeypatch.setattr(pipeline, "embeddings_enabled", lambda: True)
    acme = make_brand(client, db, admin_key, "Acme")
    configure(client, acme.id, acme.key)
    path = tmp_path / "acme.csv"
    n = write_csv(path)
    model = Unsure()
    options = ImportOptions(settings=settings, detect_language=lang, sentiment=model, progress=False)
    assert voice_importing.import_file(db, path, options).matched == n > pipeline.EMBED_LIMIT
    assert model.embedded == n
    bounded = Unsure()
    with db.write() as conn:  # the same file again into an empty store, bounded this time
        conn.execute(delete(voice_mentions))
        conn.execute(delete(voice_posts))
    limit = replace(options, sentiment=bounded, embed_limit=pipeline.EMBED_LIMIT)
    voice_importing.import_file(db, path, limit)
    assert bounded.embedded == pipeline.EMBED_LIMIT  # one batch of 2,000 posts
