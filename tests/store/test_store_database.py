"""`with Database(settings) as db:` closes its pooled connections when the block ends, however
it ends: a CLI command run in-process (or a test) leaves nothing for the garbage collector,
which on PostgreSQL would warn "connection deleted while still open" in whatever runs next."""

from __future__ import annotations

import pytest
from sqlalchemy import QueuePool, text

from wefirst.settings import Settings
from wefirst.store.db import Database


def _pooled(db: Database) -> int:
    engines = {id(db.engine): db.engine, id(db._read_engine): db._read_engine}
    total = 0
    for engine in engines.values():
        assert isinstance(engine.pool, QueuePool)
        total += engine.pool.checkedin()
    return total


def test_the_block_closes_every_pooled_connection(settings: Settings) -> None:
    with Database(settings) as db:
        with db.write() as conn:
            conn.execute(text("SELECT 1"))
        with db.read() as conn:
            conn.execute(text("SELECT 1"))
        assert _pooled(db) >= 1  # kept between transactions while the command runs
    assert _pooled(db) == 0


def test_an_error_in_the_block_still_closes_them(settings: Settings) -> None:
    class Boom(Exception):
        pass

    opened: list[Database] = []

    def command() -> None:
        with Database(settings) as db:
            opened.append(db)
            with db.read() as conn:
                conn.execute(text("SELECT 1"))
            raise Boom

    with pytest.raises(Boom):
        command()
    assert _pooled(opened[0]) == 0
