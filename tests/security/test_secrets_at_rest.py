"""Issue 13, finding 7: secrets at rest. Idempotency records kept full answers (new API keys,
`whsec_` secrets, opener tokens, receipt secrets) in clear for 21 days, and the SQLite file
was created 0644. Replays now answer without the secrets (saying so), and the database file
is private to its owner."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from wefirst.ingest.idempotency import NOT_REPLAYED
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_core import idempotency_records

from factories import auth, make_beneficiary, make_brand, make_campaign, purchase


def _stored(db: Database) -> str:
    with db.read() as conn:
        return " ".join(r.response for r in conn.execute(select(idempotency_records.c.response)))


def test_replays_never_store_secrets_shown_once(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id)
    calls = [
        ("/v1/keys", {"role": "brand", "owner_id": brand.id}, admin_key),
        (f"/v1/brands/{brand.id}/voice/alert-endpoints", {"url": "https://h.brand.example/in"}, brand.key),
        ("/v1/purchases", purchase("S-1", ("PAMPERS-1", 1, 100), campaign_id=cid), brand.key),
    ]
    shown: list[str] = []
    for n, (url, body, key) in enumerate(calls):
        h = auth(key) | {"Idempotency-Key": f"k-{n}"}
        first = client.post(url, json=body, headers=h)
        assert first.status_code in (200, 201), first.text
        again = client.post(url, json=body, headers=h)
        assert again.headers["Idempotent-Replayed"] == "true"
        if url == "/v1/purchases":
            receipt = first.json()["results"][0]["receipt"]
            shown.append(receipt["secret"])
            assert again.json()["results"][0]["receipt"]["secret"] == NOT_REPLAYED
            assert again.json()["results"][0]["receipt"]["url"] == NOT_REPLAYED
        else:
            shown.append(first.json()["secret"])
            assert again.json()["secret"] == NOT_REPLAYED
    stored = _stored(db)
    for secret in shown:
        assert secret not in stored


def test_the_sqlite_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    old = os.umask(0o022)  # a usual umask: files would be 0644
    try:
        db = Database(Settings(database_url=f"sqlite:///{path}", data_dir=tmp_path))
        with db.write() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        for p in tmp_path.glob("fresh.db*"):
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        db.dispose()
        # an existing file made by an older version is tightened on open
        path.chmod(0o644)
        Database(Settings(database_url=f"sqlite:///{path}", data_dir=tmp_path)).dispose()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(old)
