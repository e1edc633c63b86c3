"""A brand's social access tokens (Mastodon streaming and quotes answer only the post's
author): sealed at rest with the secret box, never shown back, only the brand's own."""

from __future__ import annotations

import base64

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from wefirst.secretbox import SecretBoxError
from wefirst.services import services_of
from wefirst.social.tokens import open_token
from wefirst.store.db import Database
from wefirst.store.tables_social import social_tokens

from factories import auth, make_brand

TOKEN = "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0"
URL = "/v1/brands/{}/social/tokens"


def _put(client: TestClient, brand_id: str, key: str, **over: str) -> httpx.Response:
    body = {"network": "mastodon", "server": "https://masto.example/", "token": TOKEN, **over}
    r: httpx.Response = client.put(URL.format(brand_id), json=body, headers=auth(key))
    return r


def test_a_token_is_sealed_at_rest_and_never_shown_back(
    client: TestClient, app: FastAPI, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    r = _put(client, brand.id, brand.key)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["server"] == "https://masto.example"
    assert len(got["fingerprint"]) == 12
    listed = client.get(URL.format(brand.id), headers=auth(brand.key))
    assert listed.json()["data"] == [got]
    for text in (r.text, listed.text):
        assert TOKEN not in text
    with db.read() as conn:
        row = conn.execute(select(social_tokens)).one()
    stored = b"".join(str(v).encode() if not isinstance(v, bytes) else v for v in row)
    for form in (TOKEN.encode(), base64.b64encode(TOKEN.encode()), TOKEN.encode().hex().encode()):
        assert form not in stored
    box = services_of(app).secret_box
    with db.read() as conn:
        assert open_token(conn, box, brand.id, "mastodon", "https://masto.example") == TOKEN


def test_a_sealed_token_copied_to_another_brand_does_not_open(
    client: TestClient, app: FastAPI, db: Database, admin_key: str
) -> None:
    a = make_brand(client, db, admin_key, name="A")
    b = make_brand(client, db, admin_key, name="B")
    assert _put(client, a.id, a.key).status_code == 200
    assert _put(client, b.id, b.key, token="another-token-of-b").status_code == 200
    with db.write() as conn:
        sealed = conn.execute(select(social_tokens.c.sealed).where(social_tokens.c.brand_id == a.id)).scalar()
        conn.execute(update(social_tokens).where(social_tokens.c.brand_id == b.id).values(sealed=sealed))
    with db.read() as conn, pytest.raises(SecretBoxError):
        open_token(conn, services_of(app).secret_box, b.id, "mastodon", "https://masto.example")


def test_only_the_brand_sets_reads_or_removes_its_tokens(
    client: TestClient, db: Database, admin_key: str
) -> None:
    owner = make_brand(client, db, admin_key, name="Owner")
    other = make_brand(client, db, admin_key, name="Other")
    assert _put(client, owner.id, owner.key).status_code == 200
    assert _put(client, owner.id, other.key).status_code in (403, 404)
    assert client.get(URL.format(owner.id), headers=auth(other.key)).status_code in (403, 404)
    assert client.get(URL.format(owner.id)).status_code == 401
    gone = {"network": "mastodon", "server": "https://masto.example"}
    assert client.delete(URL.format(owner.id), params=gone, headers=auth(other.key)).status_code in (403, 404)
    assert client.delete(URL.format(owner.id), params=gone, headers=auth(owner.key)).status_code == 204
    assert client.get(URL.format(owner.id), headers=auth(owner.key)).json()["data"] == []
    assert client.delete(URL.format(owner.id), params=gone, headers=auth(owner.key)).status_code == 404


def test_bad_tokens_are_refused_naming_the_field_and_nothing_is_stored(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    cases = [
        ({"server": "http://masto.example"}, "server"),
        ({"server": "https://10.0.0.5"}, "server"),
        ({"server": "https://localhost"}, "server"),
        ({"token": "short"}, "token"),
        ({"token": "has spaces in it"}, "token"),
        ({"network": "bluesky"}, "network"),
    ]
    for over, field in cases:
        r = _put(client, brand.id, brand.key, **over)
        assert r.status_code == 422, (over, r.text)
        assert field in {e["field"] for e in r.json()["errors"]}, r.text
        assert TOKEN not in r.text
    with db.read() as conn:
        assert conn.execute(select(social_tokens)).all() == []
