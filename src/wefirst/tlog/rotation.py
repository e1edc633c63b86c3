"""`wefirst log rotate`: retire the current log's key by starting the next log.

In one database transaction, holding the sequencer lock:

1. the current log gets its last entry, ``log_successor`` (next origin and key), and its final
   checkpoint, signed with the current key — it never grows again;
2. the next log is recorded (``tlog_logs``: origin = first origin + ``/<n>``, key, base);
3. its entry 0, ``log_handover``, carries that final checkpoint and a statement signed by the
   current (old) key naming the new key (``tlog/handover.py``), and its first checkpoint is
   signed with the new key;
4. what the submitter knew of the witnesses is forgotten: for them the new origin is a new log.

Entries queued meanwhile stay queued and land in the new log after the handover. Needs the
database tile store (a directory log would have to move files outside the transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, delete, insert, select

from wefirst.store.tables_tlog import tlog_entries, tlog_index, tlog_logs, tlog_pending, tlog_witness_state
from wefirst.tlog.checkpoint import Checkpoint, parse_signed_checkpoint, sign_checkpoint
from wefirst.tlog.dbstore import DbTileStore
from wefirst.tlog.errors import TlogError
from wefirst.tlog.generations import next_origin
from wefirst.tlog.handover import handover_entry, successor_entry
from wefirst.tlog.integrate import compute
from wefirst.tlog.keys import write_new_key
from wefirst.tlog.note import Signer
from wefirst.tlog.queue import canonical
from wefirst.tlog.sequencer import integrate_batch, lock_for
from wefirst.tlog.service import LogService, key_path_for, latest_checkpoint, record_checkpoint


class RotationRefused(TlogError):
    """The log cannot be rotated now (another sequencer runs, or a directory tile store)."""


@dataclass(frozen=True)
class Rotation:
    old_origin: str
    old_final_size: int
    number: int
    origin: str
    key: str  # the new verifier key line


def rotate(service: LogService, key_out: Path, *, now: datetime | None = None) -> Rotation:
    if not isinstance(service.store, DbTileStore):
        raise RotationRefused("key rotation needs the database tile store (WEFIRST_TLOG_TILE_DIR unset)")
    lock = lock_for(service.db)
    if not lock.acquire():
        raise RotationRefused(
            "a sequencer holds the lock: stop every server and `wefirst log integrate` first"
        )
    try:
        while integrate_batch(service, service.settings.tlog_batch_size).integrated:
            pass  # everything accepted so far belongs to the old log
        current = service.current
        number = current.number + 1
        origin = next_origin(service.generations[0].origin, number)
        new_signer = write_new_key(key_out, origin)
        at = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        with service.db.write() as conn:
            latest = latest_checkpoint(conn)
            assert latest is not None
            successor = canonical(successor_entry(new_signer.verifier, at))
            final_note = _append(
                conn, service.store, current.base, latest.size, current.origin, service.signer, successor
            )
            final = parse_signed_checkpoint(final_note)
            base = current.base + final.checkpoint.size
            if current.number == 1 and conn.execute(select(tlog_logs.c.generation)).first() is None:
                _record(
                    conn,
                    1,
                    current.origin,
                    service.signer.verifier.key_string,
                    key_path_for(service.settings),
                    0,
                )
            _record(conn, number, origin, new_signer.verifier.key_string, key_out, base)
            handover = canonical(handover_entry(service.signer, final, new_signer.verifier, at))
            _append(
                conn, DbTileStore(service.db, f"{number}/", base), base, base, origin, new_signer, handover
            )
            conn.execute(delete(tlog_witness_state))
    finally:
        lock.release()
    return Rotation(current.origin, final.checkpoint.size, number, origin, new_signer.verifier.key_string)


def _append(
    conn: Connection,
    store: DbTileStore,
    base: int,
    stored_size: int,
    origin: str,
    signer: Signer,
    entry: bytes,
) -> str:
    """One entry at global index ``stored_size``, integrated and signed at once; the note."""
    pk = conn.execute(
        insert(tlog_entries).values(data=entry, commitment=None, created_at=datetime.now(UTC))
    ).inserted_primary_key
    assert pk is not None
    # Indexed here, not by the sequencer: out of the queue (the insert's trigger filed it).
    conn.execute(insert(tlog_index).values(idx=stored_size, entry_id=pk[0]))
    conn.execute(delete(tlog_pending).where(tlog_pending.c.entry_id == pk[0]))
    result = compute(lambda path: store.get_in(conn, path), stored_size - base, [entry])
    note = sign_checkpoint(Checkpoint(origin, result.size, result.root), signer)
    store.write(conn, result.items)
    record_checkpoint(conn, base + result.size, result.root, note)
    return note


def _record(conn: Connection, number: int, origin: str, key: str, key_path: Path, base: int) -> None:
    conn.execute(
        insert(tlog_logs).values(
            generation=number,
            origin=origin,
            key=key,
            key_path=str(key_path.resolve()),
            base=base,
            created_at=datetime.now(UTC),
        )
    )
