"""The follow mailer: the background thread that sends what `follow_events` queued, so no
request ever waits on a mail server for a case's followers (a brand answering a case with a
thousand followers answers as fast as one with none).

It looks for queued facts every `POLL_SECONDS` (one indexed read when there is nothing), and at
once when `wake()` is called after a commit that queued one (`Services.wake_webhooks`, called by
every route that answers, resolves or sweeps). Claims are guarded updates, so every process may
run one; each fact is sent by exactly one of them. A mail the server refuses is kept and tried
again with backoff, up to a bound (`follow_retries.py`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Final

from wefirst.background import BackgroundThread
from wefirst.cases import follow_events, follow_mails, follow_retries
from wefirst.domain.clock import utcnow
from wefirst.mail import Mail, Mailer, MailError
from wefirst.settings import Settings
from wefirst.store.db import Database

log = logging.getLogger("wefirst.cases.follow")
POLL_SECONDS: Final = 5.0


class FollowSender(BackgroundThread):
    thread_name = "follow-mailer"

    def __init__(
        self,
        db: Database,
        settings: Settings,
        mailer: Mailer,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.settings = settings
        self.mailer = mailer  # `Services.replace(mailer=...)` points it at the new one
        self.clock = clock
        self._wake = threading.Event()
        super().__init__()

    def wake(self) -> None:
        self._wake.set()

    def run_once(self) -> int:
        """Send everything queued now and every retry due; returns how many mails were handed
        to the mail server."""
        return self._send_queued() + self._retry_due()

    def _send_queued(self) -> int:
        sent = 0
        while True:
            with self.db.read() as conn:
                if not follow_events.has_pending(conn):
                    return sent
            with self.db.write() as conn:
                claimed = follow_events.claim(conn, self.clock())
                mails = [m for event in claimed for m in follow_mails.mails_for(conn, self.settings, event)]
            if not claimed:
                return sent
            refused = []
            for follower_id, mail in mails:
                if self._send(mail, attempt=1):
                    sent += 1
                else:
                    refused.append((follower_id, mail))
            if refused:
                with self.db.write() as conn:
                    for follower_id, mail in refused:
                        follow_retries.keep(conn, follower_id, mail, self.clock())

    def _retry_due(self) -> int:
        sent = 0
        while True:
            with self.db.write() as conn:
                due = follow_retries.claim_due(conn, self.clock())
            if not due:
                return sent
            for retry in due:
                ok = self._send(retry.mail, attempt=retry.attempts + 1)
                with self.db.write() as conn:
                    if ok:
                        follow_retries.sent(conn, retry)
                        sent += 1
                    elif not follow_retries.failed(conn, retry, self.clock()):
                        log.warning(
                            "follow mail given up",
                            extra={"fields": {"attempts": follow_retries.MAX_ATTEMPTS}},
                        )

    def _send(self, mail: Mail, *, attempt: int) -> bool:
        try:
            self.mailer.send(mail)
        except MailError as exc:
            log.warning(
                "follow mail not sent", extra={"fields": {"attempt": attempt, "error": str(exc)[:200]}}
            )
            return False
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.run_once()
            except Exception:  # a database hiccup must not end the thread
                log.exception("follow mailer pass failed")

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        super().stop(timeout)
