"""Builds small signed logs on disk for the verifier tests (no database involved)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import rfc8785

from wefirst.store.db import Database
from wefirst.tlog.checkpoint import Checkpoint, sign_checkpoint
from wefirst.tlog.integrate import integrate
from wefirst.tlog.note import Signer
from wefirst.tlog.queue import enqueue
from wefirst.tlog.tilestore import DirectoryTileStore

ORIGIN = "verify.example/log"
SIGNER = Signer(ORIGIN, bytes(range(1, 33)))


def ledger_entries(campaigns: int = 3, per_campaign: int = 120) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for c in range(campaigns):
        cid = f"cmp_{c:026d}"
        at = "2026-11-26T06:00:00Z"
        out.append({"v": 1, "kind": "campaign_defined", "campaign": cid, "at": at})
        for i in range(per_campaign):
            out.append(
                {
                    "v": 1,
                    "kind": "pledge",
                    "campaign": cid,
                    "at": at,
                    "units": 2,
                    "money": {"amount": 150, "currency": "EUR"},
                    "commitment": f"{i:064x}",
                }
            )
        out.append(
            {
                "v": 1,
                "kind": "pledge_reversal",
                "campaign": cid,
                "at": at,
                "units": 2,
                "money": {"amount": 150, "currency": "EUR"},
            }
        )
        for kind, amount in (
            ("settlement_reported", 9000),
            ("settlement_confirmed", 8000),
            ("settlement_disputed", 1000),
        ):
            out.append(
                {
                    "v": 1,
                    "kind": kind,
                    "campaign": cid,
                    "at": at,
                    "settlement": f"stl_{c:026d}",
                    "money": {"amount": amount, "currency": "EUR"},
                }
            )
        out.append(
            {
                "v": 1,
                "kind": "delivery_reported",
                "campaign": cid,
                "at": at,
                "delivery": f"dlv_{c:026d}",
                "units": 100,
            }
        )
    return out


def expected_balance(cid: str, per_campaign: int = 120) -> dict[str, Any]:
    units = 2 * per_campaign - 2
    amount = 150 * per_campaign - 150
    return {
        "campaign_id": cid,
        "pledged": {"units": units, "money": {"amount": amount, "currency": "EUR"}},
        "paid_reported": {"amount": 9000, "currency": "EUR"},
        "paid_confirmed": {"amount": 8000, "currency": "EUR"},
        "paid_disputed": {"amount": 1000, "currency": "EUR"},
        "delivered": {"units": 100},
        "gaps": {},
    }


def build_log(root: Path, batches: list[list[dict[str, Any]]]) -> list[str]:
    """Writes the log under root (tile/, checkpoint, key); returns each batch's checkpoint."""
    store = DirectoryTileStore(root, fsync=False)
    size = 0
    notes = []
    for batch in batches:
        data = [rfc8785.dumps(e) for e in batch]
        result = integrate(store, size, data)
        size = result.size
        note = sign_checkpoint(Checkpoint(ORIGIN, size, result.root), SIGNER)
        store.put_many({"checkpoint": note.encode(), "key": SIGNER.verifier.key_string.encode()})
        notes.append(note)
    return notes


def write_api(root: Path, balances: dict[str, dict[str, Any]]) -> None:
    for cid, body in balances.items():
        path = root / "v1" / "campaigns" / cid / "balance"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(body))


def entry(i: int, **extra: object) -> dict[str, object]:
    """A small pledge entry, distinct per i, as the sequencer tests queue them."""
    return {
        "v": 1,
        "kind": "pledge",
        "campaign": "cmp_x",
        "at": "2026-11-26T06:00:00Z",
        "units": 1,
        "money": {"amount": i, "currency": "EUR"},
        "n": i,
        **extra,
    }


def fill(db: Database, start: int, count: int) -> None:
    """Queue entries start..start+count-1 in one committed transaction."""
    with db.write() as conn:
        for i in range(start, start + count):
            enqueue(conn, entry(i))
