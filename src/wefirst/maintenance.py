"""The periodic upkeep, run by the app itself: what must not pile up is purged on a schedule,
whether or not an operator remembered a cron line.

One pass (`run_pass`) does, in one write transaction: the cases sweep (overdue complaints marked
unanswered, expired co-sign requests forgotten, rate-limit rows no window sees any more),
Idempotency-Key answers older than `idempotency_retention_days`, expired sign-in links, and
webhook deliveries (with their attempts) finished longer ago than `webhooks_retention_days`,
and webhook secrets an earlier version stored in clear get sealed.
`wefirst db purge` runs the same pass by hand.

One runner across processes and hosts: every API process has a `Maintenance` thread, but a pass
runs only in the holder of the "maintenance" single-runner lock (the sequencer's mechanism: a
PostgreSQL advisory lock, or a file lock next to a SQLite file), and only when the database's
own rate limiter grants the one pass allowed per `maintenance_interval_seconds`, so a restart or
a lock changing hands never runs two passes in one interval."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select

from wefirst import ratelimit
from wefirst.background import BackgroundThread
from wefirst.cases.sweep import run_sweep
from wefirst.domain.clock import utcnow
from wefirst.errors import TooManyRequests
from wefirst.ingest.idempotency import purge_expired
from wefirst.secretbox import SecretBox
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_web import web_magic_links
from wefirst.store.tables_webhooks import webhook_attempts, webhook_deliveries
from wefirst.tlog.sequencer import lock_for
from wefirst.webhooks import endpoints

log = logging.getLogger("wefirst.maintenance")
CHECK_SECONDS = 60.0
"""How often each process asks whether a pass is due (one cheap query when it is not)."""


def run_pass(conn: Connection, settings: Settings, now: datetime) -> dict[str, int]:
    """Everything the retention settings say to drop, as of `now`; returns rows per kind."""
    swept = run_sweep(conn, settings, now)
    done = {
        "cases_marked_unanswered": len(swept.marked),
        "cosign_requests_forgotten": swept.purged_unconfirmed,
        "rate_limit_rows": swept.pruned_rate_events,
        "idempotency_records": purge_expired(conn, settings.idempotency_retention_days),
        "magic_links": int(
            conn.execute(delete(web_magic_links).where(web_magic_links.c.expires_at < now)).rowcount or 0
        ),
    }
    cutoff = now - timedelta(days=settings.webhooks_retention_days)
    d = webhook_deliveries.c
    old = select(d.id).where(d.state.in_(["delivered", "failed"]), d.created_at < cutoff).scalar_subquery()
    conn.execute(delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(old)))
    done["webhook_deliveries"] = int(
        conn.execute(
            delete(webhook_deliveries).where(d.state.in_(["delivered", "failed"]), d.created_at < cutoff)
        ).rowcount
        or 0
    )
    done["webhook_secrets_sealed"] = endpoints.seal_legacy(conn, SecretBox.from_settings(settings))
    return done


def _slot(settings: Settings) -> ratelimit.Limit:
    window = timedelta(seconds=max(settings.maintenance_interval_seconds, 1.0))
    return ratelimit.Limit("maintenance", "pass", 1, window, "the maintenance schedule")


class Maintenance(BackgroundThread):
    """The app's upkeep thread; `after_pass` is told when a pass may have queued webhooks."""

    thread_name = "maintenance"

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        after_pass: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.after_pass = after_pass
        self.lock = lock_for(db, "maintenance")
        super().__init__()

    def run_once(self) -> dict[str, int] | None:
        """One pass if this process holds the lock and none ran within the interval; else None."""
        if not self.lock.acquire():
            return None
        try:
            now = self.clock()
            with self.db.write() as conn:
                try:
                    ratelimit.take(conn, [_slot(self.settings)], now, action="maintenance")
                except TooManyRequests:
                    return None
                done = run_pass(conn, self.settings, now)
        finally:
            self.lock.release()
        if done["cases_marked_unanswered"] and self.after_pass is not None:
            self.after_pass()
        if any(done.values()):
            log.info("maintenance pass", extra={"fields": done})
        return done

    def _run(self) -> None:
        wait = min(CHECK_SECONDS, max(self.settings.maintenance_interval_seconds, 1.0))
        while not self._stop.wait(wait):
            try:
                self.run_once()
            except Exception:  # the upkeep must outlive a database hiccup
                log.exception("maintenance pass failed")
