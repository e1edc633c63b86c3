"""Issue 13 #10: free text typed by brands and beneficiaries (a payment's reference, a reason,
a dispute's note, a bank reference, an evidence link) goes into the public log only as a salted
SHA-256 commitment. The text stays in the database, is shown beside its commitment so anyone
holding it can check, and can be erased (`wefirst db erase-text`), leaving the commitment."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from wefirst.cli import app as cli_app
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_core import deliveries, idempotency_records, settlements
from wefirst.store.tables_texts import public_texts
from wefirst.store.tables_tlog import tlog_entries

from factories import auth, delivery, make_beneficiary, make_brand, make_campaign, payment, purchase

PERSON = "Claire Dubois claire.dubois@example.com"


def _dump(rows: Sequence[Any]) -> str:
    """Every value of the rows, in full (a Row's repr shortens long values)."""
    return " ".join(str(v) for row in rows for v in row).lower()


def _log(db: Database) -> str:
    with db.read() as conn:
        return "\n".join(
            bytes(r.data).decode()
            for r in conn.execute(select(tlog_entries.c.data).order_by(tlog_entries.c.id))
        )


def test_free_text_is_logged_only_as_a_commitment_and_can_be_erased(
    client: TestClient, db: Database, admin_key: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id)
    r = client.post("/v1/purchases", json=purchase("A-1", ("PAMPERS-S3", 3, 2499)), headers=auth(brand.key))
    assert r.status_code == 200, r.text
    r = client.post(
        f"/v1/campaigns/{cid}/settlements",
        json=payment(100_000, f"transfer from {PERSON}", beyond_owed_reason=f"advance agreed with {PERSON}"),
        headers={**auth(brand.key), "Idempotency-Key": "stl-1"},
    )
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    r = client.post(
        f"/v1/settlements/{sid}/dispute",
        json={"note": f"ask {PERSON} for the receipt"},
        headers=auth(ben.key),
    )
    assert r.status_code == 200, r.text
    r = client.post(
        f"/v1/campaigns/{cid}/deliveries",
        json=delivery(1, "https://drive.example/claire.dubois@example.com/report"),
        headers=auth(ben.key),
    )
    assert r.status_code == 201, r.text

    log = _log(db)
    assert "claire" not in log.lower()
    assert "dubois" not in log.lower()
    assert "drive.example" not in log
    entries = [json.loads(line) for line in log.splitlines()]
    reported = next(e for e in entries if e["kind"] == "settlement_reported")
    disputed = next(e for e in entries if e["kind"] == "settlement_disputed")
    delivered = next(e for e in entries if e["kind"] == "delivery_reported")

    # the API shows each text beside its commitment and salt: anyone holding the text can check
    [stl] = client.get(f"/v1/campaigns/{cid}/settlements").json()["data"]
    [dlv] = client.get(f"/v1/campaigns/{cid}/deliveries").json()["data"]
    checks = [
        (
            stl["external_reference"],
            stl["logged_as"]["external_reference"],
            reported["external_reference_sha256"],
        ),
        (
            stl["beyond_owed"]["reason"],
            stl["logged_as"]["beyond_owed_reason"],
            reported["beyond_owed"]["reason_sha256"],
        ),
        (stl["decision_note"], stl["logged_as"]["decision_note"], disputed["note_sha256"]),
        (dlv["evidence_url"], dlv["logged_as"]["evidence_url"], delivered["evidence_url_sha256"]),
    ]
    for text, shown, logged in checks:
        assert "claire" in text
        assert shown["sha256"] == logged
        assert hashlib.sha256(f"{shown['salt']}:{text}".encode()).hexdigest() == logged

    # and so does the campaign page, beside the evidence link and the dispute's note
    page = client.get(f"/campaigns/{cid}").text
    for _, shown, logged in checks[2:]:
        assert logged in page
        assert shown["salt"] in page

    with db.read() as conn:  # the stored answer to the Idempotency-Key request repeats it
        assert "claire" in _dump(conn.execute(select(idempotency_records)).all())

    # erasing a text keeps the commitment in the log and nothing else
    monkeypatch.setenv("WEFIRST_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("WEFIRST_SECRET_KEY", settings.secret_key)
    for _, _, logged in checks:
        result = CliRunner().invoke(cli_app, ["db", "erase-text", logged])
        assert result.exit_code == 0, result.output
    with db.read() as conn:
        stored = "".join(
            _dump(conn.execute(select(t)).all())
            for t in (public_texts, idempotency_records, settlements, deliveries)
        )
    assert "claire" not in stored.lower(), stored[
        max(0, stored.find("claire") - 300) : stored.find("claire") + 100
    ]
    assert _log(db) == log
    [stl] = client.get(f"/v1/campaigns/{cid}/settlements").json()["data"]
    assert stl["external_reference"] == ""
    assert stl["logged_as"]["external_reference"] == {"sha256": checks[0][2], "salt": None, "erased": True}
    page = client.get(f"/campaigns/{cid}").text
    assert "drive.example" not in page
    assert checks[3][1]["salt"] not in page

    result = CliRunner().invoke(cli_app, ["db", "erase-text", "0" * 64])
    assert result.exit_code == 2
    assert "no text with commitment" in result.output
