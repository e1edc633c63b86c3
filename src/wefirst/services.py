"""The hallway of the app: every long-lived thing a request or a background thread uses, built
once from settings in `create_app`, started and stopped by the app's lifespan, and reached by
routes through one dependency, `ServicesDep`.

Why one typed object rather than attributes set on `app.state` by each area: a newcomer finds
here what the app runs with and where each piece comes from; nothing is made lazily on a first
request (the mailer and the secret box used to be built in two places each); and tests swap a
piece with `replace(app, widget=...)` instead of poking attributes that no type checker sees.

The container is frozen: its fields never change after `build`. The pieces themselves keep
state (caches, queues, threads) — that is their job."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from fastapi import Depends
from sqlalchemy import func, select
from starlette.requests import Request

from wefirst.auth.keys import ActorCache
from wefirst.cases.follow_sender import FollowSender
from wefirst.ingest.connectors import processing
from wefirst.ingest.connectors.inbox import ConnectionCache
from wefirst.ingest.connectors.worker import Sweeper
from wefirst.ledger.rollups import Rollups, Warmup
from wefirst.mail import Mailer, make_mailer
from wefirst.maintenance import Maintenance
from wefirst.metrics import Metrics
from wefirst.secretbox import SecretBox
from wefirst.settings import Settings
from wefirst.social import follow as social_follow
from wefirst.social.follow import SocialFollower
from wefirst.store.db import Database
from wefirst.store.groupcommit import GroupCommit
from wefirst.store.schema import metadata
from wefirst.tlog.sequencer import Sequencer
from wefirst.tlog.service import LogService
from wefirst.tlog.submitter import WitnessLag, WitnessSubmitter
from wefirst.voice.daycache import VoiceCache
from wefirst.webhooks import worker as webhook_worker
from wefirst.webhooks.worker import WebhookWorker
from wefirst.widget.service import WidgetService


class Runner(Protocol):
    """A background thread of the app: started by the lifespan, stopped at shutdown."""

    def start(self) -> None: ...
    def stop(self, timeout: float = 10.0) -> None: ...


@dataclass
class _Lifecycle:
    """How many servers run this app now: the same app may be served twice at once (tests do),
    and its threads start with the first and stop with the last."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    serving: int = 0


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    metrics: Metrics
    mailer: Mailer
    secret_box: SecretBox  # connectors' credentials at rest
    log: LogService  # the transparency log: signer, tiles, checkpoints, receipts
    widget: WidgetService
    # The process's event writer: widget clicks and the API's grouped event intake share its
    # groups, so a process's event transactions never queue behind each other.
    event_writer: GroupCommit
    inbox_writer: GroupCommit  # the connector inbox's group-commit writer
    connections: ConnectionCache  # connectors' decrypted connections, a few seconds
    rollups: Rollups  # pages: per-campaign daily ledger sums
    voice_days: VoiceCache  # pages: per-brand daily voice series
    sequencer: Sequencer | None  # None: `tlog_sequencer` off (another process sequences)
    # None: no witnesses configured, or `tlog_witness_submitter` off. Only the holder of the
    # "witness" lock submits; every process shows the witnesses' lag on /metrics.
    submitter: WitnessSubmitter | None
    sweeper: Sweeper | None  # None: `connectors_worker_interval_seconds` is 0
    webhook_worker: WebhookWorker | None  # None: `webhooks_worker` off
    warmup: Warmup
    follow_sender: FollowSender  # mails to the followers of cases (cases/follow_sender.py)
    maintenance: Maintenance | None = None  # None: `maintenance_interval_seconds` is 0
    social_follower: SocialFollower | None = None  # None: `social_follow` off
    # Tests and the demo serve platform clients from memory; None: as the settings say.
    connector_remotes: processing.RemotesFactory | None = None
    # API key id -> when this process last recorded its use (`last_used_at` is coarse).
    key_touches: dict[str, float] = field(default_factory=dict)
    # API keys this process checked a few seconds ago (auth/keys.py, KEY_CACHE_SECONDS).
    actors: ActorCache = field(default_factory=ActorCache)
    _life: _Lifecycle = field(default_factory=_Lifecycle, repr=False, compare=False)

    @classmethod
    def build(cls, settings: Settings, db: Database | None = None) -> Services:
        """Everything from settings; nothing starts (see `start`)."""
        db = db or Database(settings)
        log = LogService(settings, db)
        box = SecretBox.from_settings(settings)
        rollups = Rollups()
        metrics = Metrics()
        metrics.queues.sources.update(queue_depths(db))
        services: Services

        def remotes() -> processing.RemotesFactory:
            return services.remotes()

        sequencer = (
            Sequencer(log, batch_size=settings.tlog_batch_size, wait_ms=settings.tlog_batch_wait_ms)
            if settings.tlog_sequencer
            else None
        )
        submitter = None
        if log.witnesses:
            metrics.registry.register(WitnessLag(db, log.witnesses, log.base))
            if settings.tlog_witness_submitter:
                submitter = WitnessSubmitter(
                    log,
                    log.witnesses,
                    timeout=settings.tlog_witness_timeout_seconds,
                    max_backoff=settings.tlog_witness_max_backoff_seconds,
                )
                if sequencer is not None:  # woken after each batch that signed a checkpoint
                    sequencer.after_checkpoint.append(submitter.wake)
        interval = settings.connectors_worker_interval_seconds
        mailer = make_mailer(settings)
        events = GroupCommit(db, name="widget-writer")
        services = cls(
            settings=settings,
            db=db,
            metrics=metrics,
            mailer=mailer,
            secret_box=box,
            log=log,
            widget=WidgetService.from_settings(db, settings, writer=events),
            event_writer=events,
            inbox_writer=GroupCommit(db, name="connector-inbox", max_group=256),
            connections=ConnectionCache(),
            rollups=rollups,
            voice_days=VoiceCache(),
            sequencer=sequencer,
            submitter=submitter,
            sweeper=(
                Sweeper(db, box, remotes, interval, processing.claims_window(settings))
                if interval > 0
                else None
            ),
            webhook_worker=webhook_worker.from_settings(db, settings) if settings.webhooks_worker else None,
            warmup=Warmup(db, rollups),
            follow_sender=FollowSender(db, settings, mailer),
            maintenance=(
                Maintenance(db, settings, after_pass=lambda: services.wake_webhooks())
                if settings.maintenance_interval_seconds > 0
                else None
            ),
            social_follower=social_follow.from_settings(db, settings) if settings.social_follow else None,
        )
        return services

    def replace(self, **changes: Any) -> Services:
        """A copy with some pieces swapped (tests). It shares the original's lifecycle, so the
        app's shutdown stops it like the original; a new mailer is the follow mailer's too."""
        if "mailer" in changes:
            self.follow_sender.mailer = changes["mailer"]
        return dataclasses.replace(self, **changes)

    def remotes(self) -> processing.RemotesFactory:
        """The platform clients the connectors call (asked at each use: the demo and tests
        turn `connectors_fake_remote` on in a running app)."""
        return self.connector_remotes or processing.remotes_from_settings(self.settings)

    def wake_webhooks(self) -> None:
        """After a commit that queued webhooks (and, with a case's webhooks, mails to its
        followers): this process's workers send them now."""
        if self.webhook_worker is not None:
            self.webhook_worker.wake()
        self.follow_sender.wake()

    @property
    def runners(self) -> list[Runner]:
        found: list[Runner | None] = [
            self.sequencer,
            self.submitter,  # after the sequencer, which wakes it
            self.sweeper,
            self.warmup,
            self.webhook_worker,
            self.follow_sender,
            self.maintenance,
            self.social_follower,
        ]
        return [r for r in found if r is not None]

    def start(self) -> None:
        with self._life.lock:
            self._life.serving += 1
            if self._life.serving > 1:
                return
        self.log.ensure_initialised()
        for runner in self.runners:
            runner.start()

    def stop(self) -> None:
        with self._life.lock:
            self._life.serving = max(0, self._life.serving - 1)
            if self._life.serving:
                return
        for runner in reversed(self.runners):
            runner.stop()
        self.inbox_writer.stop()
        self.event_writer.stop()
        if self.widget.writer is not self.event_writer:
            self.widget.writer.stop()  # a widget swapped in by a test, with a writer of its own
        self.log.close()
        self.db.dispose()


