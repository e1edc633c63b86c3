"""The whole demo (`wefirst demo`) at a small scale, on its own SQLite file, served by uvicorn:
the site a new user meets. Tests that walk every page (sign-ins, labels, ids) share one per
module because seeding takes a few seconds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from wefirst import demo
from wefirst.app import create_app
from wefirst.auth.keys import create_key
from wefirst.settings import Settings
from wefirst.store import migrate
from wefirst.store.db import Database

from live_server import LiveServer
from web.web_helpers import with_pages

SCALE = 0.05


@dataclass
class DemoSite:
    url: str
    ctx: demo.DemoContext

    def password(self) -> str:
        """The console password the demo prints (made fresh for each demo)."""
        found = re.search(r"password (\S+)", self.ctx.urls["Consoles"])
        assert found is not None, self.ctx.urls
        return found.group(1)


@contextmanager
def demo_site(data_dir: Path) -> Iterator[DemoSite]:
    from wefirst.cases.demo import demo_step as cases_step
    from wefirst.ingest.connectors.demo import demo_step as connectors_step
    from wefirst.widget.demo import demo_step as widget_step
    from wefirst.widget.demo import stop_blogs

    settings = Settings(
        database_url=f"sqlite:///{data_dir / 'demo.db'}",
        secret_key="demo-secret-" + "x" * 32,
        data_dir=data_dir,
        webhooks_worker=False,
        demo_outbox=True,  # as `wefirst demo` runs with the memory mailer
        claims_max_age_hours=demo.DEMO_HISTORY_HOURS,  # as `wefirst demo` runs its server
    )
    db = Database(settings)
    migrate.upgrade(db)
    with db.write() as conn:
        admin_key, _ = create_key(conn, "admin", label="demo admin")
    app = with_pages(create_app(settings, db=db))
    with LiveServer(app, lifespan="on") as server:
        settings.base_url = server.url
        ctx = demo.DemoContext(settings, db, server.url, admin_key)
        try:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                demo.seed(ctx, http, SCALE)
            connectors_step(ctx)
            widget_step(ctx, port=0)
            demo.console_users(ctx)
            cases_step(ctx)
            yield DemoSite(server.url, ctx)
        finally:
            stop_blogs()
            db.dispose()
