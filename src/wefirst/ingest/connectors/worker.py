"""The sweep that keeps "nothing acknowledged is lost" true.

Each delivery is normally processed in a background task right after its 2xx. If the
process dies in between, or a platform API is down, the delivery stays `queued`; this thread
picks up queued deliveries older than a grace period, so it never races the fresh ones."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from fastapi import FastAPI

from wefirst.domain.clock import utcnow
from wefirst.ingest.connectors import processing
from wefirst.ingest.connectors.crypto import SecretBox
from wefirst.store.groupcommit import GroupCommit

log = logging.getLogger("wefirst.connectors")
GRACE = timedelta(seconds=30)


class Sweeper:
    def __init__(self, app: FastAPI, interval: float) -> None:
        self.app = app
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="connector-sweeper", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def sweep_once(self) -> processing.ProcessSummary:
        state = self.app.state
        box: SecretBox | None = getattr(state, "connectors_box", None)
        if box is None:
            box = SecretBox.from_settings(state.settings)
            state.connectors_box = box
        factory = getattr(state, "connector_remotes", None) or processing.remotes_from_settings(
            state.settings
        )
        return processing.process_pending(state.db, box, factory, limit=200, received_before=utcnow() - GRACE)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                summary = self.sweep_once()
                if summary.total:
                    log.info("connector sweep", extra={"fields": summary.counts})
            except Exception:  # the sweep must outlive a bad night
                log.exception("connector sweep failed")


def start(app: FastAPI) -> None:
    interval = app.state.settings.connectors_worker_interval_seconds
    if isinstance(getattr(app.state, "connector_sweeper", None), Sweeper):
        return  # the same app served twice (tests do): one sweeper, stopped once
    if interval > 0:
        sweeper = Sweeper(app, interval)
        sweeper.start()
        app.state.connector_sweeper = sweeper


def stop(app: FastAPI) -> None:
    sweeper = getattr(app.state, "connector_sweeper", None)
    if isinstance(sweeper, Sweeper):
        sweeper.stop()
        app.state.connector_sweeper = None
    writer = getattr(app.state, "connectors_writer", None)
    if isinstance(writer, GroupCommit):
        writer.stop()
        app.state.connectors_writer = None
