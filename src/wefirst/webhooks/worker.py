"""The background sender: claims due deliveries, signs and posts each through the transport,
records the attempt. Runs as a thread of the app (and of `wefirst voice listen`); any number of
them may run on any number of hosts, since a delivery is leased to one worker at a time.

A request never waits on a remote: areas only queue (`outbox.enqueue`), then `wake()` the
worker of their process so a fresh alert leaves within milliseconds instead of the idle poll."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from wefirst.background import BackgroundThread
from wefirst.domain.clock import utcnow
from wefirst.outbound import OutboundPolicy
from wefirst.secretbox import SecretBox
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.webhooks import endpoints, outbox, signing
from wefirst.webhooks.transport import HttpTransport, MemoryTransport, Transport

log = logging.getLogger("wefirst.webhooks")


class WebhookWorker(BackgroundThread):
    thread_name = "webhook-worker"

    def __init__(
        self,
        db: Database,
        transport: Transport,
        box: SecretBox,
        *,
        max_attempts: int = 30,
        timeout: float = 10.0,
        batch: int = 10,
        idle_seconds: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.transport = transport
        self.box = box  # opens the endpoints' sealed secrets
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.batch = batch
        self.idle_seconds = idle_seconds
        self.clock = clock
        # Longer than the worst case of one batch, so a live worker never loses its lease.
        self.lease = timedelta(seconds=timeout * batch + 60)
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._wake = threading.Event()
        super().__init__()

    def run_once(self) -> int:
        """Send what is due now; returns how many deliveries were attempted or dropped."""
        with self.db.write() as conn:
            claimed = outbox.claim(conn, self.owner, self.clock(), self.lease, self.batch)
        for item in claimed:
            now = self.clock()
            with self.db.read() as conn:
                target = endpoints.signing(conn, self.box, item.endpoint_id, now)
            if target is None:
                with self.db.write() as conn:
                    outbox.drop(conn, item)
                continue
            body = item.body.encode()
            headers = signing.headers(item.event_id, int(now.timestamp()), body, target.secrets)
            outcome = self.transport.post(target.url, body, headers, self.timeout)
            with self.db.write() as conn:
                outbox.finish(conn, item, self.owner, outcome, self.clock(), self.max_attempts)
        return len(claimed)

    def run_until_idle(self, rounds: int = 100) -> int:
        """Send everything due now (tests, CLI); returns how many were handled."""
        done = 0
        for _ in range(rounds):
            n = self.run_once()
            if n == 0:
                break
            done += n
        return done

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()  # the loop idles on _wake, not _stop
        super().stop(timeout)
        self.transport.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                handled = self.run_once()
            except Exception:  # the sender must outlive a database hiccup
                log.exception("webhook worker round failed")
                handled = 0
            if handled == 0:
                self._wake.wait(self.idle_seconds)
                self._wake.clear()


def from_settings(db: Database, settings: Settings) -> WebhookWorker:
    """The worker as configured (`WEFIRST_WEBHOOKS_*`); not started."""
    transport: Transport = (
        MemoryTransport()
        if settings.webhooks_transport == "memory"
        else HttpTransport(OutboundPolicy.from_settings(settings))
    )
    return WebhookWorker(
        db,
        transport,
        SecretBox.from_settings(settings),
        max_attempts=settings.webhooks_max_attempts,
        timeout=settings.webhooks_timeout_seconds,
    )
