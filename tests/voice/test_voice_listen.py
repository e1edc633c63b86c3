"""`listen` against local fakes: Mastodon REST and RSS on a fake HTTP server, Bluesky
Jetstream on a local websockets server. Nothing reaches a real service."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_voice import voice_posts
from wefirst.voice import listen as voice_listen
from wefirst.voice import service as voice_service

from factories import auth, make_brand
from voice.voice_fakes import ASSETS, fake_http, fake_jetstream
from voice.voice_helpers import KeywordSentiment, lang

TIMELINE = (ASSETS / "mastodon" / "timeline_public_sample.json").read_bytes()
RSS = (ASSETS / "rss" / "blog_parents_rss2.xml").read_bytes()
ATOM = (ASSETS / "rss" / "dad_on_duty_atom.xml").read_bytes()
JETSTREAM = (ASSETS / "bluesky" / "jetstream_v1_subscribe.jsonl").read_text().splitlines()


def stored(db: Database) -> dict[str, bool]:
    with db.read() as conn:
        rows = conn.execute(select(voice_posts.c.external_id, voice_posts.c.hidden)).all()
    return {r.external_id: r.hidden for r in rows}


def test_listen_once_polls_mastodon_and_feeds(
    client: TestClient, db: Database, admin_key: str, settings: Settings
) -> None:
    brand = make_brand(client, db, admin_key, "Pampers")
    with fake_http() as server:
        server.static("/api/v1/timelines/tag/pampers", TIMELINE, "application/json")
        server.static("/feed", RSS, "application/rss+xml", ETag='"1"')
        server.static("/atom", ATOM, "application/atom+xml")
        sources = {
            "mastodon": [{"server": server.url, "hashtags": ["pampers"]}],
            "rss": [server.url + "/feed", server.url + "/atom"],
            "bluesky": False,
        }
        r = client.put(
            f"/v1/brands/{brand.id}/voice/settings",
            headers=auth(brand.key),
            json={"names": ["Pampers"], "hashtags": ["1pack1vaccine"], "sources": sources},
        )
        assert r.status_code == 200, r.text
        svc = voice_service.VoiceService(db, settings, detect_language=lang, sentiment=KeywordSentiment())
        stats = voice_listen.listen(db, settings, once=True, service=svc)
        again = voice_listen.listen(db, settings, once=True, service=svc)
    assert stats["posts"] == 3 + 3 + 1
    assert stats["errors"] == 0
    # two of three Mastodon statuses, two of three RSS items and the Atom entry name Pampers
    # (the others are about P&G's water programme only)
    assert stats["matched"] == stats["new"] == 5
    assert again["new"] == 0
    keys = stored(db)
    assert "tag:dad-on-duty.example,2026-03-14:/posts/nappies-vaccines" in keys
    assert "https://blog-parents.example/?p=812" not in keys


def test_listen_streams_bluesky_and_applies_deletions(
    client: TestClient, db: Database, admin_key: str, settings: Settings
) -> None:
    brand = make_brand(client, db, admin_key, "Pampers")
    client.put(
        f"/v1/brands/{brand.id}/voice/settings",
        headers=auth(brand.key),
        json={"names": ["Pampers", "P&G"], "sources": {"bluesky": True}},
    )
    with fake_jetstream(JETSTREAM) as (url, paths):
        live = settings.model_copy(update={"voice_jetstream_url": url})
        svc = voice_service.VoiceService(db, live, detect_language=lang, sentiment=KeywordSentiment())
        stats = voice_listen.listen(db, live, duration=2.5, service=svc)
    assert paths
    assert "wantedCollections=app.bsky.feed.post" in paths[0]
    keys = stored(db)
    assert stats["new"] == 3
    assert len(keys) == 3
    # the first post was deleted, and the third post's author deactivated their account
    assert sorted(keys.values()) == [False, True, True]
    assert stats["deletions"] == 2


SSE = (ASSETS / "mastodon" / "streaming_public.sse").read_bytes()


def test_listen_streams_mastodon_with_the_brands_sealed_token(
    client: TestClient, db: Database, admin_key: str, settings: Settings
) -> None:
    brand = make_brand(client, db, admin_key, "Pampers")
    with fake_http() as server:
        server.static("/api/v1/streaming/public", SSE, "text/event-stream")
        r = client.put(
            f"/v1/brands/{brand.id}/voice/settings",
            headers=auth(brand.key),
            json={
                "names": ["Pampers"],
                "sources": {"mastodon": [{"server": server.url, "public": True, "token": "token-for-tests"}]},
            },
        )
        assert r.status_code == 200, r.text
        assert r.json()["sources"]["mastodon"][0]["has_token"] is True
        assert "token-for-tests" not in r.text
        svc = voice_service.VoiceService(db, settings, detect_language=lang, sentiment=KeywordSentiment())
        stats = voice_listen.listen(db, settings, duration=2.5, service=svc)
        streamed = [q for q in server.requests if q.path.startswith("/api/v1/streaming/public")]
    assert streamed
    assert streamed[0].headers["Authorization"] == "Bearer token-for-tests"
    assert stats["new"] == 2  # the two statuses naming Pampers; the edit is the same post
    keys = stored(db)
    assert len(keys) == 2
    # the stream's delete event names a local id seen in this stream: that post is hidden
    assert stats["deletions"] == 1
    assert sorted(keys.values()) == [False, True]


def test_a_flood_of_unsure_posts_embeds_at_most_the_cap_per_batch(
    client: TestClient, db: Database, admin_key: str, settings: Settings
) -> None:
    """`listen` drains its inbox as one batch; however many unsure posts a flood brings, the
    embedding pass reads at most `EMBED_LIMIT` of them (the least sure), and every post is still
    matched, scored by the fast model and stored in that same drain."""
    from collections.abc import Sequence
    from dataclasses import replace
    from datetime import UTC, datetime

    import numpy as np
    import numpy.typing as npt

    from wefirst.voice.embeddings import DIM, EmbeddingHead
    from wefirst.voice.pipeline import EMBED_LIMIT
    from wefirst.voice.posts import Post
    from wefirst.voice.sentiment import LABELS, load_default_model

    seen: list[str] = []

    def embedder(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        seen.extend(texts)
        return np.full((len(texts), DIM), 1.0 / np.sqrt(DIM), dtype=np.float32)

    head = EmbeddingHead(LABELS, np.zeros((DIM, 3), np.float32), np.zeros(3, np.float32), cascade=1.01)
    model = replace(load_default_model(), head=head, heads={}, embedder=embedder, embedded=0, deferred=0)
    brand = make_brand(client, db, admin_key, "Floodly")
    r = client.put(
        f"/v1/brands/{brand.id}/voice/settings", headers=auth(brand.key), json={"names": ["Floodly"]}
    )
    assert r.status_code == 200, r.text
    svc = voice_service.VoiceService(db, settings, detect_language=lang, sentiment=model)
    svc.pipeline.embeddings = True
    listener = voice_listen.Listener(db, settings, service=svc)
    n = EMBED_LIMIT * 5
    at = datetime(2026, 3, 10, 12, tzinfo=UTC)
    for i in range(n):
        listener.inbox.put(Post("mastodon", f"https://m.example/s/{i}", f"a{i}", f"Floodly post {i}", at))
    listener.drain()
    assert listener.stats["matched"] == listener.stats["new"] == n
    assert len(seen) == EMBED_LIMIT == model.embedded
    assert svc.pipeline.deferred == n - EMBED_LIMIT
    assert len(stored(db)) == n