def queue_depths(db: Database) -> dict[str, Callable[[], int]]:
    """Rows waiting in each durable queue, read when /metrics is scraped."""

    def pending(table: str, column: str) -> Callable[[], int]:
        def count() -> int:
            t = metadata.tables[table]
            with db.read() as conn:
                return int(
                    conn.execute(
                        select(func.count()).select_from(t).where(t.c[column].is_(None))
                    ).scalar_one()
                )

        return count

    def queued_entries() -> int:
        t = metadata.tables["tlog_pending"]  # the sequencer's queue: every row waits
        with db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(t)).scalar_one())

    return {
        "tlog": queued_entries,
        "connector_deliveries": pending("connector_deliveries", "processed_at"),
    }


# -- the one way in from HTTP ------------------------------------------------------------------


def attach(app: Any, services: Services) -> None:
    """Make `services` the app's (the only attribute the app keeps on its state)."""
    app.state.services = services


def services_of(app: Any) -> Services:
    found = app.state.services
    assert isinstance(found, Services), "the app was not made by create_app (no services attached)"
    return found


def replace(app: Any, **changes: Any) -> Services:
    """Swap pieces of a built app's services (tests): `replace(app, widget=...)`."""
    swapped = services_of(app).replace(**changes)
    attach(app, swapped)
    return swapped


async def get_services(request: Request) -> Services:
    """Async on purpose: FastAPI runs a plain `def` dependency in its thread pool, a cost the
    widget's click path would pay on every request."""
    return services_of(request.app)


ServicesDep = Annotated[Services, Depends(get_services)]
