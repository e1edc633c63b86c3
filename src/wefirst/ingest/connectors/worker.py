"""The sweep that keeps "nothing acknowledged is lost" true.

Each delivery is normally processed in a background task right after its 2xx. If the
process dies in between, or a platform API is down, the delivery stays `queued`; this thread
picks up queued deliveries older than a grace period, so it never races the fresh ones."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from wefirst.background import BackgroundThread
from wefirst.domain.claims import ClaimWindow
from wefirst.domain.clock import utcnow
from wefirst.ingest.connectors import processing
from wefirst.secretbox import SecretBox
from wefirst.store.db import Database

log = logging.getLogger("wefirst.connectors")
GRACE = timedelta(seconds=30)


class Sweeper(BackgroundThread):
    """The sweep thread of one app; `remotes` is asked on every sweep (tests and the demo swap
    the platform clients)."""

    thread_name = "connector-sweeper"

    def __init__(
        self,
        db: Database,
        box: SecretBox,
        remotes: Callable[[], processing.RemotesFactory],
        interval: float,
        window: ClaimWindow | None = None,
    ) -> None:
        self.db = db
        self.window = window
        self.box = box
        self.remotes = remotes
        self.interval = interval
        super().__init__()

    def sweep_once(self) -> processing.ProcessSummary:
        return processing.process_pending(
            self.db,
            self.box,
            self.remotes(),
            limit=200,
            received_before=utcnow() - GRACE,
            window=self.window,
        )

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                summary = self.sweep_once()
                if summary.total:
                    log.info("connector sweep", extra={"fields": summary.counts})
            except Exception:  # the sweep must outlive a bad night
                log.exception("connector sweep failed")
