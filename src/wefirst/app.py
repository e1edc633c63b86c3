"""The app factory. Everything a request needs is in the app's `Services` (wefirst.services),
built here from settings and started by the lifespan, so tests can build as many apps as they
like with different settings in one process."""

from __future__ import annotations

import hmac
import json
import logging
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, TextIO

from fastapi import Depends, FastAPI, Header, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from wefirst import __version__
from wefirst.api import (
    campaigns,
    deps,
    events,
    keys,
    parties,
    problems,
    publishers,
    purchases_batch,
    settlements,
    widget,
)
from wefirst.api import cases as cases_api
from wefirst.api import connectors as connectors_api
from wefirst.api import console_users as console_users_api
from wefirst.api import log as log_api
from wefirst.api import moderation as moderation_api
from wefirst.api import social as social_api
from wefirst.api import voice as voice_api
from wefirst.api.bodylimit import LARGER, BodyLimit
from wefirst.errors import Unauthorized
from wefirst.metrics import Metrics
from wefirst.services import Services, ServicesDep, attach, services_of
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.web import pages

log = logging.getLogger("wefirst.http")

ROUTERS = [
    widget.router,  # first: routes are matched in order, and widget clicks are the hottest path
    parties.router,
    campaigns.router,
    settlements.router,
    events.router,
    purchases_batch.router,
    keys.router,
    console_users_api.router,
    publishers.router,
    cases_api.router,
    moderation_api.router,
    log_api.router,
    social_api.router,
    voice_api.router,
    connectors_api.router,
    pages.router,  # HTML pages last: its /static/{path} route is a catch-all
]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    services_of(app).start()
    try:
        yield
    finally:
        services_of(app).stop()


def create_app(settings: Settings | None = None, *, db: Database | None = None) -> FastAPI:
    settings = settings or Settings()
    services = Services.build(settings, db)
    app = FastAPI(
        title="wefirst",
        version=__version__,
        summary="Brands' social promises, real and checkable.",
        lifespan=lifespan,
        dependencies=[Depends(deps.plain_params)],
        # /docs and /redoc are pages of ours (web/routes_docs.py): assets from the package, no CDN
        docs_url=None,
        redoc_url=None,
    )
    attach(app, services)
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
    def metrics(services: ServicesDep, authorization: Annotated[str | None, Header()] = None) -> Response:
        """Prometheus metrics; with the `metrics_key` setting, only for its bearer."""
        key = services.settings.metrics_key
        if key and not hmac.compare_digest((authorization or "").encode(), f"Bearer {key}".encode()):
            raise Unauthorized("/metrics needs `Authorization: Bearer <metrics key>`")
        return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    for router in ROUTERS:
        app.include_router(router)

    app.add_middleware(
        BodyLimit,
        default=settings.max_body_bytes,
        larger={suffix: getattr(settings, name) for suffix, name in LARGER.items()},
    )
    app.add_middleware(Observe, metrics=services.metrics)
    return app


class Observe:
    """Counts, times and logs every request. A plain ASGI middleware: the decorator form
    (BaseHTTPMiddleware) costs a task and a stream per request on the hot click path."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

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
            m = self.metrics
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


def create_app_from_env() -> FastAPI:
    """Entry point for `uvicorn --factory` worker processes: they check the production
    checklist too (uvicorn may be started without `wefirst serve`)."""
    from wefirst.checklist import require_safe

    settings = Settings()
    require_safe(settings, "the wefirst API worker")
    return create_app(settings)


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


class _CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted. A plain StreamHandler keeps
    the stream of the moment it was made; made inside a CLI runner (which swaps stderr for a
    capture it later closes), it then failed on every record of the process."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        """StreamHandler's constructor assigns the stream; the current one is always used."""


def configure_logging(json_logs: bool = True, level: int = logging.INFO) -> None:
    handler = _CurrentStderrHandler()
    if json_logs:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
