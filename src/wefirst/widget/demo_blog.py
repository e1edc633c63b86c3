"""A French sample blog on a second origin that embeds the widget, for the demo and the browser
tests: the widget only shows its real behaviour (CORS, Origin checks, first-party storage) when
the page and the API are on different origins.

Demo use (after the API is up on `api_origin` and a campaign with a per-click rule exists):

    blog = start_demo_blog(db, "http://127.0.0.1:8000", campaign_id)   # prints the URL
    ...
    blog.stop()
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from wefirst.store.db import Database
from wefirst.store.tables_widget import publishers
from wefirst.widget import publishers as pubs

PAGE = Path(__file__).resolve().parents[1] / "web" / "static" / "demo-blog" / "index.html"
DEMO_PUBLISHER_NAME = "Le carnet de Camille"


def render_page(api_origin: str, campaign_id: str, publisher_id: str, *, lang: str | None = None) -> bytes:
    html = PAGE.read_text(encoding="utf-8")
    html = (
        html.replace("{{API_ORIGIN}}", escape(api_origin.rstrip("/")))
        .replace("{{CAMPAIGN_ID}}", escape(campaign_id))
        .replace("{{PUBLISHER_ID}}", escape(publisher_id))
    )
    if lang in ("fr", "en"):
        html = html.replace(" async></script>", f' data-lang="{lang}" async></script>', 1)
    return html.encode("utf-8")


@dataclass
class DemoBlog:
    url: str
    server: ThreadingHTTPServer
    thread: threading.Thread
    campaign_id: str
    publisher_id: str

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve(
    api_origin: str,
    campaign_id: str,
    publisher_id: str,
    *,
    host: str = "127.0.0.2",
    port: int = 0,
) -> DemoBlog:
    """Serves the page at `/` in a background thread. `/?campaign=cmp_…&lang=en` shows another
    campaign or language with the same publisher (the browser tests use it for each state)."""

    blog: DemoBlog | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            assert blog is not None
            parts = urlsplit(self.path)
            if parts.path not in ("/", "/index.html"):
                self.send_error(404)
                return
            query = parse_qs(parts.query)
            body = render_page(
                api_origin,
                query.get("campaign", [blog.campaign_id])[0][:40],
                query.get("publisher", [blog.publisher_id])[0][:40],
                lang=query.get("lang", [None])[0],
            )
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the demo's terminal is for the URLs."""

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="demo-blog", daemon=True)
    blog = DemoBlog(f"http://{host}:{server.server_address[1]}/", server, thread, campaign_id, publisher_id)
    thread.start()
    return blog


def ensure_demo_publisher(db: Database, campaign_id: str, domain: str) -> str:
    """The blog's publisher record, registered for `domain` and joined to the campaign (reused
    when the demo runs again on the same database)."""
    with db.write() as conn:
        row = conn.execute(select(publishers.c.id).where(publishers.c.name == DEMO_PUBLISHER_NAME)).first()
        if row is None:
            pub = pubs.create_publisher(conn, name=DEMO_PUBLISHER_NAME, domains=[domain])
            publisher_id = str(pub["id"])
        else:
            publisher_id = str(row.id)
            current = pubs.get_publisher(conn, publisher_id)
            if domain not in current["domains"]:
                pubs.update_publisher(conn, publisher_id, name=None, domains=[*current["domains"], domain])
        pubs.join_campaign(conn, publisher_id, campaign_id, approved=True)
    return publisher_id


def start_demo_blog(
    db: Database,
    api_origin: str,
    campaign_id: str,
    *,
    host: str = "127.0.0.2",
    port: int = 8001,
    echo: Callable[[str], None] = print,
) -> DemoBlog:
    """Serves the blog, registers the demo publisher for its `host:port` and prints its URL
    (`port=0` picks a free port)."""
    blog = serve(api_origin, campaign_id, "", host=host, port=port)
    try:
        blog.publisher_id = ensure_demo_publisher(db, campaign_id, f"{host}:{blog.server.server_address[1]}")
    except Exception:
        blog.stop()
        raise
    echo(f"Sample blog with the widget (second origin): {blog.url}")
    return blog
