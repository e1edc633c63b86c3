"""The one Atom writer, read back with feedparser (a real Atom parser) and as XML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from xml.etree import ElementTree as ET

import feedparser

from wefirst import atom

NS = {"a": atom.ATOM_NS}


def test_feed_round_trips_through_a_real_atom_parser() -> None:
    paris = timezone(timedelta(hours=1))
    feed = atom.Feed(
        id="tag:wefirst.org,2026:test",
        title="Acme & Co <news>",
        self_url="https://w.example/f.atom",
        alternate_url="https://w.example/f",
        entries=[
            atom.Entry(
                id="tag:wefirst.org,2026:test/1",
                title="Prices < promises & more",
                updated=datetime(2026, 3, 1, 13, 0, 30, 999, tzinfo=paris),
                published=datetime(2026, 3, 1, 9, tzinfo=UTC),
                links=[atom.Link("https://w.example/1")],
                categories=["negative"],
                summary="Refunds & <script>alert(1)</script>",
            ),
            atom.Entry(
                id="tag:wefirst.org,2026:test/2",
                title="Second",
                updated=datetime(2026, 3, 2, 8, tzinfo=UTC),
                content="Plain text with <b>no</b> markup",
            ),
        ],
    )
    xml = atom.render(feed)
    assert xml.startswith(
        b'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"'
    )
    doc = feedparser.parse(xml)
    assert not doc.bozo, doc.get("bozo_exception")
    assert doc.version == "atom10"
    assert doc.feed.id == "tag:wefirst.org,2026:test"
    assert doc.feed.title == "Acme & Co <news>"
    assert doc.feed.updated == "2026-03-02T08:00:00Z"  # the newest entry
    assert doc.feed.author == "wefirst"
    assert {link.rel: link.href for link in doc.feed.links} == {
        "self": "https://w.example/f.atom",
        "alternate": "https://w.example/f",
    }
    first, second = doc.entries
    assert first.id == "tag:wefirst.org,2026:test/1"
    assert first.title == "Prices < promises & more"
    assert first.updated == "2026-03-01T12:00:30Z"  # to UTC, to the second
    assert first.published == "2026-03-01T09:00:00Z"
    assert first.link == "https://w.example/1"
    assert first.tags[0].term == "negative"
    # the summary is text: the markup arrives escaped, never as elements
    root = ET.fromstring(xml)  # noqa: S314 (our own output)
    summary = root.find("a:entry/a:summary", NS)
    assert summary is not None
    assert summary.text == "Refunds & <script>alert(1)</script>"
    assert root.find("a:entry/a:summary/script", NS) is None
    assert second.content[0].type == "text/plain"
    assert second.content[0].value == "Plain text with <b>no</b> markup"


def test_an_empty_feed_is_valid_atom() -> None:
    when = datetime(2026, 5, 1, tzinfo=UTC)
    doc = feedparser.parse(
        atom.render(atom.Feed(id="tag:x,2026:e", title="E", self_url="u", empty_updated=when))
    )
    assert not doc.bozo
    assert doc.entries == []
    assert doc.feed.updated == "2026-05-01T00:00:00Z"
