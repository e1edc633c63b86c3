"""0029_tlog_index: a log whose indexes sat in the payload rows (`tlog_entries.idx`) moves to the
narrow `tlog_index` without one leaf, tile, bundle or checkpoint changing; entries still waiting,
and a batch that was cut short, are integrated afterwards exactly as before. And the queue's
trigger files every way an entry is inserted (one row, multi-row INSERT, COPY)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import func, insert, select, text

from wefirst.settings import Settings
from wefirst.store import migrate
from wefirst.store.bulk import COPY_MIN_ROWS, deferred, insert_rows
from wefirst.store.db import Database
from wefirst.store.tables_tlog import tlog_checkpoints, tlog_entries, tlog_index, tlog_pending, tlog_tiles
from wefirst.tlog.checkpoint import Checkpoint, sign_checkpoint
from wefirst.tlog.dbstore import DbTileStore
from wefirst.tlog.hashing import leaf_hash, root_from_leaf_hashes
from wefirst.tlog.integrate import compute
from wefirst.tlog.queue import canonical, enqueue, enqueue_many
from wefirst.tlog.sequencer import integrate_batch
from wefirst.tlog.service import LogService, record_checkpoint
from wefirst.tlog.tiles import encode_bundle
from wefirst.tlog.tilestore import MemoryTileStore

BEFORE = "0028_social_tokens"


def _entry(i: int) -> bytes:
    return canonical(
        {"v": 1, "kind": "pledge", "campaign": f"cmp_{i % 3}", "units": i, "commitment": f"{i:064x}"}
    )


def test_an_old_log_moves_to_the_narrow_index_with_every_byte_unchanged(fresh: Settings) -> None:
    db = Database(fresh)
    try:
        migrate.upgrade(db, BEFORE)
        service = LogService(fresh, db)
        service.ensure_initialised()
        entries = [_entry(i) for i in range(10)]
        # The old layout: 0..4 integrated under a signed checkpoint, 5..6 given their indexes by
        # a round that was cut short, 7..9 still waiting (idx NULL).
        with db.write() as conn:
            for i, e in enumerate(entries):
                conn.execute(
                    text(
                        "INSERT INTO tlog_entries (data, commitment, created_at, idx)"
                        " VALUES (:d, :c, :at, :idx)"
                    ),
                    {"d": e, "c": f"{i:064x}", "at": datetime.now(UTC), "idx": i if i < 7 else None},
                )
            memory = MemoryTileStore()
            old = compute(memory.get, 0, entries[:5])
            note = sign_checkpoint(Checkpoint(service.origin, old.size, old.root), service.signer)
            tiles = {p: d for p, d in old.items.items() if not p.startswith("tile/entries/")}
            conn.execute(insert(tlog_tiles), [{"path": p, "data": d} for p, d in tiles.items()])
            record_checkpoint(conn, 5, old.root, note)
            ids = {
                int(r.idx): int(r.id)
                for r in conn.execute(text("SELECT id, idx FROM tlog_entries WHERE idx IS NOT NULL"))
            }
            waiting = [int(r.id) for r in conn.execute(text("SELECT id FROM tlog_entries WHERE idx IS NULL"))]
        service.close()

        migrate.upgrade(db)
        assert migrate.pending_differences(db) == []
        with db.read() as conn:
            assert {int(r.idx): int(r.entry_id) for r in conn.execute(select(tlog_index))} == {
                i: ids[i] for i in range(7)
            }
            assert sorted(conn.execute(select(tlog_pending.c.entry_id)).scalars()) == sorted(waiting)
            kept = {r.path: bytes(r.data) for r in conn.execute(select(tlog_tiles))}
            assert kept == tiles
            assert conn.execute(select(tlog_checkpoints.c.note)).scalars().all()[-1] == note
        store = DbTileStore(db)
        assert store.get("tile/entries/000.p/5") == encode_bundle(entries[:5])
        assert store.get("tile/0/000.p/5") == b"".join(leaf_hash(e) for e in entries[:5])

        service = LogService(fresh, db)
        first = integrate_batch(service, 100)
        assert (first.recovered, first.size, first.integrated) == (True, 7, 2)  # the cut-short round
        second = integrate_batch(service, 100)
        assert (second.recovered, second.size, second.integrated) == (False, 10, 3)
        assert integrate_batch(service, 100).integrated == 0
        assert store.get("tile/entries/000.p/10") == encode_bundle(entries)
        with db.read() as conn:
            latest = conn.execute(
                select(tlog_checkpoints.c.size, tlog_checkpoints.c.root).order_by(
                    tlog_checkpoints.c.size.desc()
                )
            ).first()
            assert conn.execute(select(func.count()).select_from(tlog_pending)).scalar_one() == 0
        assert latest is not None
        assert (latest.size, bytes(latest.root)) == (
            10,
            root_from_leaf_hashes([leaf_hash(e) for e in entries]),
        )
        receipt = service.receipt(f"{3:064x}")
        assert receipt is not None
        assert receipt["index"] == 3
        service.close()

        # And back: the payload rows get their idx again.
        cfg = migrate.alembic_config(db.url)
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, BEFORE)
        with db.read() as conn:
            back = {int(r.id): r.idx for r in conn.execute(text("SELECT id, idx FROM tlog_entries"))}
        assert sorted(back.values()) == list(range(10))
        assert all(back[ids[i]] == i for i in range(7))
    finally:
        db.dispose()


def test_every_way_of_inserting_an_entry_queues_it(db: Database, settings: Settings) -> None:
    """One row, a multi-row INSERT, (PostgreSQL) COPY for a big group and a WITH … INSERT of a
    deferred group: each entry is filed in the queue by the table's trigger, in the same
    statement, and the sequencer takes them."""
    with db.write() as conn:
        enqueue(conn, {"v": 1, "kind": "test", "n": 0})
        enqueue_many(conn, [({"v": 1, "kind": "test", "n": n}, None) for n in range(1, 4)])
        enqueue_many(conn, [({"v": 1, "kind": "test", "n": n}, None) for n in range(4, 4 + COPY_MIN_ROWS)])
        # A group-commit writer's rows: on PostgreSQL one WITH … INSERT statement with others.
        with deferred(conn):
            enqueue_many(conn, [({"v": 1, "kind": "test", "n": -n}, None) for n in range(1, 4)])
            insert_rows(
                conn,
                tlog_entries,
                [{"data": b'{"n":-9}', "commitment": None, "created_at": datetime.now(UTC)}],
            )
    with db.read() as conn:
        ids: list[int] = sorted(conn.execute(select(tlog_entries.c.id)).scalars())
        queued: list[int] = sorted(conn.execute(select(tlog_pending.c.entry_id)).scalars())
    assert len(ids) == 4 + COPY_MIN_ROWS + 4
    assert queued == ids
    service = LogService(settings.model_copy(update={"tlog_sequencer": False}), db)
    assert integrate_batch(service, 10_000).integrated == len(ids)
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(tlog_pending)).scalar_one() == 0
        indexed: list[int] = list(
            conn.execute(select(tlog_index.c.entry_id).order_by(tlog_index.c.idx)).scalars()
        )
    assert indexed == ids  # oldest first
    service.close()


def test_a_rolled_back_entry_leaves_nothing_queued(db: Database) -> None:
    class Boom(Exception):
        pass

    def fail() -> None:
        with db.write() as conn:
            enqueue(conn, {"v": 1, "kind": "test"})
            raise Boom

    with pytest.raises(Boom):
        fail()
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(tlog_pending)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(tlog_entries)).scalar_one() == 0
