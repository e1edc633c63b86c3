"""Issue 13 #10: a deleted post (or every post of an account that left) never appears again
in an episode's public samples, and its text leaves the stored samples too."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from wefirst.domain.clock import utcnow
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_voice import voice_episodes, voice_posts
from wefirst.voice import importing as voice_importing
from wefirst.voice import post_store as voice_post_store
from wefirst.voice.detector import Episode, SamplePost
from wefirst.voice.episodes import upsert_episode
from wefirst.voice.posts import Deletion

from factories import make_brand
from voice.voice_helpers import KeywordSentiment, configure, lang, write_csv


def _backlash(client: TestClient, brand_id: str) -> dict[str, object]:
    r = client.get(f"/v1/brands/{brand_id}/voice/episodes")
    assert r.status_code == 200, r.text
    [found] = [e for e in r.json()["data"] if e["kind"] == "backlash"]
    return dict(found)


def test_a_deleted_post_leaves_the_episode_samples(
    client: TestClient, db: Database, admin_key: str, settings: Settings, tmp_path: Path
) -> None:
    brand = make_brand(client, db, admin_key, "Acme")
    configure(client, brand.id, brand.key, detector={"alpha": 0.001})
    path = tmp_path / "acme.csv"
    write_csv(path)
    options = voice_importing.ImportOptions(
        settings=settings, detect_language=lang, sentiment=KeywordSentiment(), progress=False
    )
    voice_importing.import_file(db, path, options)
    samples = _backlash(client, brand.id)["samples"]
    assert isinstance(samples, list)
    assert samples
    ref, text = samples[0]["ref"], samples[0]["text"]
    with db.read() as conn:
        post = conn.execute(
            select(voice_posts.c.source, voice_posts.c.external_id).where(
                (voice_posts.c.url == ref) | (voice_posts.c.external_id == ref)
            )
        ).one()

    assert voice_post_store.hide(db, Deletion(post.source, external_id=post.external_id)) == 1

    shown = _backlash(client, brand.id)["samples"]
    assert isinstance(shown, list)
    assert ref not in {s["ref"] for s in shown}
    assert len(shown) == len(samples) - 1
    with db.read() as conn:
        stored = json.dumps([r.samples for r in conn.execute(select(voice_episodes.c.samples))])
    assert ref not in stored
    assert text not in stored or any(s["text"] == text for s in shown)  # same words, other post

    # a detector that still holds the post in memory cannot bring it back
    with db.read() as conn:
        row = conn.execute(select(voice_episodes).where(voice_episodes.c.brand_id == brand.id)).first()
    assert row is not None
    episode = Episode(
        key=row.key,
        brand_id=brand.id,
        polarity=row.polarity,
        start=row.start,
        detected_at=row.detected_at,
        peak_hour=row.peak_hour,
        peak_count=row.peak_count,
        peak_expected=row.peak_expected,
        posts=row.posts,
        expected=row.expected,
        samples=(SamplePost(ref, text, utcnow(), 99),),
    )
    with db.write() as conn:
        upsert_episode(conn, replace(episode), utcnow())
    with db.read() as conn:
        again: object = conn.execute(
            select(voice_episodes.c.samples).where(voice_episodes.c.key == row.key)
        ).scalar_one()
    assert ref not in json.dumps(again)
