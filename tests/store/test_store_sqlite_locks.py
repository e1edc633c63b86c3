"""A second Database on the same SQLite file, in the same process, must not release the locks
the first one holds: closing any descriptor of a file drops every POSIX lock the process has on
it, and the 0600 file set-up once opened the existing file to do so (the rotation drill lost its
new log's entries that way)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from wefirst.settings import Settings
from wefirst.store.db import Database


def _other_process_can_write(path: Path) -> bool:
    """POSIX locks belong to a process, so only another process can tell whether ours hold."""
    code = (
        "import sqlite3,sys\n"
        f"c=sqlite3.connect({str(path)!r}, timeout=0.2, isolation_level=None)\n"
        "try:\n"
        "    c.execute('BEGIN IMMEDIATE'); c.execute('ROLLBACK'); print('wrote')\n"
        "except sqlite3.OperationalError as e:\n"
        "    print('locked:', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.startswith("wrote")


def test_a_second_database_keeps_the_first_ones_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    settings = Settings(database_url=f"sqlite:///{path}")
    first = Database(settings)
    with first.write() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    assert _other_process_can_write(path), "nothing holds the database yet"
    with first.write() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))  # the write lock is held from here
        Database(settings)  # e.g. a CLI command run in the same process
        assert not _other_process_can_write(path), "the first engine's write lock was dropped"
    assert sqlite3.connect(path).execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_an_existing_database_file_is_still_tightened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    sqlite3.connect(path).close()
    path.chmod(0o644)
    Database(Settings(database_url=f"sqlite:///{path}"))
    assert path.stat().st_mode & 0o777 == 0o600
