"""Issue 13, finding 1 (critical): a brand's voice settings named the environment variable
holding a Mastodon token (`token_env`), and `wefirst voice listen` sent that variable's value
as a Bearer token to the brand's server: `WEFIRST_SECRET_KEY` left the host. Now a source
carries the brand's own token, sealed; nothing in the settings makes the server read its
environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from wefirst.settings import Settings
from wefirst.store import migrate
from wefirst.store.db import Database
from wefirst.store.tables_voice import voice_brand_settings
from wefirst.voice import listen as voice_listen

from factories import auth, make_brand

OPERATOR_SECRET = "operator-secret-" + "s" * 40


def test_a_brand_cannot_name_an_environment_variable(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    r = client.put(
        f"/v1/brands/{brand.id}/voice/settings",
        headers=auth(brand.key),
        json={"sources": {"mastodon": [{"server": "https://m.example", "token_env": "WEFIRST_SECRET_KEY"}]}},
    )
    assert r.status_code == 422, r.text
    assert "sources.mastodon[0].token_env" in [e["field"] for e in r.json()["errors"]]


def test_the_token_is_stored_sealed_and_never_returned(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    url = f"/v1/brands/{brand.id}/voice/settings"
    token = "brand-own-token-0123456789"
    src = {"server": "https://m.example", "public": True}
    r = client.put(url, headers=auth(brand.key), json={"sources": {"mastodon": [{**src, "token": token}]}})
    assert r.status_code == 200, r.text
    got = client.get(url, headers=auth(brand.key))
    for answer in (r, got):
        assert token not in answer.text
        assert "token_sealed" not in answer.text
        assert answer.json()["sources"]["mastodon"][0]["has_token"] is True
    with db.read() as conn:
        stored = json.dumps(conn.execute(select(voice_brand_settings.c.sources)).scalar_one())
    assert token not in stored
    # a GET document PUT back unchanged keeps the token; null removes it
    again = client.put(url, headers=auth(brand.key), json={"sources": got.json()["sources"]})
    assert again.status_code == 200, again.text
    assert again.json()["sources"]["mastodon"][0]["has_token"] is True
    removed = client.put(
        url, headers=auth(brand.key), json={"sources": {"mastodon": [{**src, "token": None}]}}
    )
    assert removed.json()["sources"]["mastodon"][0]["has_token"] is False


def test_a_sealed_token_copied_to_another_brand_does_not_open(
    client: TestClient, db: Database, admin_key: str, settings: Settings
) -> None:
    """The seal is bound to the brand and the server: a database writer who copies a token
    onto another brand's source (or server) gets no stream, not a borrowed token."""
    victim = make_brand(client, db, admin_key, "Victim")
    thief = make_brand(client, db, admin_key, "Thief")
    for b, server in ((victim, "https://victim.example"), (thief, "https://thief.example")):
        client.put(
            f"/v1/brands/{b.id}/voice/settings",
            headers=auth(b.key),
            json={"sources": {"mastodon": [{"server": server, "token": f"tok-{b.id}"}]}},
        )
    with db.write() as conn:
        rows: dict[str, Any] = {
            r.brand_id: r.sources
            for r in conn.execute(select(voice_brand_settings.c.brand_id, voice_brand_settings.c.sources))
        }
        stolen = rows[victim.id]["mastodon"][0]["token_sealed"]
        forged = {"mastodon": [{"server": "https://thief.example", "token_sealed": stolen}]}
        conn.execute(
            update(voice_brand_settings)
            .where(voice_brand_settings.c.brand_id == thief.id)
            .values(sources=forged)
        )
    from wefirst.secretbox import SecretBox, SecretBoxError
    from wefirst.voice.brand_settings import open_token

    box = SecretBox.from_settings(settings)
    with pytest.raises(SecretBoxError):
        open_token(box, thief.id, forged["mastodon"][0])


def test_listen_never_sends_the_servers_environment(
    client: TestClient,
    db: Database,
    admin_key: str,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The attack as filed, on a loopback listener: a settings row that still names
    WEFIRST_SECRET_KEY (as stored before the fix) makes `voice listen` send nothing of it."""
    from voice.voice_fakes import fake_http

    monkeypatch.setenv("WEFIRST_SECRET_KEY", OPERATOR_SECRET)
    brand = make_brand(client, db, admin_key)
    with fake_http() as server:
        server.static("/api/v1/streaming/public", b"", "text/event-stream")
        server.static("/api/v1/timelines/public", b"[]", "application/json")
        client.put(
            f"/v1/brands/{brand.id}/voice/settings", headers=auth(brand.key), json={"names": ["Pampy"]}
        )
        legacy = {"mastodon": [{"server": server.url, "public": True, "token_env": "WEFIRST_SECRET_KEY"}]}
        with db.write() as conn:
            conn.execute(
                update(voice_brand_settings)
                .where(voice_brand_settings.c.brand_id == brand.id)
                .values(sources=legacy)
            )
        voice_listen.listen(db, settings, once=True)
        seen = [(q.path, dict(q.headers)) for q in server.requests]
    assert seen, "the source was polled"
    assert all(OPERATOR_SECRET not in json.dumps(h) for _, h in seen)
    assert all("authorization" not in {k.lower() for k in h} for _, h in seen)


def test_migration_drops_environment_variable_names(tmp_path: Path) -> None:
    """0014: stored `token_env` names are removed; the sources themselves stay (polling)."""
    db = Database(Settings(database_url=f"sqlite:///{tmp_path / 'voice.db'}", data_dir=tmp_path))
    try:
        migrate.upgrade(db, "0013_received_at")
        sources = {
            "mastodon": [
                {
                    "server": "https://m.example",
                    "hashtags": ["a"],
                    "public": False,
                    "token_env": "WEFIRST_SECRET_KEY",
                }
            ],
            "bluesky": False,
            "rss": [],
        }
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO brands (id, name, livemode, order_salt, created_at) "
                    "VALUES ('brd_1', 'Acme', 1, :salt, '2026-03-01 00:00:00')"
                ),
                {"salt": b"s" * 32},
            )
            conn.execute(
                text(
                    "INSERT INTO voice_brand_settings (brand_id, names, aliases, handles, hashtags, "
                    "exclusions, sources, detector, updated_at) VALUES ('brd_1', '[]', '[]', '[]', '[]', "
                    "'[]', :s, '{}', '2026-03-01 00:00:00')"
                ),
                {"s": json.dumps(sources)},
            )
        migrate.upgrade(db)
        with db.engine.connect() as conn:
            after: dict[str, Any] = conn.execute(select(voice_brand_settings.c.sources)).scalar_one()
        assert after["mastodon"] == [{"server": "https://m.example", "hashtags": ["a"], "public": False}]
        assert migrate.pending_differences(db) == []
    finally:
        db.dispose()
