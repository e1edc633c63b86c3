"""A real sequencer process for the crash tests: killed with SIGKILL by the test (or by itself
right after a named step), then the log must still be consistent.

usage: python tlog_crash_worker.py '<json>' with keys database_url, data_dir, tile_dir,
mode ("step" | "loop"), crash_after, batch_size, and optionally publish_delay: seconds the
directory store waits before publishing the `checkpoint` file of a round that emptied the
queue (a busy machine descheduling the leader between recording the checkpoint and publishing
it; the test must wait for the publication instead of reading too early)."""

from __future__ import annotations

import json
import math
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.tlog.sequencer import Sequencer, has_work, integrate_batch, lock_for
from wefirst.tlog.service import LogService
from wefirst.tlog.tilestore import CHECKPOINT_PATH

from waiting import wait_until  # tests/ is on PYTHONPATH (see _run_worker)


def main() -> None:
    args = json.loads(sys.argv[1])
    settings = Settings(
        database_url=args["database_url"],
        data_dir=Path(args["data_dir"]),
        tlog_tile_dir=Path(args["tile_dir"]) if args.get("tile_dir") else None,
        base_url="http://testserver",
    )
    db = Database(settings)
    service = LogService(settings, db)
    if args["mode"] == "step":
        lock = lock_for(db)
        assert lock.acquire()
        integrate_batch(service, args["batch_size"], crash_after=args["crash_after"])
        print("survived", flush=True)
        return
    delay = float(args.get("publish_delay", 0))
    if delay and not service.is_db_store:
        put_many = service.store.put_many

        def late_publication(items: Mapping[str, bytes]) -> None:
            if CHECKPOINT_PATH in items and not has_work(db):
                time.sleep(delay)
            put_many(items)

        service.store.put_many = late_publication  # type: ignore[method-assign]
    seq = Sequencer(service, batch_size=args["batch_size"], wait_ms=5)
    # Rounds of exactly batch_size, as before rounds grew behind a backlog: a leader taking 80
    # entries a round drains the test's 600 before the test can kill it mid-run (seen on a quiet
    # machine: killed_mid_run 0). Growth has tests of its own (RoundSize, the sequencer thread).
    seq.rounds.top = args["batch_size"]
    seq.start()
    # A standby retries the lock about every second and may stay standby for the whole test.
    wait_until(lambda: seq.is_leader, timeout=math.inf, what="the sequencer lock")
    print("leader", flush=True)
    threading.Event().wait()  # sequence until killed


if __name__ == "__main__":
    main()
