"""`wefirst demo`'s witness: one `wefirst-witness serve` as its own process beside the demo
server, so the demo's /log/checkpoint is cosigned and its trust policy can be tried on /verify.

The witness keeps its own key and SQLite state in ``<data dir>/demo-witness`` (reused on the
next run, like the demo database) and follows the demo log's key; the server submits to it like
to any witness (WEFIRST_TLOG_WITNESSES gains its line). It shares nothing with the server but
HTTP, and the demo stops it on exit."""

from __future__ import annotations

import time

from sqlalchemy import select

from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_tlog import tlog_pending
from wefirst.tlog.cosignatures import witnesses_of
from wefirst.tlog.service import LogService, latest_checkpoint
from wefirst.witness.process import WitnessProcess, start_witness

NAME = "witness.wefirst-demo.example"
DIRECTORY = "demo-witness"


def log_key(settings: Settings, db: Database) -> str:
    """The demo log's current verifier key (created on first use, like the server does)."""
    service = LogService(settings, db)
    try:
        return service.signer.verifier.key_string
    finally:
        service.close()


def start(settings: Settings, db: Database) -> tuple[Settings, WitnessProcess]:
    """Start the witness; returns the settings under which the server submits to it."""
    directory = settings.data_dir / DIRECTORY
    witness = start_witness(directory, name=NAME, follow=[log_key(settings, db)], die_with_parent=True)
    lines = [line for line in (settings.tlog_witnesses.strip(), f"{witness.key} {witness.url}") if line]
    return settings.model_copy(update={"tlog_witnesses": "\n".join(lines)}), witness


def policy(settings: Settings, db: Database) -> str | None:
    """The policy the demo deployment publishes (the campaign pages show the same)."""
    service = LogService(settings, db)
    try:
        return service.published_policy()
    finally:
        service.close()


def wait_cosigned(db: Database, witness_key: str, timeout: float = 60.0) -> int | None:
    """Wait until every queued entry is in a checkpoint this witness cosigned; that checkpoint's
    size, or None if the deadline passes first."""
    deadline = time.monotonic() + timeout
    while True:
        with db.read() as conn:
            pending = conn.execute(select(tlog_pending.c.entry_id).limit(1))
            idle = pending.first() is None
            latest = latest_checkpoint(conn)
            if idle and latest is not None and witness_key in witnesses_of(conn, latest.size):
                return latest.size
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)
