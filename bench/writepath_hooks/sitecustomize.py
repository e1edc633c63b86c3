"""Statement counting for bench/bench_writepath.py, loaded into the server's processes (and
their uvicorn workers, which are fresh interpreters) through PYTHONPATH.

Active only when WEFIRST_BENCH_STATEMENTS_DIR is set: every SQLAlchemy cursor execution, every
transaction end (commits and rollbacks apart) and every pool checkout is counted in memory, and
so are the write path's contention retries: a group-commit attempt whose optimistic counter read
was overtaken (`Contended`: the group is rolled back and applied again with the lock first) and
a grouped API request sent to the writer again (a key stored meanwhile by another process, or a
deadlock). Those are the cost of several workers writing the same campaign; and a daemon thread writes the
totals of this process to `<dir>/<pid>.json` ten times a second (the harness sums the files
before and after a round). A file per process because uvicorn's workers share one socket, so
no request can ask a chosen worker for its counts."""

from __future__ import annotations

import os
from typing import Any

_DIR = os.environ.get("WEFIRST_BENCH_STATEMENTS_DIR")


def _install(directory: str) -> None:
    import json
    import threading
    import time

    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    names = ("statements", "transactions", "rollbacks", "checkouts", "contended", "retries")
    counts = dict.fromkeys(names, 0)

    # WEFIRST_BENCH_STATEMENT_KINDS=1: also count statements by their first 60 characters
    # (`kind:<text>` keys), to see which ones an event costs
    kinds = bool(os.environ.get("WEFIRST_BENCH_STATEMENT_KINDS"))

    def statement(_conn: object, _cursor: object, text: str, *_args: object) -> None:
        counts["statements"] += 1
        if kinds:
            key = "kind:" + " ".join(text.split())[:60]
            counts[key] = counts.get(key, 0) + 1

    def transaction(*_args: object) -> None:
        counts["transactions"] += 1

    def rollback(*_args: object) -> None:
        counts["transactions"] += 1
        counts["rollbacks"] += 1

    def checkout(*_args: object) -> None:
        counts["checkouts"] += 1

    _count_retries(counts)

    event.listen(Engine, "before_cursor_execute", statement)
    event.listen(Engine, "commit", transaction)
    event.listen(Engine, "rollback", rollback)
    event.listen(Pool, "checkout", checkout)
    path = os.path.join(directory, f"{os.getpid()}.json")

    def flush() -> None:
        last: dict[str, int] = {}
        while True:
            time.sleep(0.1)
            try:
                now = dict(counts)
            except RuntimeError:  # a new statement kind was added while copying
                continue
            if now != last:
                last = now
                tmp = path + ".tmp"
                with open(tmp, "w") as f:
                    json.dump(last, f)
                os.replace(tmp, path)

    threading.Thread(target=flush, name="bench-statement-counts", daemon=True).start()


def _count_retries(counts: dict[str, int]) -> None:
    """Wrap the two places that decide a retry, keeping their answers."""
    from wefirst.api import grouped
    from wefirst.store import groupcommit

    class CountedContended(groupcommit.Contended):
        def __init__(self, *args: object) -> None:
            counts["contended"] += 1
            super().__init__(*args)

    from sqlalchemy.exc import DBAPIError

    decide = grouped._retry

    def retry(exc: DBAPIError) -> bool:
        again = decide(exc)
        counts["retries"] += again
        return again

    # `batch.py` raises the name it imported; `except`/`isinstance` still match the subclass
    from wefirst.pledges import batch

    batch.Contended = CountedContended  # type: ignore[attr-defined]
    grouped._retry = retry

    # a COPY goes to the driver's cursor, past SQLAlchemy's events: count it as the statement it is
    from collections.abc import Sequence

    from sqlalchemy import Connection, Table

    try:
        from wefirst.store import bulk
    except ImportError:  # an older checkout measured for a before/after table
        return

    copy = bulk._copy

    def counted_copy(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        counts["statements"] += 1
        copy(conn, table, rows)

    bulk._copy = counted_copy


if _DIR:
    _install(_DIR)
