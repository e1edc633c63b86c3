"""The statements one group-commit writer's thread sends, for the tests that pin how few a group
costs. Filtered by thread: the log sequencer's background rounds use the same engine."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, event

from wefirst.store.db import Database
from wefirst.store.groupcommit import GroupCommit


@contextmanager
def writer_statements(db: Database, writer: GroupCommit) -> Iterator[list[str]]:
    """Each statement on one line, whitespace collapsed, in the order sent."""
    seen: list[str] = []

    def log(_conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.current_thread().name == writer.name:
            seen.append(" ".join(statement.split()))

    event.listen(db.writer_engine, "before_cursor_execute", log)
    try:
        yield seen
    finally:
        event.remove(db.writer_engine, "before_cursor_execute", log)
