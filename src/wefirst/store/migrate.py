"""Schema migrations through Alembic, callable from the CLI, the demo and the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from wefirst.store.db import Database
from wefirst.store.schema import metadata

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(db: Database, target: str = "head") -> None:
    """Bring the schema to the one head of the linear chain (or to `target`, for tests that
    need the schema as an older release left it)."""
    cfg = alembic_config(db.url)
    with db.engine.begin() as conn:
        _collapse_old_heads(conn, ScriptDirectory.from_config(cfg))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, target)


def heads() -> list[str]:
    """The chain's heads: exactly one, or the next `alembic revision` refuses to run."""
    return list(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def _collapse_old_heads(conn: Connection, script: ScriptDirectory) -> None:
    """Databases made before the chain was linear record one row per area revision (all
    applied, all branching from 0001_core). Now that each follows the one before, the newest
    of them stands for all; without this Alembic would see overlapping heads and refuse."""
    if not inspect(conn).has_table("alembic_version"):
        return
    current = [r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
    if len(current) < 2:
        return
    ancestors = {
        rev.revision
        for head in current
        for rev in script.iterate_revisions(head, "base")
        if rev.revision != head
    }
    newest = [r for r in current if r not in ancestors]
    if len(newest) != 1:
        raise RuntimeError(f"alembic_version holds unrelated revisions: {sorted(current)}")
    conn.execute(text("DELETE FROM alembic_version"))
    conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": newest[0]})


def pending_differences(db: Database) -> list[object]:
    """What the migrations miss compared with the tables in code (empty when in step)."""
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn)
        return list(compare_metadata(ctx, metadata))
