"""The one Atom (RFC 4287) writer: every feed the product serves (voice episodes, cases) is
described as a `Feed` of `Entry`s and serialised here, so escaping, dates and the required
elements (id, title, updated; an author on the feed) are right once for all of them.

Entry ids are chosen by the caller and must never change for the same thing (`tag:` URIs):
feed readers then update an entry instead of showing it twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"


@dataclass(frozen=True)
class Link:
    href: str
    rel: str = "alternate"
    type: str | None = None


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    updated: datetime
    links: Sequence[Link] = ()
    published: datetime | None = None
    summary: str | None = None
    #: plain text (type="text"); readers show it instead of the summary
    content: str | None = None
    categories: Sequence[str] = ()


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    #: the feed's own address (rel="self"), which RFC 4287 recommends
    self_url: str
    entries: Sequence[Entry] = ()
    alternate_url: str | None = None
    author: str = "wefirst"
    generator: str | None = "wefirst"
    #: when the feed has no entries; otherwise the newest entry's `updated`
    empty_updated: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))


def timestamp(value: datetime) -> str:
    """RFC 3339 in UTC to the second (naive datetimes are taken as UTC)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _sub(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, f"{{{ATOM_NS}}}{name}", attrs)
    if text is not None:
        node.text = text
    return node


def _link(parent: ET.Element, link: Link) -> None:
    attrs = {"rel": link.rel, "href": link.href}
    if link.type:
        attrs["type"] = link.type
    _sub(parent, "link", **attrs)


def render(feed: Feed) -> bytes:
    """The feed as UTF-8 XML with its declaration; `updated` is the newest entry's."""
    root = ET.Element(f"{{{ATOM_NS}}}feed")
    _sub(root, "id", feed.id)
    _sub(root, "title", feed.title)
    _sub(root, "updated", timestamp(max((e.updated for e in feed.entries), default=feed.empty_updated)))
    _link(root, Link(feed.self_url, "self", "application/atom+xml"))
    if feed.alternate_url:
        _link(root, Link(feed.alternate_url))
    author = _sub(root, "author")
    _sub(author, "name", feed.author)
    if feed.generator:
        _sub(root, "generator", feed.generator)
    for e in feed.entries:
        entry = _sub(root, "entry")
        _sub(entry, "id", e.id)
        _sub(entry, "title", e.title)
        _sub(entry, "updated", timestamp(e.updated))
        if e.published is not None:
            _sub(entry, "published", timestamp(e.published))
        for link in e.links:
            _link(entry, link)
        for term in e.categories:
            _sub(entry, "category", term=term)
        if e.summary is not None:
            _sub(entry, "summary", e.summary)
        if e.content is not None:
            _sub(entry, "content", e.content, type="text")
    ET.register_namespace("", ATOM_NS)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body
