"""A real sequencer process for the crash tests: killed with SIGKILL by the test (or by itself
right after a named step), then the log must still be consistent.

usage: python tlog_crash_worker.py '<json>' with keys database_url, data_dir, tile_dir,
mode ("step" | "loop"), crash_after, batch_size."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.tlog.sequencer import Sequencer, integrate_batch, lock_for
from wefirst.tlog.service import LogService


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
    seq = Sequencer(service, batch_size=args["batch_size"], wait_ms=5)
    seq.start()
    announced = False
    while True:
        if seq.is_leader and not announced:
            print("leader", flush=True)
            announced = True
        time.sleep(0.01)


if __name__ == "__main__":
    main()
