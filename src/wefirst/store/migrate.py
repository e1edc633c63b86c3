"""Schema migrations through Alembic, callable from the CLI, the demo and the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from wefirst.store.db import Database
from wefirst.store.schema import metadata

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(db: Database) -> None:
    """Bring the schema to every head (areas add their own revisions)."""
    cfg = alembic_config(db.url)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


def pending_differences(db: Database) -> list[object]:
    """What the migrations miss compared with the tables in code (empty when in step)."""
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn)
        return list(compare_metadata(ctx, metadata))
