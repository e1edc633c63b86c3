"""Issue 13 #7: a brand's webhook signing secret (`whsec_…`) is sealed at rest, so a database
dump does not let anyone sign events the brand's receiver would trust; it still signs every
delivery, also across a rotation, and secrets an earlier version stored in clear are sealed by
the upkeep pass."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from wefirst.maintenance import run_pass
from wefirst.secretbox import SecretBox
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_webhooks import webhook_endpoints
from wefirst.webhooks import outbox, signing
from wefirst.webhooks.transport import MemoryTransport
from wefirst.webhooks.worker import WebhookWorker

from factories import auth, make_brand


def _stored(db: Database) -> str:
    with db.read() as conn:
        return repr(conn.execute(select(webhook_endpoints)).all())


def _send_one(db: Database, settings: Settings, brand_id: str) -> tuple[dict[str, str], bytes]:
    with db.write() as conn:
        outbox.enqueue(conn, brand_id, "case.opened", {"case_id": "cas_1"}, datetime.now(UTC))
    transport = MemoryTransport()
    WebhookWorker(db, transport, SecretBox.from_settings(settings)).run_until_idle()
    _, body, headers = transport.sent[-1]
    return headers, body


def test_secrets_are_sealed_at_rest_and_still_sign(
    client: TestClient, db: Database, admin_key: str, settings: Settings
) -> None:
    brand = make_brand(client, db, admin_key)
    base = f"/v1/brands/{brand.id}/voice/alert-endpoints"
    r = client.post(base, json={"url": "https://hooks.example/a"}, headers=auth(brand.key))
    assert r.status_code == 201, r.text
    first = r.json()["secret"]
    assert first.startswith("whsec_")
    dump = _stored(db)
    assert first not in dump
    assert first.removeprefix("whsec_") not in dump
    assert "whsec_" not in dump
    headers, body = _send_one(db, settings, brand.id)
    signing.verify(first, headers, body, datetime.now(UTC).timestamp())

    r = client.post(f"{base}/{r.json()['id']}/rotate-secret", headers=auth(brand.key))
    assert r.status_code == 200, r.text
    second = r.json()["secret"]
    dump = _stored(db)
    assert first not in dump
    assert second not in dump
    headers, body = _send_one(db, settings, brand.id)
    now = datetime.now(UTC).timestamp()
    signing.verify(first, headers, body, now)  # both sign during the grace period
    signing.verify(second, headers, body, now)


def test_a_secret_stored_in_clear_is_sealed_by_the_upkeep_pass(
    client: TestClient, db: Database, admin_key: str, settings: Settings
) -> None:
    brand = make_brand(client, db, admin_key)
    legacy = signing.new_secret()
    with db.write() as conn:
        conn.execute(
            insert(webhook_endpoints).values(
                id="hook_legacy",
                brand_id=brand.id,
                url="https://hooks.example/old",
                secret=legacy,
                active=True,
                created_at=datetime.now(UTC),
            )
        )
    headers, body = _send_one(db, settings, brand.id)  # read as it is until sealed
    signing.verify(legacy, headers, body, datetime.now(UTC).timestamp())

    with db.write() as conn:
        assert run_pass(conn, settings, datetime.now(UTC))["webhook_secrets_sealed"] == 1
    assert legacy not in _stored(db)
    headers, body = _send_one(db, settings, brand.id)
    signing.verify(legacy, headers, body, datetime.now(UTC).timestamp())
