"""The app factory. Everything a request needs lives on `app.state`, built in the lifespan,
so tests can build as many apps as they like with different settings in one process."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from wefirst import __version__
from wefirst.api import (
    campaigns,
    deps,
    events,
    keys,
    pages,
    parties,
    problems,
    publishers,
    settlements,
    widget,
)
from wefirst.api import cases as cases_api
from wefirst.api import connectors as connectors_api
from wefirst.api import log as log_api
from wefirst.api import voice as voice_api
from wefirst.api.metrics import Metrics
from wefirst.ingest.connectors import worker as connector_worker
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.tlog import sequencer as tlog_sequencer
from wefirst.tlog import submitter as witness_submitter
from wefirst.web import warmup as web_warmup
from wefirst.webhooks import worker as webhook_worker

log = logging.getLogger("wefirst.http")

ROUTERS = [
    widget.router,  # first: routes are matched in order, and widget clicks are the hottest path
    parties.router,
    campaigns.router,
    settlements.router,
    events.router,
    keys.router,
    publishers.router,
    cases_api.router,
    log_api.router,
    voice_api.router,
    connectors_api.router,
    pages.router,  # HTML pages last: its /static/{path} route is a catch-all
]


# Start/stop hooks of background workers (sequencer, webhook processors, alert senders).
# Each is called with the app; areas append theirs here.
def start_webhooks(app: FastAPI) -> None:
    """The webhook worker of this process (any number may run: deliveries are leased)."""
    if not app.state.settings.webhooks_worker or getattr(app.state, "webhook_worker", None) is not None:
        return  # off, or the same app served twice (tests do): one worker, stopped once
    worker = webhook_worker.from_settings(app.state.db, app.state.settings)
    worker.start()
    app.state.webhook_worker = worker


def stop_webhooks(app: FastAPI) -> None:
    worker = getattr(app.state, "webhook_worker", None)
    if worker is not None:
        worker.stop()
        app.state.webhook_worker = None


STARTUP: list[Callable[[FastAPI], None]] = [
    tlog_sequencer.start,
    witness_submitter.start,  # after the sequencer: it wakes the submitter after each batch
    connector_worker.start,
    web_warmup.start,
    start_webhooks,
]
SHUTDOWN: list[Callable[[FastAPI], None]] = [
    tlog_sequencer.stop,
    witness_submitter.stop,
    connector_worker.stop,
    web_warmup.stop,
    stop_webhooks,
]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    for start in STARTUP:
        start(app)
    try:
        yield
    finally:
        for stop in reversed(SHUTDOWN):
            stop(app)
        app.state.db.dispose()


def create_app(settings: Settings | None = None, *, db: Database | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title="wefirst",
        version=__version__,
        summary="Brands' social promises, real and checkable.",
        lifespan=lifespan,
        dependencies=[Depends(deps.plain_params)],
    )
    app.state.settings = settings
    app.state.db = db or Database(settings)
    app.state.metrics = Metrics()
    app.state.metrics.queues.sources.update(queue_depths(app.state.db))
    app.state.key_touches = {}
    problems.install(app)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get(
        "/metrics",
        tags=["operations"],
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}}},
    )
    def metrics() -> Response:
        return Response(generate_latest(app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    for router in ROUTERS:
        app.include_router(router)

    app.add_middleware(Observe)
    return app


class Observe:
    """Counts, times and logs every request. A plain ASGI middleware: the decorator form
    (BaseHTTPMiddleware) costs a task and a stream per request on the hot click path."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            name = route.path if isinstance(route, APIRoute) else "unmatched"
            m: Metrics = scope["app"].state.metrics
            m.requests.labels(scope["method"], name, str(status)).inc()
            m.latency.labels(scope["method"], name).observe(elapsed)
            log.info(
                "request",
                extra={
                    "fields": {
                        "method": scope["method"],
                        "route": name,
                        "status": status,
                        "ms": round(elapsed * 1000, 2),
                    }
                },
            )


def queue_depths(db: Database) -> dict[str, Callable[[], int]]:
    """Rows waiting in each durable queue, read when /metrics is scraped."""
    from sqlalchemy import func, select

    from wefirst.store.schema import metadata

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

    depths = {"tlog": pending("tlog_entries", "idx")}
    if (
        "connector_deliveries" in metadata.tables
        and "processed_at" in metadata.tables["connector_deliveries"].c
    ):
        depths["connector_deliveries"] = pending("connector_deliveries", "processed_at")
    return depths


def create_app_from_env() -> FastAPI:
    """Entry point for `uvicorn --factory` worker processes."""
    return create_app(Settings())


class JsonFormatter(logging.Formatter):
    """One JSON object per line; request logs carry no client address or key."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        body.update(getattr(record, "fields", {}))
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body)


def configure_logging(json_logs: bool = True, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    if json_logs:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
