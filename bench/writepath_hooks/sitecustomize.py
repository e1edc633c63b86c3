"""Statement counting for bench/bench_writepath.py, loaded into the server's processes (and
their uvicorn workers, which are fresh interpreters) through PYTHONPATH.

Active only when WEFIRST_BENCH_STATEMENTS_DIR is set: every SQLAlchemy cursor execution, every
transaction end and every pool checkout is counted in memory, and a daemon thread writes the
totals of this process to `<dir>/<pid>.json` ten times a second (the harness sums the files
before and after a round). A file per process because uvicorn's workers share one socket, so
no request can ask a chosen worker for its counts."""

from __future__ import annotations

import os

_DIR = os.environ.get("WEFIRST_BENCH_STATEMENTS_DIR")


def _install(directory: str) -> None:
    import json
    import threading
    import time

    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    counts = {"statements": 0, "transactions": 0, "checkouts": 0}

    def statement(*_args: object) -> None:
        counts["statements"] += 1

    def transaction(*_args: object) -> None:
        counts["transactions"] += 1

    def checkout(*_args: object) -> None:
        counts["checkouts"] += 1

    event.listen(Engine, "before_cursor_execute", statement)
    event.listen(Engine, "commit", transaction)
    event.listen(Engine, "rollback", transaction)
    event.listen(Pool, "checkout", checkout)
    path = os.path.join(directory, f"{os.getpid()}.json")

    def flush() -> None:
        last: dict[str, int] = {}
        while True:
            time.sleep(0.1)
            if counts != last:
                last = dict(counts)
                tmp = path + ".tmp"
                with open(tmp, "w") as f:
                    json.dump(last, f)
                os.replace(tmp, path)

    threading.Thread(target=flush, name="bench-statement-counts", daemon=True).start()


if _DIR:
    _install(_DIR)
