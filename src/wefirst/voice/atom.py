"""Atom feed (RFC 4287) of a brand's mobilization episodes, for journalists' feed readers.

An entry's id is a ``tag:`` URI built from the episode id, so it never changes when the episode
is updated (feed readers then update the entry instead of showing a new one), and ``updated``
moves when the episode grows or ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

ATOM_NS = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True, slots=True)
class FeedEpisode:
    id: str
    polarity: str
    start: datetime
    end: datetime | None
    peak_hour: datetime
    peak_count: int
    peak_expected: float
    posts: int
    expected: float
    updated: datetime
    top_terms: Sequence[str] = ()
    top_reasons: Sequence[str] = ()


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _title(brand_name: str, ep: FeedEpisode) -> str:
    kind = "Backlash against" if ep.polarity == "negative" else "Wave of praise for"
    state = "ongoing" if ep.end is None else "ended"
    ratio = ep.peak_count / max(ep.peak_expected, 0.5)
    return f"{kind} {brand_name} ({state}, peak {ep.peak_count} posts/h, {ratio:.1f}× baseline)"


def _summary(ep: FeedEpisode) -> str:
    parts = [
        f"Started {_ts(ep.start)}",
        f"ended {_ts(ep.end)}" if ep.end else "still open",
        f"{ep.posts} posts against {ep.expected:.1f} expected",
    ]
    text = "; ".join(parts) + "."
    if ep.top_terms:
        text += " Top terms: " + ", ".join(ep.top_terms) + "."
    if ep.top_reasons:
        text += " Main reasons: " + ", ".join(ep.top_reasons) + "."
    return text


def episodes_feed(
    *,
    brand_id: str,
    brand_name: str,
    feed_url: str,
    html_url: str,
    episodes: Sequence[FeedEpisode],
    authority: str = "wefirst.org",
) -> bytes:
    """Serialise the feed; ``episodes`` newest first. An empty feed is valid Atom too."""
    ET.register_namespace("", ATOM_NS)

    def el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            node.text = text
        return node

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    el(feed, "id", f"tag:{authority},2026:voice/{brand_id}")
    el(feed, "title", f"{brand_name}: mobilization episodes")
    updated = max((e.updated for e in episodes), default=datetime(2026, 1, 1, tzinfo=UTC))
    el(feed, "updated", _ts(updated))
    el(feed, "link", rel="self", href=feed_url, type="application/atom+xml")
    el(feed, "link", rel="alternate", href=html_url)
    author = el(feed, "author")
    el(author, "name", "wefirst voice")
    el(feed, "generator", "wefirst")
    for ep in episodes:
        entry = el(feed, "entry")
        el(entry, "id", f"tag:{authority},2026:voice/{brand_id}/{ep.id}")
        el(entry, "title", _title(brand_name, ep))
        el(entry, "updated", _ts(ep.updated))
        el(entry, "published", _ts(ep.start))
        el(entry, "link", rel="alternate", href=f"{html_url.rstrip('/')}/{ep.id}")
        el(entry, "category", term=ep.polarity)
        el(entry, "summary", _summary(ep))
    out: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return out
