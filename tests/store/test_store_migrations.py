"""The migration chain stays linear, and databases made when each area branched from
0001_core still upgrade."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from wefirst.settings import Settings
from wefirst.store import migrate
from wefirst.store.db import Database

OLD_AREA_HEADS = ["0002_tlog", "0003_connectors", "0004_voice", "0005_widget", "0006_cases", "0007_web"]


def test_the_chain_has_exactly_one_head() -> None:
    assert len(migrate.heads()) == 1, migrate.heads()


def test_a_database_with_the_old_area_heads_upgrades_to_the_one_head(tmp_path: Path) -> None:
    db = Database(Settings(database_url=f"sqlite:///{tmp_path / 'old.db'}", data_dir=tmp_path))
    try:
        # The schema as it was when the areas branched (up to the last of them), not the head:
        # revisions added since must still run on such a database.
        migrate.upgrade(db, OLD_AREA_HEADS[-1])
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version"))
            for rev in OLD_AREA_HEADS:
                conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": rev})
        migrate.upgrade(db)
        with db.engine.connect() as conn:
            rows = [r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
        assert rows == migrate.heads()
        assert migrate.pending_differences(db) == []
    finally:
        db.dispose()
