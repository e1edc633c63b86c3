from __future__ import annotations

from datetime import UTC, datetime

import httpx

from wefirst.voice.sources.rss import FeedFetcher, parse_feed

from factories import loopback_policy
from voice.voice_fakes import ASSETS, Recorded, fake_http

SALT = b"salt"
RSS = (ASSETS / "rss" / "blog_parents_rss2.xml").read_bytes()
ATOM = (ASSETS / "rss" / "dad_on_duty_atom.xml").read_bytes()


def test_rss_items_including_one_without_guid() -> None:
    posts = parse_feed(RSS, "https://blog-parents.example/feed/", SALT, "application/rss+xml")
    assert len(posts) == 3
    by_link = {p.url: p for p in posts}
    widget = by_link["https://blog-parents.example/2026/03/eau-potable-un-clic"]
    assert widget.external_id == "https://blog-parents.example/?p=812"
    assert widget.created_at == datetime(2026, 3, 14, 7, 30, tzinfo=UTC)  # +0100 → 07:30Z
    assert "P&G" in widget.text
    assert "<p>" not in widget.text
    assert widget.language == "fr"
    no_guid = by_link["https://blog-parents.example/2026/03/comparatif-couches"]
    assert no_guid.external_id == no_guid.url  # falls back to the link


def test_atom_entry() -> None:
    [post] = parse_feed(ATOM, "https://dad-on-duty.example/atom.xml", SALT, "application/atom+xml")
    assert post.external_id == "tag:dad-on-duty.example,2026-03-14:/posts/nappies-vaccines"
    assert post.text.startswith("Nappies that fund vaccines")
    assert "Pampers" in post.text
    assert post.language == "en"


def test_entry_without_guid_link_or_date_gets_a_stable_hash() -> None:
    xml = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
      <item><title>Pampers review</title></item><item><description></description></item>
      </channel></rss>"""
    now = datetime(2026, 3, 14, tzinfo=UTC)
    a = parse_feed(xml, "https://x.example/feed", SALT, now=now)
    b = parse_feed(xml, "https://x.example/feed", SALT, now=now)
    assert len(a) == 1
    assert a[0].external_id.startswith("sha256:")
    assert a[0].external_id == b[0].external_id
    assert a[0].created_at == now


def test_garbage_is_not_a_crash() -> None:
    assert parse_feed(b"\x00\x01 not xml at all", "u", SALT) == []


def test_fetcher_uses_etag_and_survives_errors() -> None:
    def feed(req: Recorded) -> tuple[int, dict[str, str], bytes]:
        if req.headers.get("If-None-Match") == '"v1"':
            return 304, {}, b""
        return 200, {"Content-Type": "application/rss+xml", "ETag": '"v1"'}, RSS

    with fake_http() as server:
        server.route("/feed", feed)
        server.route("/broken", lambda _r: (500, {}, b"oops"))
        fetcher = FeedFetcher(SALT, timeout=2, policy=loopback_policy())
        assert len(fetcher.fetch(server.url + "/feed")) == 3
        assert fetcher.fetch(server.url + "/feed") == []
        state = fetcher.states[server.url + "/feed"]
        assert (state.fetched, state.not_modified, state.etag) == (1, 1, '"v1"')
        assert fetcher.fetch(server.url + "/broken") == []
        assert fetcher.states[server.url + "/broken"].errors == ["HTTP 500"]
        fetcher.close()
    dead = FeedFetcher(SALT, client=httpx.Client(timeout=1))
    assert dead.fetch("http://127.0.0.1:9/feed") == []
    assert "ConnectError" in dead.states["http://127.0.0.1:9/feed"].errors[0]
    dead.close()
