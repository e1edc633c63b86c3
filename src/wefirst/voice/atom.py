"""The Atom feed (written by `wefirst.atom`) of a brand's mobilization episodes, for
journalists' feed readers.

An entry's id is a ``tag:`` URI built from the episode id, so it never changes when the episode
is updated (feed readers then update the entry instead of showing a new one), and ``updated``
moves when the episode grows or ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from wefirst import atom


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


def _title(brand_name: str, ep: FeedEpisode) -> str:
    kind = "Backlash against" if ep.polarity == "negative" else "Wave of praise for"
    state = "ongoing" if ep.end is None else "ended"
    ratio = ep.peak_count / max(ep.peak_expected, 0.5)
    return f"{kind} {brand_name} ({state}, peak {ep.peak_count} posts/h, {ratio:.1f}× baseline)"


def _summary(ep: FeedEpisode) -> str:
    parts = [
        f"Started {atom.timestamp(ep.start)}",
        f"ended {atom.timestamp(ep.end)}" if ep.end else "still open",
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
    entries = [
        atom.Entry(
            id=f"tag:{authority},2026:voice/{brand_id}/{ep.id}",
            title=_title(brand_name, ep),
            updated=ep.updated,
            published=ep.start,
            links=[atom.Link(f"{html_url.rstrip('/')}/{ep.id}")],
            categories=[ep.polarity],
            summary=_summary(ep),
        )
        for ep in episodes
    ]
    return atom.render(
        atom.Feed(
            id=f"tag:{authority},2026:voice/{brand_id}",
            title=f"{brand_name}: mobilization episodes",
            self_url=feed_url,
            alternate_url=html_url,
            author="wefirst voice",
            entries=entries,
        )
    )
