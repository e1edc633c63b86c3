"""The demo's second-origin blog: the page it serves and the publisher it registers."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import httpx

from wefirst.settings import Settings
from wefirst.widget import demo_blog
from wefirst.widget.demo import demo_step, stop_blogs
from wefirst.widget.publishers import fraud_report, get_publisher

from widget.widget_helpers import World


def test_serves_the_french_page_with_the_snippet(world: World) -> None:
    blog = demo_blog.serve("http://127.0.0.1:8000/", world.campaign_id, world.publisher_id)
    try:
        assert blog.url.startswith("http://127.0.0.2:")
        page = httpx.get(blog.url).text
        assert '<html lang="fr">' in page
        assert (
            f'<script src="http://127.0.0.1:8000/static/widget.js" '
            f'data-campaign="{world.campaign_id}" data-publisher="{world.publisher_id}" '
            f"async></script>"
        ) in page
        english = httpx.get(blog.url, params={"lang": "en", "campaign": '"><img src=x>'}).text
        assert 'data-lang="en" async' in english
        assert "<img" not in english
        assert httpx.get(blog.url + "etc/passwd").status_code == 404
    finally:
        blog.stop()


def test_start_demo_blog_registers_once_and_prints_the_url(world: World) -> None:
    printed: list[str] = []
    first = demo_blog.start_demo_blog(
        world.db, "http://127.0.0.1:8000", world.campaign_id, port=0, echo=printed.append
    )
    try:
        page = httpx.get(first.url).text
    finally:
        first.stop()
    assert f'data-publisher="{first.publisher_id}"' in page
    port = first.url.rsplit(":", 1)[1].strip("/")
    again = demo_blog.ensure_demo_publisher(world.db, world.campaign_id, "127.0.0.2:8001")
    assert again == first.publisher_id
    assert printed == [f"Sample blog with the widget (second origin): {first.url}"]
    with world.db.read() as conn:
        pub = get_publisher(conn, again)
    assert pub["name"] == "Le carnet de Camille"
    assert pub["domains"] == [f"127.0.0.2:{port}", "127.0.0.2:8001"]
    assert pub["campaigns"] == [world.campaign_id]
    assert demo_blog.ensure_demo_publisher(world.db, world.campaign_id, "127.0.0.2:8001") == again


def test_demo_step_serves_the_blog_and_seeds_real_decisions(world: World, settings: Settings) -> None:
    """With the wall clock (the demo's), so the campaign's dates must include today."""
    ctx = SimpleNamespace(
        db=world.db,
        settings=settings,
        base_url="http://127.0.0.1:8000",
        ids={"water": world.campaign_id},
        urls={},
    )
    try:
        demo_step(ctx, port=0)
        blog_url = ctx.urls["Sample blog (widget, second origin)"]
        page = httpx.get(blog_url).text
        assert f'data-publisher="{ctx.ids["publisher"]}"' in page
    finally:
        stop_blogs()
    today = datetime.now(UTC).date()
    with world.db.read() as conn:
        report = fraud_report(conn, world.campaign_id, start=today, end=today)
    assert report["by_reason"]["counted"] == 25
    assert report["by_reason"]["duplicate"] == 1
    assert report["by_reason"]["bad_challenge"] == 1
    assert report["by_reason"]["bad_origin"] == 1
    assert report["by_reason"]["automated"] == 1
    assert ctx.urls["Fraud report (API)"].endswith(f"/v1/widget/campaigns/{world.campaign_id}/fraud-report")
