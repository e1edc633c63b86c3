"""The widget's part of `wefirst demo`: the French sample blog on a second origin, embedding
the widget for the per-click water campaign, with a few clicks already decided (counted and
refused) so the publisher's figures and the brand's fraud report are not empty.

Wire-up (in `wefirst.demo.extra_steps`): `("widget sample blog", widget_demo_step)` with
`from wefirst.widget.demo import demo_step as widget_demo_step`. The blog must be served on
every run, so when the demo reuses an existing database call `serve_blog(ctx)` instead."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import select

from wefirst.store.tables_core import campaigns
from wefirst.widget import publishers as pubs
from wefirst.widget.demo_blog import DemoBlog, start_demo_blog
from wefirst.widget.service import ClickRequest, WidgetService

BLOG_HOST = "127.0.0.2"
BLOG_PORT = 8001
DEMO_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
_running: list[DemoBlog] = []


def _click_campaign(ctx: Any) -> str | None:
    """The demo's water campaign, or any active campaign with a per-click rule."""
    found = ctx.ids.get("water")
    if found:
        return str(found)
    with ctx.db.read() as conn:
        for row in conn.execute(
            select(campaigns.c.id, campaigns.c.definition)
            .where(campaigns.c.status == "active")
            .order_by(campaigns.c.seq)
        ):
            if any(r.get("kind") == "per_click" for r in row.definition.get("rules", [])):
                return str(row.id)
    return None


def serve_blog(ctx: Any, *, port: int = BLOG_PORT) -> DemoBlog | None:
    campaign_id = _click_campaign(ctx)
    if campaign_id is None:
        return None
    try:
        blog = start_demo_blog(
            ctx.db, ctx.base_url, campaign_id, host=BLOG_HOST, port=port, echo=lambda _line: None
        )
    except OSError:  # port taken (another demo running): any free port will do
        blog = start_demo_blog(
            ctx.db, ctx.base_url, campaign_id, host=BLOG_HOST, port=0, echo=lambda _line: None
        )
    _running.append(blog)
    ctx.urls["Sample blog (widget, second origin)"] = blog.url
    ctx.ids["publisher"] = blog.publisher_id
    return blog


def seed_clicks(
    ctx: Any, campaign_id: str, publisher_id: str, blog_origin: str, counted: int = 24
) -> dict[str, int]:
    """Real decisions through the widget service: readers who clicked, one who clicked twice,
    a copy of the widget on another site, a script without a challenge, a replayed challenge."""
    service = WidgetService.from_settings(ctx.db, ctx.settings)
    outcomes: dict[str, int] = {}

    def click(
        visitor: str,
        *,
        origin: str = blog_origin,
        fresh: bool = True,
        token: str | None = None,
        ua: str = DEMO_UA,
    ) -> str | None:
        if fresh and token is None:
            token = service.signer.issue(
                campaign_id=campaign_id,
                publisher_id=publisher_id,
                visitor=visitor,
                now_ms=service.clock() - 2_000,
            )
        result = service.click(
            ClickRequest(
                campaign_id,
                publisher_id,
                visitor,
                token,
                None,
                origin,
                None,
                ua,
                f"192.0.2.{len(outcomes) + 1}",
            )
        )
        outcomes[result.reason.value] = outcomes.get(result.reason.value, 0) + 1
        return token

    try:
        for i in range(counted):
            click(hashlib.sha256(f"demo-reader-{i}-{secrets.token_hex(4)}".encode()).hexdigest())
        twice = hashlib.sha256(b"demo-reader-who-clicks-twice").hexdigest()
        used = click(twice)
        click(twice, fresh=False, token=used)  # the same challenge again: replayed
        click(twice)  # a fresh challenge, same day: duplicate
        click(hashlib.sha256(b"copycat").hexdigest(), origin="https://copycat.example")
        click(hashlib.sha256(b"script").hexdigest(), fresh=False, ua="python-requests/2.32")
    finally:
        # This service is the seeding's own: its group-commit writer holds a pooled connection
        # until it idles out; stopped now, it hands it back while the pool is live (left
        # running, it gave it back to a pool the app had disposed meanwhile, and psycopg warned
        # "deleted while still open" in whatever test ran next).
        service.writer.stop()
    return outcomes


def stop_blogs() -> None:
    while _running:
        _running.pop().stop()


def demo_step(ctx: Any, *, port: int = BLOG_PORT) -> None:
    """Adapter for `wefirst.demo.extra_steps` (takes the demo's `DemoContext`)."""
    blog = serve_blog(ctx, port=port)
    if blog is None:
        return
    campaign_id = _click_campaign(ctx)
    assert campaign_id is not None
    with ctx.db.write() as conn:
        pubs.set_widget_settings(
            conn,
            campaign_id,
            pow_bits=0,
            # the counter shows what is promised, so its words never say "sent" (the widget
            # puts "Promised so far:" before the count)
            texts={
                "line": {
                    "fr": "Chaque clic finance une journée d'eau potable",
                    "en": "Every click funds a day of clean drinking water",
                },
            },
        )
    seed_clicks(ctx, campaign_id, blog.publisher_id, blog.url.rstrip("/"))
    ctx.urls["Fraud report (API)"] = f"{ctx.base_url}/v1/widget/campaigns/{campaign_id}/fraud-report"
