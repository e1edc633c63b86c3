"""Issue 17: voice data in the demo on a fresh clone — the project's own written posts, shipped
in the package, give every demo brand a voice section (a per-day series, a backlash or praise
episode, a competitor to compare with) without the shared data."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.voice import demo as voice_demo
from wefirst.voice.competitors import share_of_voice
from wefirst.voice.filters import VoiceFilter
from wefirst.voice.stopwords import stopwords

from factories import make_brand


@dataclass
class Ctx:
    settings: Settings
    db: Database
    base_url: str = "http://demo.example"
    ids: dict[str, str] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)


def test_the_written_posts_are_shipped_with_the_package_and_name_their_brand() -> None:
    assert voice_demo.WRITTEN.is_relative_to(Path(voice_demo.__file__).parent)
    spec = json.loads(voice_demo.WRITTEN.read_text(encoding="utf-8"))
    now = datetime(2026, 12, 7, 15, tzinfo=UTC)
    rows = voice_demo.written_posts(spec, now)
    assert rows == voice_demo.written_posts(spec, now)  # the same schedule every time
    assert len(rows) > 1500
    assert all("{name}" not in r["text"] for r in rows)
    assert all(r["created_at"] < now.date().isoformat() for r in rows)  # history, nothing ahead
    assert {r["language"] for r in rows} == {"en", "fr"}
    for r in rows:
        voice = r["id"].split("-")[0]
        says = spec["brands"][voice]["say"]
        assert any(s.lower() in r["text"].lower() for s in says), r


def test_every_demo_brand_gets_a_voice_without_the_shared_data(
    client: TestClient, db: Database, admin_key: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEFIRST_VOICE_DEMO_DATA", "/nonexistent/airline.csv")
    ctx: Any = Ctx(settings, db)
    ctx.ids["brand1"] = make_brand(client, db, admin_key, "Doudou Diapers").id
    ctx.ids["brand2"] = make_brand(client, db, admin_key, "Clairo Home").id
    voice_demo.demo_step(ctx)
    for key, kind in (("brand1", "backlash"), ("brand2", "praise")):
        brand_id = ctx.ids[key]
        series = client.get(f"/v1/brands/{brand_id}/voice/series", params={"granularity": "day"}).json()
        assert len(series["data"]) >= 55, key
        assert all(set(p["counts"]) <= {"negative", "neutral", "positive"} for p in series["data"])
        episodes = client.get(f"/v1/brands/{brand_id}/voice/episodes").json()["data"]
        assert kind in {e["kind"] for e in episodes}, (key, episodes)
        terms = {t["term"] for e in episodes for t in e["top_terms"]}
        assert terms
        assert not terms & stopwords(), terms  # no "ourselves", "first", "the"…
        with db.read() as conn:
            shares = share_of_voice(conn, brand_id, VoiceFilter())
        assert [s.own for s in shares] == [True, False]
        assert all(s.mentions > 100 for s in shares), shares
    # no sign of the airline brands: the shared data is absent
    assert not any(k.startswith("voice_") for k in ctx.ids)
